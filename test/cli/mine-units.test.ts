import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mine, type MineOptions } from '../../src/method/mine.js';
import { cutSpans } from '../../src/method/spans.js';
import { tinyPretrained } from '../helpers/tiny-mining.js';
import { repoRoot } from '../helpers/paths.js';

const readJsonl = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
const minmax = (xs: number[]) => {
  const lo = Math.min(...xs), hi = Math.max(...xs);
  return xs.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
};
const overlaps = (t: { start: number; end: number }, r: { start: number; end: number }) => t.start < r.end && t.end > r.start;

/**
 * Sentence units, protected text, the oracle, detection and the verification modes, end to end on
 * random tiny byte-level models (the teacher's answers given, so every problem is selected). The
 * scores depend on the weights, so every expectation is recomputed from the records by the rules.
 */
describe('leaf mine: sentence units, protected text, oracle, detection, verification modes', () => {
  let dir = '';
  const student = tinyPretrained('qwen2-bytelevel', 31, { layers: 1 });
  const teacher = tinyPretrained('qwen2-bytelevel', 32, { layers: 1 });
  const problems = [
    { prompt: 'Tom has 4 apples. Ann is 7 years old. Then Tom buys 3 more apples. How many apples does Tom have now?', truth: 'Ann is 7 years old.' },
    { prompt: 'Mia has 9 pens. The park has 5 trees. Mia gives 2 pens to Leo. It rained for 3 days. How many pens does Mia have?', truth: 'The park has 5 trees.|It rained for 3 days.' },
    { prompt: 'Sam finds 2 shells. Sam finds 4 shells. How many shells?', truth: '' },
  ].map((p, i) => {
    const spans = p.truth === '' ? [] : p.truth.split('|').map((t) => [p.prompt.indexOf(t), p.prompt.indexOf(t) + t.length]);
    return { id: `q${i}`, prompt: p.prompt, answer: '7', response: '4 + 3 = 7. So \\boxed{7}.', distractor_spans: spans };
  });
  let data = '', given = '';
  const opts = (out: string, extra: Partial<MineOptions>): MineOptions => ({
    teacher, student, data, out: join(dir, out), teacherOutputs: given, maxNewTokens: 6, fsync: false, unit: 'sentence', protectLastSentence: true, ...extra,
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-mine-units-'));
    data = join(dir, 'in.jsonl');
    given = join(dir, 'teacher.jsonl');
    writeFileSync(data, problems.map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(given, problems.map((p) => JSON.stringify({ id: p.id, response: p.response })).join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gradient, sentence unit: D over the unprotected tokens, unit means, the question never cut; teacher-only verification', async () => {
    const s = await mine(opts('grad', { topUnits: 1, verify: 'teacher' }));
    assert.equal(s.counts.selected, problems.length, 'the random student must be wrong on every problem');
    assert.equal(s.settings.unit, 'sentence');
    assert.equal(s.settings.verify, 'teacher');
    const scores = readJsonl(join(dir, 'grad', 'scores.jsonl'));
    for (const r of scores) {
      const p = problems.find((x) => x.id === r.source_id)!;
      const question = p.prompt.slice(p.prompt.indexOf('How'));
      const q = { start: p.prompt.length - question.length, end: p.prompt.length };
      const prot = r.tokens.map((_: unknown, i: number) => i).filter((i: number) => overlaps(r.tokens[i], q));
      assert.deepEqual(r.protected, prot, `${r.id}: the question's tokens are protected`);
      assert.ok(prot.length > 0);
      // D recomputed from the stored normalised scores over the unprotected tokens only.
      const keep = r.tokens.map((_: unknown, i: number) => i).filter((i: number) => !prot.includes(i));
      const d = minmax(keep.map((i: number) => r.teacher[i] - r.student[i]));
      keep.forEach((i: number, j: number) => assert.ok(Math.abs(r.diff[i] - d[j]) < 1e-6, `${r.id}: D[${i}]`));
      for (const i of prot) assert.ok(!r.candidates.includes(i));
      // Units: the sentences before the question, each scored by its tokens' mean D; the lowest one flagged.
      assert.ok(r.units.every((u: any) => u.end <= q.start));
      for (const u of r.units) {
        const own = keep.filter((i: number) => { let f = r.tokens[i].start; while (f < r.tokens[i].end && /\s/.test(r.text[f])) f++; return f < r.tokens[i].end && f >= u.start && f < u.end; });
        const mean = own.reduce((a: number, i: number) => a + r.diff[i], 0) / own.length;
        assert.ok(Math.abs(u.score - mean) < 1e-9, `${r.id}: unit [${u.start}, ${u.end}) score`);
      }
      const lowest = Math.min(...r.units.map((u: any) => u.score));
      assert.deepEqual(r.units.filter((u: any) => u.flagged).map((u: any) => u.score), [lowest]);
      assert.deepEqual(r.spans.map((x: any) => [x.start, x.end]), r.units.filter((u: any) => u.flagged).map((u: any) => [u.start, u.end]));
    }
    const cfs = readJsonl(join(dir, 'grad', 'counterfactuals.jsonl'));
    assert.equal(cfs.length, problems.length, 'one counterfactual per flagged sentence');
    for (const c of cfs) {
      assert.ok(c.prompt.endsWith(c.original_prompt.slice(c.original_prompt.indexOf('How'))), 'the question is kept');
      assert.equal(c.student, null, 'teacher-only verification does not ask the student');
      assert.equal(c.verified, c.teacher.correct);
    }
    // Detection is reported for any method when the records have ground truth; recomputed here at unit level.
    let tp = 0, fp = 0, fn = 0;
    for (const r of scores) {
      const p = problems.find((x) => x.id === r.source_id)!;
      const truth = p.distractor_spans.map(([a, b]) => ({ start: a, end: b }));
      for (const u of r.units) {
        const pos = truth.some((t) => overlaps(u, t));
        if (u.flagged && pos) tp++;
        else if (u.flagged) fp++;
        else if (pos) fn++;
      }
    }
    assert.deepEqual([s.detection!.unit.tp, s.detection!.unit.fp, s.detection!.unit.fn], [tp, fp, fn]);
    assert.equal(s.detection!.problems, problems.length);
  });

  it('oracle: exactly the ground-truth sentences cut, one counterfactual each; precision and recall 1', async () => {
    const s = await mine(opts('oracle', { method: 'oracle', verify: 'none' }));
    const cfs = readJsonl(join(dir, 'oracle', 'counterfactuals.jsonl'));
    const want = problems.flatMap((p) => p.distractor_spans.map(([a, b]) => cutSpans(p.prompt, [{ start: a, end: b }]).text));
    assert.deepEqual(cfs.map((c) => c.prompt), want);
    assert.ok(cfs.every((c) => c.verified === null && c.student === null && c.teacher === null));
    const d = s.detection!;
    assert.deepEqual([d.token.precision, d.token.recall, d.unit.precision, d.unit.recall], [1, 1, 1, 1]);
    assert.equal(s.counts.unitsWithoutCandidates, 1, 'the problem without distractors');
  });

  it('random sentences at the gradient budget; verification by both models', async () => {
    await mine(opts('grad2', { topUnits: 2, verify: 'none' }));
    await mine(opts('rand2', { topUnits: 2, method: 'random', verify: 'both', verifyEquations: true }));
    const g = readJsonl(join(dir, 'grad2', 'scores.jsonl')), r = readJsonl(join(dir, 'rand2', 'scores.jsonl'));
    r.forEach((x, i) => assert.equal(x.units.filter((u: any) => u.flagged).length, g[i].units.filter((u: any) => u.flagged).length));
    for (const c of readJsonl(join(dir, 'rand2', 'counterfactuals.jsonl'))) {
      const eq = (a: any) => a.correct && a.response.replace(/\s/g, '').includes('4+3=7') && (a.response.match(/=/g) ?? []).length === 1;
      assert.equal(c.verified, eq(c.student) && eq(c.teacher));
    }
  });

  it('--student-weight w: D = minmax(ĝ_T − w·ĝ_S) over the unprotected tokens; recorded; a resume with another w is refused', async () => {
    const s = await mine(opts('w', { topUnits: 1, verify: 'teacher', studentWeight: 0.25 }));
    assert.equal(s.settings.studentWeight, 0.25);
    for (const r of readJsonl(join(dir, 'w', 'scores.jsonl'))) {
      const keep = r.tokens.map((_: unknown, i: number) => i).filter((i: number) => !r.protected.includes(i));
      const d = minmax(keep.map((i: number) => r.teacher[i] - 0.25 * r.student[i]));
      keep.forEach((i: number, j: number) => assert.ok(Math.abs(r.diff[i] - d[j]) < 1e-6, `${r.id}: D[${i}]`));
    }
    await assert.rejects(mine(opts('w', { topUnits: 1, verify: 'teacher', studentWeight: 1, resume: true })), /--resume with a different studentWeight/);
    await assert.rejects(mine(opts('w2', { studentWeight: -1 })), /--student-weight must be ≥ 0/);
  });

  it('a GSM-IC release file: the oracle cuts the inserted sentence; detection per role / number / sentence label', async () => {
    const file = join(repoRoot, 'test/fixtures/eval/gsm-ic-2step.json');
    const records = JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, string>>;
    const outputs = join(dir, 'gsm-ic-teacher.jsonl');
    writeFileSync(outputs, records.map((r, i) => JSON.stringify({ id: `gsm-ic/${i}`, response: `\\boxed{${r.answer}}` })).join('\n') + '\n');
    const s = await mine({ ...opts('gsm-ic', { method: 'oracle', verify: 'none' }), data: file, teacherOutputs: outputs });
    assert.equal(s.counts.selected, records.length);
    const d = s.detection!;
    assert.deepEqual([d.problems, d.unit.precision, d.unit.recall], [records.length, 1, 1]);
    for (const field of ['role_label', 'number_label', 'sentence_label']) {
      const values = [...new Set(records.map((r) => String(r[field])))].sort();
      assert.deepEqual(Object.keys(d.byLabel![field]), values, field);
      for (const v of values) {
        const g = d.byLabel![field][v];
        assert.equal(g.problems, records.filter((r) => String(r[field]) === v).length, `${field}=${v}`);
        assert.deepEqual([g.unit.precision, g.unit.recall, g.token.precision, g.token.recall], [1, 1, 1, 1]);
      }
    }
    for (const c of readJsonl(join(dir, 'gsm-ic', 'counterfactuals.jsonl'))) {
      const r = records[Number(String(c.source_id).split('/')[1])];
      assert.equal(c.prompt.replace(/\s+/g, ' ').trim(), r.original_question.replace(/\s+/g, ' ').trim(), 'the inserted sentence is what the oracle removes');
    }
  });

  it('bad combinations are one-line errors', async () => {
    await assert.rejects(mine(opts('x', { unit: 'token', topUnits: 2 })), /--top-units needs --unit sentence/);
    await assert.rejects(mine(opts('x', { level: 'response', method: 'oracle', protectLastSentence: false })), /oracle .* needs --level instruction/);
    await assert.rejects(mine(opts('x', { verify: 'none', verifyEquations: true })), /--verify-equations needs verification/);
    writeFileSync(join(dir, 'bad.jsonl'), JSON.stringify({ ...problems[0], distractor_spans: [[5, 999]] }) + '\n');
    await assert.rejects(mine({ ...opts('x2', {}), data: join(dir, 'bad.jsonl'), strict: true }), /distractor_spans\[0\] = \[5, 999\] is not a range of the prompt/);
  });
});
