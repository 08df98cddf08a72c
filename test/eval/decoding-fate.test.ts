import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runEval, type EvalOptions, type ResponseGenerator } from '../../src/eval/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-eval-fate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
class Interrupt extends Error {}

/** Ten gsm8k problems: "What is i + 1?" with answer i + 1 (problem 6's prompt is marked too long to answer). */
const data = join(tmp, 'sums.jsonl');
writeFileSync(data, Array.from({ length: 10 }, (_, i) => JSON.stringify({ question: `What is ${i} + 1?${i === 6 ? ' TOO LONG' : ''}`, answer: `#### ${i + 1}` })).join('\n') + '\n');

/**
 * A stand-in model whose answers depend on the company they are decoded in, as floating-point batched
 * decoding can: right or wrong by a digest of the whole batch. A prompt marked TOO LONG is refused.
 */
const companySensitive: ResponseGenerator = {
  description: 'company-sensitive',
  generate(instructions) {
    const company = createHash('sha256').update(instructions.join('\u0000')).digest()[0];
    return instructions.map((ins, j) => {
      if (ins.includes('TOO LONG')) return { refused: 'prompt of 9999 tokens leaves no room in the context of 1024 tokens' };
      const n = Number(/What is (\d+) \+ 1/.exec(ins)![1]) + 1;
      return `company ${company} \\boxed{${(company + j) % 3 === 0 ? n + 1 : n}}`;
    });
  },
};

const opts = (out: string, extra: Partial<EvalOptions> = {}): EvalOptions => ({ data, out: join(tmp, out), batchSize: 3, maxNewTokens: 16, ...extra });
const results = (out: string) => readFileSync(join(tmp, out, 'results.jsonl'), 'utf8');

describe('leaf eval: each record decoded in the same company, however the run was interrupted', () => {
  it('interrupted after every record, then resumed: results.jsonl byte for byte as one run', async () => {
    const warnings: string[] = [];
    const ref = await runEval(companySensitive, opts('ref', { onWarning: (w) => warnings.push(w) }));
    const want = results('ref');
    assert.equal(want.trim().split('\n').length, 10);
    assert.ok(ref.result.correct > 0 && ref.result.correct < 9, `the answers depend on the batch (${ref.result.correct}/9 right)`);
    for (let n = 1; n < 10; n++) {
      let seen = 0;
      await assert.rejects(runEval(companySensitive, opts(`cut-${n}`, { onRecord: () => {
        if (++seen === n) throw new Interrupt(`stop after record ${n}`);
      } })), Interrupt);
      const s = await runEval(companySensitive, opts(`cut-${n}`, { resume: true }));
      assert.equal(results(`cut-${n}`), want, `interrupted after record ${n}`);
      assert.deepEqual(s.result, ref.result);
    }
    // --limit, then a resume on the whole file: also the same batches.
    await runEval(companySensitive, opts('limited', { limit: 4 }));
    await runEval(companySensitive, opts('limited', { resume: true }));
    assert.equal(results('limited'), want);
  });

  it('a refused prompt is its own fate: recorded with its reason, counted in summary.json and one warning, left out of the accuracy', async () => {
    const warnings: string[] = [];
    const s = await runEval(companySensitive, opts('refused', { onWarning: (w) => warnings.push(w) }));
    assert.equal(s.result.total, 9);
    assert.deepEqual(s.refusedPrompts, ['gsm8k/6: prompt of 9999 tokens leaves no room in the context of 1024 tokens']);
    const rec = results('refused').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.refused);
    assert.equal(rec.reason, 'refused: prompt of 9999 tokens leaves no room in the context of 1024 tokens');
    assert.deepEqual(warnings.filter((w) => /refused/.test(w)), ['1 problem(s) refused and left out of the accuracy (first: gsm8k/6: prompt of 9999 tokens leaves no room in the context of 1024 tokens); see summary.json refusedPrompts']);
    assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'refused', 'summary.json'), 'utf8')).refusedPrompts, s.refusedPrompts);
  });
});
