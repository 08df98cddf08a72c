import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from '../../src/model/generate.js';
import { loadPretrained, type Pretrained } from '../../src/model/pretrained.js';
import { generateText } from '../../src/model/text-generation.js';
import { minMax, quantileThreshold } from '../../src/method/normalize.js';
import { inputSaliency } from '../../src/method/saliency.js';
import { encodeUnit } from '../../src/method/units.js';
import { repoRoot } from '../helpers/paths.js';
import { makeResponder } from '../helpers/tiny-responder.js';
import { dataLines, GIVEN_RESPONSE, makeMiningFixture, PROBLEMS, STUDENT, withoutWord, type MiningFixture } from '../helpers/mining-fixture.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
function leaf(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const readJsonl = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
/*
 * What the fixture's models were trained to answer fixes the verdicts (makeResponder checks that
 * greedy decoding gives them); what the scores are depends on the trained weights down to float
 * rounding, so counts of candidates, spans and counterfactuals are never constants here: they are
 * recomputed from the scores (themselves recomputed from the models) by the rules, independently.
 */
const right = (p: (typeof PROBLEMS)[number]) => ({ student: String(STUDENT[p.prompt]) === String(p.answer), teacher: String(p.answer) === '7' });
const SELECTED = PROBLEMS.filter((p) => !right(p).student && right(p).teacher).map((p) => p.id);
/** Whether both models are right on a prompt with its word `cut` removed (trained); null for other cuts. */
const expectVerified = (id: string, cut: [number, number]) => (cut[1] - cut[0] !== 1 ? null : id === 'p1' ? true : id === 'p2' ? false : cut[0] === 0);
/** Maximal runs [a, b) of consecutive indices (computed here, not by the code under test). */
const runsOf = (idx: readonly number[]) => {
  const out: Array<[number, number]> = [];
  for (const i of [...idx].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last[1] === i) last[1]++;
    else out.push([i, i + 1]);
  }
  return out;
};
/** The indices of the k lowest values of `v` (ties: lower index first), ascending. */
const lowest = (v: readonly number[], k: number) => v.map((_, i) => i).sort((a, b) => v[a] - v[b] || a - b).slice(0, k).sort((a, b) => a - b);
/** A word prompt without the words at indices `drop`, as pruning cuts it. */
const withoutWords = (prompt: string, drop: (j: number) => boolean) => prompt.split(' ').filter((_, j) => !drop(j)).join(' ');

