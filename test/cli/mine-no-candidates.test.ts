import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mine, type MineOptions } from '../../src/method/mine.js';
import { isConstant } from '../../src/method/normalize.js';
import { tinyPretrained } from '../helpers/tiny-mining.js';

class Interrupt extends Error {}
const readJsonl = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);

/**
 * Units whose D is constant (a one-character prompt is one token) get no candidate, and this is
 * counted with its reason in summary.json, not silent; a resumed run counts them the same.
 * Random tiny models: the student's answers are judged wrong (checked), the teacher's answers are
 * given (right), so every problem is selected.
 */
describe('leaf mine: units without candidates are counted with their reason', () => {
  let dir = '';
  const student = tinyPretrained('qwen2-bytelevel', 21, { layers: 1 });
  const teacher = tinyPretrained('qwen2-bytelevel', 22, { layers: 1 });
  const problems = [
    { id: 'a', prompt: 'Tom has three red apples and two green pears.', answer: '7', response: 'So \\boxed{7}.' },
    { id: 'b', prompt: 'x', answer: '7', response: 'So \\boxed{7}.' },
    { id: 'c', prompt: 'Ana buys 4 more.', answer: '7', response: 'It is \\boxed{7}.' },
    { id: 'd', prompt: '?', answer: '7', response: 'It is \\boxed{7}.' },
  ];
  let data = '', given = '';
  const opts = (out: string, extra: Partial<MineOptions> = {}): MineOptions => ({
    teacher, student, data, out: join(dir, out), teacherOutputs: given, maxNewTokens: 3, verify: false, fsync: false, ...extra,
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-mine-nocand-'));
    data = join(dir, 'in.jsonl');
    given = join(dir, 'teacher.jsonl');
    writeFileSync(data, problems.map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(given, problems.map((p) => JSON.stringify({ id: p.id, response: p.response })).join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('constant D: no candidates, a counted reason and a warning; the counts recomputed from the records', async () => {
    const warnings: string[] = [];
    const s = await mine({ ...opts('run'), onWarning: (m) => warnings.push(m) });
    assert.equal(s.counts.selected, problems.length, 'the random student must be wrong on every problem');
    const scores = readJsonl(join(dir, 'run', 'scores.jsonl'));
    assert.equal(scores.length, problems.length);
    // Independently: which units have a constant D, which have no candidate.
    const constant = scores.filter((r) => isConstant(r.diff));
    const none = scores.filter((r) => r.candidates.length === 0);
    assert.deepEqual(scores.filter((r) => r.tokens.length === 1).map((r) => r.source_id), ['b', 'd']);
    for (const r of scores.filter((x) => x.tokens.length === 1)) assert.ok(isConstant(r.diff));
    for (const r of constant) assert.deepEqual(r.candidates, [], `${r.source_id}: a constant D flags nothing`);
    assert.ok(constant.length >= 2);
    assert.equal(s.counts.constantDiffUnits, constant.length);
    assert.equal(s.counts.unitsWithoutCandidates, none.length);
    assert.deepEqual(
      s.noCandidates,
      none.map((r) => ({ sourceId: r.source_id, segment: null, reason: isConstant(r.diff) ? 'constant-diff' : r.tokens.length === 0 ? 'no-tokens' : 'none-flaggable', tokens: r.tokens.length })),
    );
    assert.deepEqual(readJsonl(join(dir, 'run', 'counterfactuals.jsonl')).filter((c) => constant.some((r) => r.source_id === c.source_id)), []);
    for (const r of constant) assert.ok(warnings.some((w) => w.startsWith(`problem ${r.source_id}: D is constant over its ${r.tokens.length} token`)), warnings.join('\n'));
    const file = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
    assert.deepEqual(file.noCandidates, s.noCandidates);
    assert.deepEqual(file.counts, s.counts);
  });

  it('--threshold-abs below 0 flags nothing anywhere: every unit counted, as none-flaggable unless constant', async () => {
    const s = await mine(opts('abs', { thresholdAbs: -0.5 }));
    const scores = readJsonl(join(dir, 'abs', 'scores.jsonl'));
    assert.equal(s.counts.candidates, 0);
    assert.equal(s.counts.unitsWithoutCandidates, scores.length);
    assert.deepEqual(s.noCandidates.map((u) => u.reason), scores.map((r) => (isConstant(r.diff) ? 'constant-diff' : 'none-flaggable')));
  });

  it('the same counts and list after an interruption at every record and a resume', async () => {
    const ref = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
    let total = 0;
    await mine({ ...opts('count'), onRecord: () => total++ });
    for (let n = 1; n < total; n++) {
      const out = `cut-${n}`;
      let seen = 0;
      await assert.rejects(mine({ ...opts(out), onRecord: () => {
        if (++seen === n) throw new Interrupt(`stop after record ${n}`);
      } }), Interrupt);
      const s = await mine(opts(out, { resume: true }));
      assert.deepEqual({ ...s.counts, resumedProblems: 0 }, { ...ref.counts, resumedProblems: 0 }, `after record ${n}`);
      assert.deepEqual(s.noCandidates, ref.noCandidates, `after record ${n}`);
    }
  });
});
