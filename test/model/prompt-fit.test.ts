import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { modelResponder } from '../../src/cli/eval.js';
import { jsKernels } from '../../src/kernels/index.js';
import { generate } from '../../src/model/generate.js';
import { loadPretrained, type Pretrained } from '../../src/model/pretrained.js';
import { randomModel } from '../../src/model/random-init.js';
import { repoRoot } from '../helpers/paths.js';
import { makeConstantResponder } from '../helpers/tiny-pretrained.js';
import { TINY } from './tiny-configs.js';
import { parseConfig } from '../../src/model/config.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

describe('each prompt\'s fate is its own: the context length refuses a prompt, never its neighbours', () => {
  let dir = '';
  let p: Pretrained;
  const A = 'What is two plus two?', B = 'Name a colour.';
  const LONG = 'a b '.repeat(700); // fewer characters than the character bound, more tokens than the 1024-token context
  const HUGE = 'x'.repeat(20_000_000);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-prompt-fit-'));
    makeConstantResponder(join(dir, 'm'), [A, B], 'The answer is \\boxed{4}.');
    p = loadPretrained(join(dir, 'm'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the others decode exactly as without the over-long prompts (they became empty, finish length)', async () => {
    const r = modelResponder(p);
    const alone = await r.generate([A, B], 40);
    assert.deepEqual(alone, ['The answer is \\boxed{4}.', 'The answer is \\boxed{4}.']);
    // The 20 MB prompt is refused before it is rendered or tokenised.
    let longest = 0;
    for (const m of ['encode', 'encodeChat'] as const) {
      const orig = p.tokenizer[m].bind(p.tokenizer) as (...a: unknown[]) => never;
      (p.tokenizer as unknown as Record<string, unknown>)[m] = (x: unknown, ...rest: unknown[]) => {
        longest = Math.max(longest, typeof x === 'string' ? x.length : JSON.stringify(x).length);
        return orig(x, ...rest);
      };
    }
    const t0 = Date.now();
    const mixed = await r.generate([A, LONG, B, HUGE], 40);
    assert.deepEqual([mixed[0], mixed[2]], alone);
    assert.match((mixed[1] as { refused: string }).refused, /^prompt of \d{4} tokens leaves no room in the context of 1024 tokens \(max_position_embeddings\)$/);
    assert.match((mixed[3] as { refused: string }).refused, /^prompt of 20000000 characters cannot fit the context of 1024 tokens \(max_position_embeddings; no token is longer than \d+ characters\)$/);
    assert.ok(longest < 100_000, `a ${longest}-character input reached the tokenizer`);
    assert.ok(Date.now() - t0 < 20_000);
  });

  it('leaf generate: a refused prompt is an error line (exit 1), not silent empty output', () => {
    const g = spawnSync(process.execPath, [cli, 'generate', '--model', join(dir, 'm'), '--chat', '--prompt', A, '--prompt', LONG], { encoding: 'utf8' });
    assert.equal(g.status, 1);
    assert.match(g.stdout, /The answer is \\boxed\{4\}\./);
    assert.match(g.stderr, /^leaf: prompt 2 refused: prompt of \d+ tokens leaves no room in the context of 1024 tokens/m);
  });
});

it('a row\'s token budget is its own: a long neighbour no longer shortens it', () => {
  const cfg = parseConfig({ ...TINY['qwen2-tied']().raw, max_position_embeddings: 32, eos_token_id: 999 });
  const m = randomModel(cfg, jsKernels, Float32Array, { seed: 5 });
  const short = [1, 2, 3];
  const long = Array.from({ length: 28 }, (_, i) => 1 + (i % 17));
  const full = Array.from({ length: 32 }, (_, i) => 1 + (i % 17));
  const alone = generate(m, [short], { maxNewTokens: 10 });
  const both = generate(m, [short, long], { maxNewTokens: 10 });
  assert.equal(both.tokens[0].length, 10); // it was 32 − 28 = 4
  assert.equal(both.tokens[1].length, 4); // its own context limit
  assert.deepEqual(both.finish, ['length', 'length']);
  // A prompt as long as the context is left out of the batch: the others are decoded exactly as alone.
  const withFull = generate(m, [full, short], { maxNewTokens: 10 });
  assert.deepEqual(withFull.tokens, [[], alone.tokens[0]]);
  assert.deepEqual(withFull.finish, ['length', 'length']);
});