describe('leaf mine end to end on tiny trained models', () => {
  let dir = '';
  let fx: MiningFixture;
  let student: Pretrained, teacher: Pretrained;
  const base = (out: string, ...extra: string[]) => ['mine', '--teacher', fx.teacher, '--student', fx.student, '--data', fx.data, '--out', join(dir, out), '--max-new-tokens', '12', '--batch-size', '3', ...extra];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-mine-'));
    fx = makeMiningFixture(dir);
    student = loadPretrained(fx.student);
    teacher = loadPretrained(fx.teacher);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('instruction level, gradient: selection, scores, pruned prompts, verification, summary', () => {
    const r = leaf(...base('instr'));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(SELECTED, ['p1', 'p2', 'p5']); // the fixture's design
    // Malformed lines: reported with their line numbers, skipped, counted.
    assert.match(r.err, /warning: skipped .*train\.jsonl:3: field 'prompt' must be a string/);
    assert.match(r.err, /warning: skipped .*train\.jsonl:6: invalid JSON/);
    const out = join(dir, 'instr');

    // Selection generations: what the models were trained to say, judged.
    const gens = readJsonl(join(out, 'generations.jsonl'));
    for (const p of PROBLEMS) {
      const s = gens.find((g) => g.model === 'student' && g.stage === 'select' && g.source_id === p.id)!;
      const t = gens.find((g) => g.model === 'teacher' && g.stage === 'select' && g.source_id === p.id)!;
      assert.equal(s.response, `So the answer is ${STUDENT[p.prompt]}.`);
      assert.equal(t.response, 'So the answer is 7.');
      assert.equal(s.correct, String(STUDENT[p.prompt]) === String(p.answer));
      assert.equal(t.correct, String(p.answer) === '7');
    }

    // Scores: one record per selected problem; gradient scores recomputed here from the models.
    const scores = readJsonl(join(out, 'scores.jsonl'));
    assert.deepEqual(scores.map((s) => s.source_id), SELECTED);
    for (const s of scores) {
      const p = PROBLEMS.find((x) => x.id === s.source_id)!;
      const response = p.response ?? 'So the answer is 7.';
      assert.equal(s.id, `${p.id}/instruction/gradient`);
      assert.equal(s.level, 'instruction');
      assert.equal(s.segment, null);
      assert.equal(s.text, p.prompt);
      assert.deepEqual(s.tokens.map((t: any) => t.text), p.prompt.split(' '));
      for (const t of s.tokens) assert.equal(p.prompt.slice(t.start, t.end), t.text);
      const se = encodeUnit(student, p.prompt, response, { level: 'instruction' });
      const te = encodeUnit(teacher, p.prompt, response, { level: 'instruction' });
      const sr = inputSaliency(student.model, se.ids, se.positions, se.lossPositions);
      const tr = inputSaliency(teacher.model, te.ids, te.positions, te.lossPositions);
      const gS = minMax(sr.norms), gT = minMax(tr.norms);
      const D = minMax(gT.map((x, i) => x - gS[i]));
      const near = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-5, `${p.id}: ${a} vs ${b}`));
      near(s.student, gS);
      near(s.teacher, gT);
      near(s.diff, D);
      assert.ok(Math.abs(s.loss.student - sr.loss) < 1e-5 && Math.abs(s.loss.teacher - tr.loss) < 1e-5);
      assert.equal(s.threshold, quantileThreshold(s.diff, 0.1));
      assert.equal(s.threshold, [...s.diff].sort((a: number, b: number) => a - b)[0]); // ⌊3 · 0.1⌋ = 0: the minimum, 0
      assert.deepEqual(s.candidates, s.diff.map((d: number, i: number) => (d <= s.threshold ? i : -1)).filter((i: number) => i >= 0));
      // Three tokens, none protected, D rescaled to [0, 1]: the D = 0 token(s) flagged, never the D = 1 one.
      assert.equal(Math.min(...s.diff), 0);
      assert.equal(Math.max(...s.diff), 1);
      assert.ok(s.candidates.length >= 1 && s.candidates.length <= 2, `${p.id}: ${s.diff}`);
      assert.deepEqual(s.spans, runsOf(s.candidates).map(([a, b]) => ({ start: s.tokens[a].start, end: s.tokens[b - 1].end, text: p.prompt.slice(s.tokens[a].start, s.tokens[b - 1].end), tokens: [a, b] })));
    }

    // Counterfactuals: the prompt without the flagged words; verified exactly when both models are right on it.
    const cfs = readJsonl(join(out, 'counterfactuals.jsonl'));
    // One counterfactual per span (none can be cut to nothing: the D = 1 word stays), in order.
    const expected = scores.flatMap((s) => runsOf(s.candidates).map((run, i) => ({ id: `${s.source_id}/instruction/gradient/span-${i}`, run })));
    assert.deepEqual(cfs.map((x) => x.id), expected.map((x) => x.id));
    for (const [k, cf] of cfs.entries()) {
      const p = PROBLEMS.find((x) => x.id === cf.source_id)!;
      const [a, b] = expected[k].run;
      assert.equal(cf.prompt, withoutWords(p.prompt, (j) => j >= a && j < b));
      assert.equal(cf.original_prompt, p.prompt);
      assert.equal(cf.response_prefix, null);
      assert.equal(cf.response, p.response ?? 'So the answer is 7.'); // the given response, else the teacher's
      assert.equal(cf.pruning, 'span');
      assert.equal(cf.answer, p.answer);
      let rebuilt = p.prompt;
      for (const x of [...cf.removed].reverse()) rebuilt = rebuilt.slice(0, x.start) + rebuilt.slice(x.end);
      assert.equal(rebuilt, cf.prompt);
      const want = expectVerified(p.id, [a, b]);
      if (want !== null) assert.equal(cf.verified, want, `${p.id} with word ${a} cut`); // what the models were trained to answer
      // The recorded answers are the models' greedy answers to the pruned prompt.
      const [sa] = generateText(student, [cf.prompt], { chat: true, maxNewTokens: 12 });
      const [ta] = generateText(teacher, [cf.prompt], { chat: true, maxNewTokens: 12 });
      assert.equal(cf.student.response, sa.text);
      assert.equal(cf.teacher.response, ta.text);
      assert.equal(cf.verified, cf.student.correct && cf.teacher.correct);
    }

    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(s.complete, true);
    assert.equal(s.sandbox, null, 'math problems: no sandbox probed');
    const sum = (f: (x: Record<string, any>) => number) => scores.reduce((acc, x) => acc + f(x), 0);
    assert.deepEqual(
      { ...s.counts, resumedProblems: undefined },
      {
        lines: dataLines().length, problems: PROBLEMS.length, skippedLines: dataLines().length - PROBLEMS.length, resumedProblems: undefined,
        studentWrong: PROBLEMS.filter((p) => !right(p).student).length, teacherRight: PROBLEMS.filter((p) => right(p).teacher).length,
        selected: SELECTED.length, scoredUnits: SELECTED.length, unscoredUnits: 0, unitsWithoutCandidates: 0, constantDiffUnits: 0,
        candidates: sum((x) => x.candidates.length), spans: sum((x) => runsOf(x.candidates).length), counterfactuals: expected.length, emptyAfterPruning: 0,
        verified: cfs.filter((x) => x.verified === true).length, rejected: cfs.filter((x) => x.verified === false).length, unverified: 0,
      },
    );
    assert.match(r.out, new RegExp(`^${PROBLEMS.length} problems, ${SELECTED.length} selected .* ${s.counts.candidates} candidate tokens in ${s.counts.spans} spans, ${cfs.length} counterfactuals \\(${s.counts.verified} verified, ${s.counts.rejected} rejected\\)`));
    assert.equal(s.skipped.length, 2);
    assert.equal(s.tokenizers, 'same');
    // Decoded: every problem once, then every distinct pruned prompt once, by each model.
    const asked = PROBLEMS.length + new Set(cfs.map((x) => `${x.source_id}\u0000${x.prompt}`)).size;
    assert.deepEqual(s.generated, { student: asked, teacher: asked });

    // A rerun (--overwrite) decodes nothing again and writes the same files.
    const again = leaf(...base('instr', '--overwrite'));
    assert.equal(again.code, 0, again.err);
    const s2 = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(s2.generated, { student: 0, teacher: 0 });
    assert.deepEqual(readJsonl(join(out, 'generations.jsonl')), gens);
    assert.deepEqual(readJsonl(join(out, 'counterfactuals.jsonl')), cfs);
    // Without --resume / --overwrite an existing output is refused in one line.
    const refused = leaf(...base('instr'));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^leaf: .*scores\.jsonl: output file already exists and is not empty; pass --resume/);
  });

  it('response level: the pruned earlier segment is the assistant prefix, the rest the supervised continuation', () => {
    const r = leaf(...base('resp', '--level', 'response', '--segments', '2'));
    assert.equal(r.code, 0, r.err);
    const out = join(dir, 'resp');
    const scores = readJsonl(join(out, 'scores.jsonl'));
    assert.deepEqual(scores.map((s) => [s.source_id, s.segment]), SELECTED.map((id) => [id, 2]));
    const p1 = scores[0];
    // "We add.\nSo the answer is 7." — 9 tokens; the boundary after "We add." (3 before) is the nearest to 4.5.
    assert.equal(p1.text, 'We add.');
    assert.equal(p1.id, 'p1/response/gradient/segment-2');
    assert.deepEqual(p1.tokens.map((t: any) => t.text), ['We', 'add', '.']);
    // Recomputed: the loss is on segment 2 only, the scores on the tokens before it.
    const seg = { level: 'response' as const, segStart: 7, segEnd: GIVEN_RESPONSE.length, last: true };
    const se = encodeUnit(student, 'alpha beta gamma', GIVEN_RESPONSE, seg);
    const sr = inputSaliency(student.model, se.ids, se.positions, se.lossPositions);
    minMax(sr.norms).forEach((x, i) => assert.ok(Math.abs(x - p1.student[i]) < 1e-5));
    for (const s of scores) {
      assert.equal(s.threshold, quantileThreshold(s.diff, 0.1));
      assert.deepEqual(s.candidates, s.diff.map((d: number, i: number) => (d <= s.threshold ? i : -1)).filter((i: number) => i >= 0));
      assert.deepEqual(s.spans.map((x: any) => x.tokens), runsOf(s.candidates));
    }
    const cfs = readJsonl(join(out, 'counterfactuals.jsonl'));
    assert.deepEqual(cfs.map((x) => x.id), scores.flatMap((s) => runsOf(s.candidates).map((_, i) => `${s.source_id}/response/gradient/segment-2/span-${i}`)));
    for (const cf of cfs) {
      const sc = scores.find((s) => s.source_id === cf.source_id)!;
      const p = PROBLEMS.find((x) => x.id === cf.source_id)!;
      const response = p.response ?? 'So the answer is 7.';
      assert.equal(cf.level, 'response');
      assert.equal(cf.segment, 2);
      assert.equal(cf.prompt, p.prompt);
      assert.equal(cf.original_prompt, p.prompt);
      assert.equal(cf.response, response.slice(sc.text.length));
      let rebuilt = sc.text;
      for (const x of [...cf.removed].reverse()) rebuilt = rebuilt.slice(0, x.start) + rebuilt.slice(x.end);
      assert.equal(cf.response_prefix, rebuilt);
      assert.notEqual(cf.response_prefix, sc.text);
      // Verification: each model continues the pruned prefix; the judge reads prefix + continuation.
      for (const [who, m] of [['student', student], ['teacher', teacher]] as const) {
        const ids = m.tokenizer.encodePromptWithAssistantPrefix([{ role: 'user', content: p.prompt }], cf.response_prefix).ids;
        const toks = generate(m.model, [ids], { maxNewTokens: 12, eosTokenIds: m.eosTokenIds }).tokens[0];
        const text = m.tokenizer.decode(toks, { skipSpecialTokens: true }).trim();
        assert.equal(cf[who].response.trim(), text);
      }
      assert.equal(cf.verified, cf.student.correct && cf.teacher.correct);
    }
  });

  it('random, ppl and occlusion baselines; collective pruning; --no-verify', () => {
    const grad = readJsonl(join(dir, 'instr', 'scores.jsonl'));
    for (const method of ['random', 'ppl', 'occlusion']) {
      const r = leaf(...base(method, '--method', method, '--no-verify', '--pruning', 'collective'));
      assert.equal(r.code, 0, r.err);
      const scores = readJsonl(join(dir, method, 'scores.jsonl'));
      const cfs = readJsonl(join(dir, method, 'counterfactuals.jsonl'));
      assert.deepEqual(scores.map((s) => s.source_id), SELECTED);
      for (const s of scores) {
        const g = grad.find((x) => x.source_id === s.source_id)!;
        assert.equal(s.method, method);
        assert.deepEqual(s.tokens, g.tokens);
        if (method !== 'occlusion') assert.equal(s.candidates.length, g.candidates.length, 'same budget as gradient');
        if (method === 'random') {
          assert.equal(s.student, null);
          assert.ok(s.diff.every((x: number) => x >= 0 && x < 1));
          assert.deepEqual(s.candidates, lowest(s.diff, g.candidates.length));
        }
        if (method === 'ppl') {
          assert.equal(s.teacher, null);
          s.diff.forEach((x: number, i: number) => assert.ok(Math.abs(x - (1 - s.student[i])) < 1e-12));
          assert.deepEqual(s.candidates, lowest(s.diff, g.candidates.length)); // the most surprising (D = 1 − surprisal)
        }
        if (method === 'occlusion') {
          assert.equal(s.threshold, quantileThreshold(s.diff, 0.1));
          assert.deepEqual(s.candidates, s.diff.map((d: number, i: number) => (d <= s.threshold ? i : -1)).filter((i: number) => i >= 0));
        }
        if (method === 'occlusion') {
          // Forward only: the teacher's score of a word = the rise of its response loss when the word is cut.
          const p = PROBLEMS.find((x) => x.id === s.source_id)!;
          const response = p.response ?? 'So the answer is 7.';
          const lossWithout = (i: number) => {
            const e = encodeUnit(teacher, withoutWord(p.prompt, i), response, { level: 'instruction' });
            return inputSaliency(teacher.model, e.ids, e.positions, e.lossPositions).loss;
          };
          const drops = [0, 1, 2].map((i) => lossWithout(i) - s.loss.teacher);
          // Float32 losses (batched vs one at a time) differ by ~1e-7; normalised by the drops' range.
          const tol = Math.max(1e-5, 4e-6 / (Math.max(...drops) - Math.min(...drops)));
          minMax(drops).forEach((x, i) => assert.ok(Math.abs(x - s.teacher[i]) < tol, `${s.source_id}: ${drops} vs ${s.teacher}`));
        }
      }
      // Collective: one counterfactual per unit with candidates, every flagged word cut.
      const withSpans = scores.filter((x) => x.candidates.length > 0);
      assert.deepEqual(cfs.map((x) => x.source_id), withSpans.map((x) => x.source_id));
      for (const [k, cf] of cfs.entries()) {
        assert.equal(cf.prompt, withoutWords(cf.original_prompt, (j) => withSpans[k].candidates.includes(j)));
        assert.equal(cf.pruning, 'collective');
        assert.equal(cf.id, `${cf.source_id}/instruction/${method}/collective`);
        assert.equal(cf.verified, null);
        assert.equal(cf.student, null);
      }
      const sum = JSON.parse(readFileSync(join(dir, method, 'summary.json'), 'utf8'));
      assert.equal(sum.counts.unverified, cfs.length);
      assert.equal(sum.generated.student, 5); // selection only
    }
    // The random baseline is seeded: the same seed gives the same draws.
    const again = leaf(...base('random2', '--method', 'random', '--no-verify'));
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(readJsonl(join(dir, 'random2', 'scores.jsonl')).map((s) => s.diff), readJsonl(join(dir, 'random', 'scores.jsonl')).map((s) => s.diff));
  });

  it('--verify teacher keeps what the teacher answers right (the student is not asked); --verify none and --no-verify agree', () => {
    const r = leaf(...base('verify-teacher', '--verify', 'teacher'));
    assert.equal(r.code, 0, r.err);
    const both = readJsonl(join(dir, 'instr', 'counterfactuals.jsonl'));
    const cfs = readJsonl(join(dir, 'verify-teacher', 'counterfactuals.jsonl'));
    assert.deepEqual(cfs.map((c) => c.prompt), both.map((c) => c.prompt));
    // The teacher answers 7 to every prompt: every counterfactual is kept, p2's included (the student fails them all).
    assert.ok(cfs.length > 0 && cfs.every((c) => c.verified === true && c.student === null && c.teacher.correct === true));
    assert.ok(both.some((c) => c.source_id === 'p2' && c.verified === false));
    const sum = JSON.parse(readFileSync(join(dir, 'verify-teacher', 'summary.json'), 'utf8'));
    assert.equal(sum.settings.verify, 'teacher');
    assert.equal(sum.generated.student, 5, 'selection only: the student is never asked to verify');
    const none = leaf(...base('verify-none', '--verify', 'none'));
    assert.equal(none.code, 0, none.err);
    assert.ok(readJsonl(join(dir, 'verify-none', 'counterfactuals.jsonl')).every((c) => c.verified === null));
    const bad = leaf(...base('verify-bad', '--verify', 'student'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--verify must be one of both, teacher, none, got student/);
  });

  it('--teacher-outputs replaces the teacher in selection', () => {
    const given = join(dir, 'teacher-outputs.jsonl');
    // The teacher "says" 3 on p2: p2 is no longer selected.
    writeFileSync(given, PROBLEMS.map((p) => JSON.stringify({ id: p.id, response: p.id === 'p2' ? 'So the answer is 3.' : 'So the answer is 7.' })).join('\n') + '\n');
    const r = leaf(...base('given', '--teacher-outputs', given, '--no-verify'));
    assert.equal(r.code, 0, r.err);
    const gens = readJsonl(join(dir, 'given', 'generations.jsonl'));
    assert.ok(gens.every((g) => g.model === 'student'));
    assert.deepEqual(readJsonl(join(dir, 'given', 'scores.jsonl')).map((s) => s.source_id), ['p1', 'p5']);
    const missing = join(dir, 'teacher-outputs-missing.jsonl');
    writeFileSync(missing, JSON.stringify({ id: 'p1', response: 'x' }) + '\n');
    const m = leaf(...base('given2', '--teacher-outputs', missing));
    assert.equal(m.code, 1);
    assert.match(m.err.trim().split('\n').pop()!, /^leaf: .*teacher-outputs-missing\.jsonl: no teacher output for problem 'p2' \(line 2 of /);
  });

  it('code problems: judged in the sandbox, tests and entry_point passed through', () => {
    const prompt = 'Write a function add_pair(a, b) returning the sum.';
    const right = '```python\ndef add_pair(a, b):\n    return a + b\n```';
    const wrong = '```python\ndef add_pair(a, b):\n    return a - b\n```';
    const tokDir = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'qwen2-bytelevel');
    const cs = join(dir, 'code-student'), ct = join(dir, 'code-teacher');
    makeResponder(cs, tokDir, [{ prompt, response: wrong }], 3);
    makeResponder(ct, tokDir, [{ prompt, response: right }], 4);
    const data = join(dir, 'code.jsonl');
    const tests = ['assert add_pair(2, 3) == 5', 'assert add_pair(-1, 1) == 0'];
    writeFileSync(data, JSON.stringify({ id: 'c1', prompt, tests, entry_point: 'add_pair' }) + '\n');
    const r = leaf('mine', '--teacher', ct, '--student', cs, '--data', data, '--out', join(dir, 'code'), '--max-new-tokens', '60', '--workers', '2');
    assert.equal(r.code, 0, r.err);
    const gens = readJsonl(join(dir, 'code', 'generations.jsonl'));
    const sel = (m: string) => gens.find((g) => g.model === m && g.stage === 'select')!;
    assert.equal(sel('student').response, wrong);
    assert.equal(sel('student').correct, false);
    assert.equal(sel('teacher').correct, true, JSON.stringify(sel('teacher')));
    assert.equal(sel('teacher').answer, null);
    const cfs = readJsonl(join(dir, 'code', 'counterfactuals.jsonl'));
    const [sc] = readJsonl(join(dir, 'code', 'scores.jsonl'));
    const summary = JSON.parse(readFileSync(join(dir, 'code', 'summary.json'), 'utf8'));
    // The sandbox's tier as probed on this machine, recorded with its guarantees (null for math-only runs).
    assert.equal(typeof summary.sandbox?.tier, 'string');
    assert.equal(typeof summary.sandbox.network, 'boolean');
    assert.ok('warning' in summary.sandbox);
    assert.ok(sc.candidates.length >= 1);
    assert.deepEqual(sc.spans.map((x: any) => x.tokens), runsOf(sc.candidates));
    assert.equal(cfs.length, sc.spans.length - summary.counts.emptyAfterPruning);
    assert.ok(cfs.length >= 1);
    for (const cf of cfs) {
      assert.deepEqual(cf.tests, tests);
      assert.equal(cf.entry_point, 'add_pair');
      assert.equal(cf.response, right);
      assert.equal(cf.verified, cf.student.correct && cf.teacher.correct);
    }
  });

  it('a prompt beyond the context is left out on its own: the others mine as without it', () => {
    // 1100 words on a word-level tokenizer: more tokens than the models' 1024 positions.
    const long = { id: 'long', prompt: Array(1100).fill('alpha').join(' '), answer: '7' };
    const alone = join(dir, 'fit-alone.jsonl'), withLong = join(dir, 'fit-long.jsonl');
    writeFileSync(alone, PROBLEMS.map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(withLong, [PROBLEMS[0], long, ...PROBLEMS.slice(1)].map((p) => JSON.stringify(p)).join('\n') + '\n');
    const run = (data: string, out: string) => leaf('mine', '--teacher', fx.teacher, '--student', fx.student, '--data', data, '--out', join(dir, out), '--max-new-tokens', '12', '--batch-size', '3');
    const a = run(alone, 'fit-a'), b = run(withLong, 'fit-b');
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.match(b.err, /leaf: warning: problem long left out: student: prompt of \d+ tokens leaves no room in the context of 1024 tokens/);
    for (const f of ['generations.jsonl', 'scores.jsonl', 'counterfactuals.jsonl']) {
      assert.equal(readFileSync(join(dir, 'fit-b', f), 'utf8'), readFileSync(join(dir, 'fit-a', f), 'utf8'), f);
    }
    const sa = JSON.parse(readFileSync(join(dir, 'fit-a', 'summary.json'), 'utf8'));
    const sb = JSON.parse(readFileSync(join(dir, 'fit-b', 'summary.json'), 'utf8'));
    assert.deepEqual(sa.refused, []);
    assert.deepEqual(sb.refused.map((r: any) => r.sourceId), ['long']);
    assert.deepEqual({ ...sb.counts, problems: sb.counts.problems - 1, lines: sb.counts.lines - 1 }, sa.counts);
  });

  it('--strict stops at the first malformed line; bad flags are one-line errors', () => {
    const s = leaf(...base('strict', '--strict'));
    assert.equal(s.code, 1);
    assert.match(s.err, /^leaf: .*train\.jsonl:3: field 'prompt' must be a string, got a number\n$/);
    const both = leaf(...base('both', '--threshold', '0.1', '--threshold-abs', '0.2'));
    assert.equal(both.code, 1);
    assert.match(both.err, /^leaf: give --threshold q or --threshold-abs τ, not both\n$/);
    const seg = leaf(...base('seg', '--segments', '3'));
    assert.equal(seg.code, 1);
    assert.match(seg.err, /^leaf: --segments needs --level response\n$/);
    const noModel = leaf('mine', '--teacher', join(dir, 'nope'), '--student', fx.student, '--data', fx.data, '--out', join(dir, 'nomodel'));
    assert.equal(noModel.code, 1);
    const errors = noModel.err.trim().split('\n').filter((l) => !l.startsWith('leaf: warning: '));
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^leaf: .*nope.*: /);
    assert.ok(dataLines().length === 7);
  });
});
