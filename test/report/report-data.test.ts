import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';
import { buildReportData, writeReport } from '../../src/report/build.js';
import { addDetection, emptyCounts, groundTruthTokens, quality } from '../../src/method/detection.js';
import { inlineJson, renderReportHtml } from '../../src/report/html.js';
import { readMined, readTruth } from '../../src/report/mined.js';
import { modelFingerprint } from '../../src/model/fingerprint.js';
import { loadPretrained } from '../../src/model/pretrained.js';
import { writeReportFixture } from '../helpers/report-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('report data', () => {
  test('token-level detection counts (hand-computed)', () => {
    // Tokens [0,3) [4,7) [8,9) [10,14); ground truth [4,9) → tokens 1 and 2; flagged 0 and 1.
    const tokens = [{ start: 0, end: 3 }, { start: 4, end: 7 }, { start: 8, end: 9 }, { start: 10, end: 14 }];
    assert.deepEqual(groundTruthTokens(tokens, [{ start: 4, end: 9 }]), [false, true, true, false]);
    const c = addDetection(emptyCounts(), tokens, [0, 1], [{ start: 4, end: 9 }]);
    assert.deepEqual(c, { tp: 1, fp: 1, fn: 1, tokens: 4, positives: 2, problems: 1 });
    addDetection(c, tokens, [3], []);
    const q = quality(c);
    assert.equal(q.precision, 1 / 3);
    assert.equal(q.recall, 1 / 2);
    assert.ok(Math.abs(q.f1 - 0.4) < 1e-12);
    assert.deepEqual(quality(emptyCounts()), { ...emptyCounts(), precision: 0, recall: 0, f1: 0 });
  });

  test('ground truth is read as leaf mine reads it: distractor_spans in JSONL, GSM-IC in a JSON array', () => {
    const leafFile = join(tmp, 'truth.jsonl');
    writeFileSync(leafFile, JSON.stringify({ id: 'a', prompt: 'Tom has 3 pens. Ann is 9. How many pens?', response: '3', answer: '3', distractor_spans: [[16, 25]] }) + '\n');
    const a = readTruth(leafFile).get('a')!;
    assert.deepEqual(a.distractors, [{ start: 16, end: 25, text: 'Ann is 9.' }]);
    const gsmFile = join(tmp, 'gsm-ic.json');
    writeFileSync(gsmFile, JSON.stringify([{
      original_question: 'Tom has 3 pens. How many pens does Tom have?', new_question: 'Tom has 3 pens. Ann is 9 years old. How many pens does Tom have?',
      answer: 3, n_steps: 1, role: 'Ann', number: '9', sentence_template: '{role} is {number} years old.', role_label: 'overlapped', number_label: 'in_range', sentence_label: 'in_topic',
    }]));
    const g = [...readTruth(gsmFile).values()];
    assert.equal(g.length, 1);
    assert.equal(g[0].answer, '3');
    assert.deepEqual(g[0].distractors!.map((d) => d.text.trim()), ['Ann is 9 years old.']);
  });

  test('inline JSON cannot close the script element or break the page', () => {
    const evil = { s: '</script><script>alert(1)</script> & \u2028 \u2029' };
    const j = inlineJson(evil);
    assert.ok(!/[<>&\u2028\u2029]/.test(j));
    assert.deepEqual(JSON.parse(j), evil);
  });

  test('from a mining output: problems, ground truth, detection and sweep tables, curves, attention', () => {
    const fx = writeReportFixture(join(tmp, 'fx'));
    const data = buildReportData({
      mined: fx.mined, runs: fx.runs.map((dir) => ({ label: dir, group: dir, dir })), attentionFrom: { student: null, runs: [] },
      attention: [{ label: 'after', dir: fx.models.after }],
    });
    // The problems file is found through the mining summary.
    assert.equal(data.problems.length, fx.records.length);
    assert.deepEqual(data.problems[0].distractors, fx.records[0].distractors);
    // The fixture flags exactly the first distractor's tokens (gradient and random alike): precision 1,
    // recall = tokens of the first distractors / tokens of all distractors.
    const tok = LeafTokenizer.load(join(fx.models.before));
    const count = (s: string) => tok.encode(s, { addSpecialTokens: false }).ids.length;
    const first = fx.records.reduce((a, r) => a + count(r.distractors[0].text), 0);
    const all = fx.records.reduce((a, r) => a + r.distractors.reduce((b, d) => b + count(d.text), 0), 0);
    const det = data.tables.find((t) => t.id === 'detection')!;
    assert.deepEqual(det.rows.map((r) => r[0]), ['gradient', 'random']);
    assert.equal(det.rows[0][1], 100);
    assert.equal(det.rows[0][2], Number((100 * first / all).toFixed(1)));
    assert.equal(det.rows[0][4], first);
    assert.equal(det.rows[0][5], all);
    const cf = data.tables.find((t) => t.id === 'counterfactuals')!;
    assert.deepEqual(cf.rows, [['gradient', 'instruction', 4, 4, 0, 0], ['random', 'instruction', 4, 0, 4, 0]]);
    assert.ok(data.tables.some((t) => t.id === 'sweep'));
    assert.equal(data.curves[0].series.length, 2);
    assert.deepEqual(data.curves[0].series[0].points[0], [1, 2]);
    // Attention: the "before" model found from the mining summary, then the explicit one.
    const a = data.problems[0].attention!;
    assert.deepEqual(a.models.map((m) => m.label), ['after', 'student before']);
    assert.equal(a.tokens.length, count(fx.records[0].prompt));
    assert.equal(a.models[0].weights.length, 2);
    for (const layer of a.models[0].weights) for (const head of layer) {
      assert.equal(head.length, a.tokens.length);
      assert.ok(head.every((x) => x >= 0) && head.reduce((s, x) => s + x, 0) <= 1 + 1e-6);
    }
    const html = renderReportHtml(data);
    assert.ok(!/(src|href)="https?:/.test(html), 'no external assets');
    assert.ok(html.includes('<script id="leaf-data" type="application/json">'));
  });

  test('bad input: a missing scores.jsonl and a malformed line are named', () => {
    assert.throws(() => readMined(join(tmp, 'nowhere')), /scores\.jsonl: missing/);
    const fx = writeReportFixture(join(tmp, 'fx2'), 2);
    const f = join(fx.mined, 'scores.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8') + '{"id": "x", "source_id": "y", "level": "instruction", "method": "gradient", "text": "ab", "tokens": [{"text": "ab", "start": 0, "end": 9}], "diff": [0], "candidates": []}\n');
    const m = readMined(fx.mined);
    assert.equal(m.warnings.length, 1);
    assert.match(m.warnings[0], /scores\.jsonl:5: tokens\[0\] ends at 9, after the text/);
    const out = join(tmp, 'r.html');
    const data = writeReport({ out, mined: fx.mined });
    assert.ok(data.notes.some((n) => n.includes('scores.jsonl:5')));
  });

  test('leaf report CLI: writes the file, finds the models; a missing folder is one line, exit 1', () => {
    const fx = writeReportFixture(join(tmp, 'fx3'), 2);
    const out = join(tmp, 'cli.html');
    const cli = join(repoRoot, 'dist/src/cli/main.js');
    const stdout = execFileSync(process.execPath, [cli, 'report', '--mined', fx.mined, '--run', fx.runs[0], '--out', out], { encoding: 'utf8' });
    assert.match(stdout, /wrote .*cli\.html: 2 problems, \d+ tables, \d charts/);
    assert.ok(existsSync(out));
    const html = readFileSync(out, 'utf8');
    assert.ok(html.includes('"label":"student before"'), 'the mined student drawn as "before"');
    const bad = spawnSync(process.execPath, [cli, 'report', '--mined', join(tmp, 'none'), '--out', out], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^leaf: --mined .*none: no such folder$/m);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    // Folders named on the command line must exist: a typo is an error, not a note inside the page.
    for (const [flag, dir] of [['--run', join(tmp, 'no-run')], ['--student', join(tmp, 'no-student')]]) {
      const r = spawnSync(process.execPath, [cli, 'report', '--mined', fx.mined, flag, dir, '--out', join(tmp, 'x.html')], { encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim(), `leaf: ${flag} ${dir}: no such folder`);
      assert.ok(!existsSync(join(tmp, 'x.html')));
    }
    // A malformed line of the mining output is skipped and said on stderr, not only inside the page.
    appendFileSync(join(fx.mined, 'scores.jsonl'), '{not json\n');
    const warned = spawnSync(process.execPath, [cli, 'report', '--mined', fx.mined, '--out', join(tmp, 'w.html')], { encoding: 'utf8' });
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(warned.stderr, /^leaf: warning: skipped .*scores\.jsonl:\d+: invalid JSON/m);
    const empty = spawnSync(process.execPath, [cli, 'report', '--mined', join(tmp, 'fx3'), '--out', join(tmp, 'x.html')], { encoding: 'utf8' });
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /^leaf: .*scores\.jsonl: missing/);
  });

  test('--student must be the mining run\'s student (run.json fingerprint); --allow-other-student draws another one, labelled', () => {
    const fx = writeReportFixture(join(tmp, 'fx-student'), 2);
    const cli = join(repoRoot, 'dist/src/cli/main.js');
    const report = (...args: string[]) => spawnSync(process.execPath, [cli, 'report', '--mined', fx.mined, ...args], { encoding: 'utf8' });
    // What leaf mine records: the first 16 hex digits of the student's fingerprint.
    const weights = modelFingerprint(loadPretrained(fx.models.before).model).slice(0, 16);
    writeFileSync(join(fx.mined, 'run.json'), JSON.stringify({ identity: { student: fx.models.before, student_weights: weights } }));
    const same = report('--student', fx.models.before, '--out', join(tmp, 's1.html'));
    assert.equal(same.status, 0, same.stderr);
    assert.ok(readFileSync(join(tmp, 's1.html'), 'utf8').includes('"label":"student before"'));
    const other = report('--student', fx.models.after, '--out', join(tmp, 's2.html'));
    assert.equal(other.status, 1, other.stderr);
    assert.match(other.stderr, /^leaf: --student .*after is not the student of the mining run .*\(weights fingerprint [0-9a-f]{16}, run\.json has [0-9a-f]{16}\); .*--allow-other-student/);
    assert.equal(other.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(join(tmp, 's2.html')));
    const allowed = report('--student', fx.models.after, '--allow-other-student', '--out', join(tmp, 's3.html'));
    assert.equal(allowed.status, 0, allowed.stderr);
    const html = readFileSync(join(tmp, 's3.html'), 'utf8');
    assert.ok(html.includes('"label":"other student (not the mined one)"') && !html.includes('"label":"student before"'));
    // The summary's student folder replaced by another model since mining: refused too.
    writeFileSync(join(fx.mined, 'run.json'), JSON.stringify({ identity: { student_weights: 'ffffffffffffffff' } }));
    const stale = report('--out', join(tmp, 's4.html'));
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /^leaf: the summary's student folder .* is not the student of the mining run/);
  });
});
