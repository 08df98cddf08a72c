/**
 * Options declared once (util/option-spec.ts): the library's defaults are the specs' (stated here as the
 * values the docs and the reference give), the command line shows them in --help and passes flags through,
 * and a bad value of any spec option is one line naming the flag, before a model or a folder is touched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEMO_SPEC, resolveDemoOptions } from '../../src/demo/demo-options.js';
import { EVAL_SPEC, maxNewTokensOf, resolveEvalOptions } from '../../src/eval/eval-options.js';
import { MINE_SPEC, resolveMineOptions } from '../../src/method/mine-options.js';
import { mineSettings } from '../../src/method/mine-setup.js';
import type { Spec } from '../../src/util/option-spec.js';
import { repoRoot } from '../helpers/paths.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const leaf = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** Every spec default that is a value (not a function of other options) is what resolving nothing gives. */
function assertDefaults(spec: Spec, resolved: Record<string, unknown>): void {
  for (const [key, s] of Object.entries(spec)) if (typeof s.default !== 'function') assert.deepEqual(resolved[key], s.default, key);
}

describe('options declared once: mine, eval, demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-specs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the library defaults are the specs\' (the reference rule q = 0.10, both models verify, 1024 new tokens, …)', () => {
    const m = resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o' });
    assert.deepEqual(m, {
      task: null, level: 'instruction', segments: null, method: 'gradient', threshold: 0.1, thresholdAbs: null, unit: 'token', topUnits: null, studentWeight: 1,
      protectLastSentence: false, pruning: 'span', verify: 'both', verifyEquations: false, limit: null, seed: 1234, batchSize: 8, maxNewTokens: 1024, dtype: 'auto',
    });
    assertDefaults(MINE_SPEC, m);
    assert.equal(resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o', level: 'response' }).segments, 2);
    assert.equal(resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o', verify: false }).verify, 'none');
    assert.equal(resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o', verify: true }).verify, 'both');
    assert.equal(resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o', verify: 'teacher' }).verify, 'teacher');
    assert.throws(() => resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o', verify: 'student' as 'both' }), /^LeafError: --verify must be one of both, teacher, none, got student$/);
    // summary.json's settings are the resolved options (the threshold as its rule).
    const settings = mineSettings(m, { teacher: 't', student: 's', data: 'd', out: 'o' });
    assert.deepEqual(settings.threshold, { kind: 'quantile', q: 0.1 });
    assert.deepEqual({ ...settings, threshold: null }, {
      level: 'instruction', segments: null, method: 'gradient', threshold: null, pruning: 'span', verify: 'both', teacherOutputs: null, limit: null, seed: 1234,
      batchSize: 8, maxNewTokens: 1024, task: null, decoding: 'greedy', unit: 'token', topUnits: null, protectLastSentence: false, verifyEquations: false,
      studentWeight: 1,
    });
    assert.deepEqual(mineSettings(resolveMineOptions({ teacher: 't', student: 's', data: 'd', out: 'o', thresholdAbs: 0.25 }), { teacher: 't', student: 's', data: 'd', out: 'o' }).threshold, { kind: 'absolute', tau: 0.25 });

    const e = resolveEvalOptions({ data: 'd', out: 'o' });
    assert.deepEqual(e, { task: null, format: null, limit: null, batchSize: 8, maxNewTokens: null });
    assertDefaults(EVAL_SPEC, e);
    assert.equal(maxNewTokensOf(e, 'math'), 1024);
    assert.equal(maxNewTokensOf(e, 'code'), 768);
    assert.equal(maxNewTokensOf(resolveEvalOptions({ data: 'd', out: 'o', maxNewTokens: 5 }), 'code'), 5);
    assert.equal(resolveEvalOptions({ data: 'd', out: 'o', format: 'MATH-500' }).format, 'math');
    assert.equal(resolveEvalOptions({ data: 'd', out: 'o', format: 'olympiad' }).format, 'olympiadbench');

    const d = resolveDemoOptions({ out: 'o' });
    assert.deepEqual(d, { seeds: 3, seed: 1, extras: false, validationOnly: false, jobs: null });
    assertDefaults(DEMO_SPEC, d);
  });

  it('--help shows each spec option with its default', () => {
    const help = (cmd: string) => leaf(cmd, '--help').out.replace(/\s+/g, ' ');
    assert.match(help('mine'), /--batch-size <b> prompts decoded together \(and occlusion forward batch\) \(default: 8\)/);
    assert.match(help('mine'), /--threshold <q> fraction of each unit's tokens to flag: .* \(default: 0\.1\)/);
    assert.match(help('mine'), /--no-verify keep every counterfactual/);
    assert.match(help('eval'), /--max-new-tokens <n> maximum new tokens per response \(default: 1024 math, 768 code\)/);
    assert.match(help('eval'), /--dtype <dtype> weights in memory: .* \(default: auto\)/);
    assert.match(help('demo'), /--seeds <n> distillation seeds per run \(default: 3\)/);
  });

  it('a bad value of a spec option is one line naming the flag, before any model is loaded or folder made', () => {
    const out = join(dir, 'never');
    const nope = join(dir, 'no-such-model');
    const mine = ['mine', '--teacher', nope, '--student', nope, '--data', join(dir, 'no.jsonl'), '--out', out];
    const evalArgs = ['eval', '--model', nope, '--data', join(dir, 'no.jsonl'), '--out', out];
    const cases: Array<[string[], string]> = [
      [[...mine, '--level', 'prompt'], '--level must be one of instruction, response, got prompt'],
      [[...mine, '--verify', 'student'], '--verify must be one of both, teacher, none, got student'],
      [[...mine, '--method', 'saliency'], '--method must be one of gradient, random, ppl, occlusion, oracle, got saliency'],
      [[...mine, '--dtype', 'f16'], '--dtype must be one of auto, f32, bf16, got f16'],
      [[...mine, '--limit', '0'], '--limit must be an integer ≥ 1, got 0'],
      [[...mine, '--batch-size', 'x'], '--batch-size must be an integer, got x'],
      [[...mine, '--threshold', '1.5'], '--threshold must be a fraction in [0, 1], got 1.5'],
      [[...mine, '--unit', 'token', '--top-units', '2'], '--top-units needs --unit sentence'],
      [[...evalArgs, '--format', 'aime'], '--format must be one of livecodebench, humaneval, mbpp, olympiadbench, gsm-ic, gsm8k, math, stdio, leaf, got aime'],
      [[...evalArgs, '--task', 'chess'], '--task must be one of math, code, got chess'],
      [[...evalArgs, '--dtype', 'f16'], '--dtype must be one of auto, f32, bf16, got f16'],
      [[...evalArgs, '--max-new-tokens', '2.5'], '--max-new-tokens must be an integer, got 2.5'],
      [['generate', '--model', nope, '--prompt', 'hi', '--dtype', 'f16'], '--dtype must be one of auto, f32, bf16, got f16'],
      [['demo', '--out', out, '--seeds', '0'], '--seeds must be an integer in 1..20, got 0'],
      [['demo', '--out', out, '--jobs', 'two'], '--jobs must be an integer, got two'],
      [['distill', '--student', nope, '--data', join(dir, 'no.jsonl'), '--out', out, '--loss', 'kl'], '--loss must be one of fkl, rkl, jsd, ce, got kl'],
    ];
    for (const [args, message] of cases) {
      const r = leaf(...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.err, `leaf: ${message}\n`, args.join(' '));
      assert.equal(existsSync(out), false, args.join(' '));
    }
  });
});
