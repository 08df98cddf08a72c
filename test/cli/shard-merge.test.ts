/**
 * The scheduler recipe, run locally: n shard processes started together (`--shard auto`, with the
 * variables a Kubernetes Indexed Job or a Slurm array sets), each SIGKILLed at random moments and
 * restarted with the same command (as a Job's pod restart would), then `leaf merge` — the merged
 * folder must hold byte for byte the record files and run.json of one unsharded run, and the same
 * summary apart from timings.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { rng } from '../helpers/random-arrays.js';
import { makeMiningFixture, type MiningFixture } from '../helpers/mining-fixture.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '<missing>');
const json = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;

function leaf(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs one shard's command until it exits 0, killing it (SIGKILL) after random delays up to `kills` times. */
async function runKilled(args: string[], env: NodeJS.ProcessEnv, random: () => number, kills: number): Promise<number> {
  let killed = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = killed < kills ? setTimeout(() => child.kill('SIGKILL'), 150 + random() * 1500) : null;
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (c, s) => res({ code: c, signal: s })));
    if (timer) clearTimeout(timer);
    if (signal === 'SIGKILL') {
      killed++;
      continue;
    }
    assert.equal(code, 0, `${args.join(' ')}: ${err}`);
    return killed;
  }
  throw new Error('a shard never finished');
}

describe('sharded runs on a scheduler: n shards killed and restarted at random, then merged = one run', () => {
  let dir = '';
  let fx: MiningFixture;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-shards-'));
    fx = makeMiningFixture(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const mineArgs = (out: string) => ['mine', '--teacher', fx.teacher, '--student', fx.student, '--data', fx.data, '--out', join(dir, out), '--max-new-tokens', '12', '--batch-size', '2'];
  const evalArgs = (out: string) => ['eval', '--model', fx.student, '--data', fx.data, '--out', join(dir, out), '--max-new-tokens', '12', '--batch-size', '2'];

  it('leaf mine: Kubernetes Indexed Job (JOB_COMPLETION_INDEX, --shard-count 3)', async () => {
    assert.equal(leaf(mineArgs('mine-single')).code, 0);
    const random = rng(15);
    const n = 3;
    const kills = await Promise.all(Array.from({ length: n }, (_, i) =>
      runKilled([...mineArgs(`mine-shard-${i}`), '--shard', 'auto', '--shard-count', String(n), '--resume'], { JOB_COMPLETION_INDEX: String(i) }, random, 1 + (i % 2))));
    assert.ok(kills.reduce((a, b) => a + b, 0) >= 1, 'no shard was killed: the test did not exercise resumes');
    const m = leaf(['merge', '--out', join(dir, 'mine-merged'), ...[2, 0, 1].map((i) => join(dir, `mine-shard-${i}`))]);
    assert.equal(m.code, 0, m.err);
    for (const f of ['scores.jsonl', 'counterfactuals.jsonl', 'generations.jsonl', 'run.json']) {
      assert.equal(read(join(dir, 'mine-merged', f)), read(join(dir, 'mine-single', f)), f);
    }
    const strip = (s: Record<string, unknown>) => ({ ...s, out: null, timings: null, counts: { ...(s.counts as object), resumed_problems: 0 } });
    assert.deepEqual(strip(json(join(dir, 'mine-merged', 'summary.json'))), strip(json(join(dir, 'mine-single', 'summary.json'))));
    assert.ok(read(join(dir, 'mine-single', 'counterfactuals.jsonl')).split('\n').length > 3, 'too few records to test an order');
    // leaf export and leaf report read the merged folder as they read a single run's.
    for (const run of ['single', 'merged']) assert.equal(leaf(['export', '--format', 'chat-jsonl', '--mined', join(dir, `mine-${run}`), '--out', join(dir, `chat-${run}.jsonl`)]).code, 0);
    assert.equal(read(join(dir, 'chat-merged.jsonl')), read(join(dir, 'chat-single.jsonl')));
    assert.match(read(join(dir, 'chat-merged.jsonl')), /"kind":"counterfactual"/);
    const r = leaf(['report', '--mined', join(dir, 'mine-merged'), '--out', join(dir, 'merged.html')]);
    assert.equal(r.code, 0, r.err);
  });

  it('leaf eval: Slurm array (SLURM_ARRAY_TASK_ID from 1, SLURM_ARRAY_TASK_MIN 1)', async () => {
    assert.equal(leaf(evalArgs('eval-single')).code, 0);
    const random = rng(16);
    const n = 2;
    const slurm = (i: number) => ({ SLURM_ARRAY_TASK_ID: String(i + 1), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: String(n), SLURM_ARRAY_TASK_COUNT: String(n) });
    await Promise.all(Array.from({ length: n }, (_, i) => runKilled([...evalArgs(`eval-shard-${i}`), '--shard', 'auto', '--resume'], slurm(i), random, 2)));
    const m = leaf(['merge', '--out', join(dir, 'eval-merged'), join(dir, 'eval-shard-1'), join(dir, 'eval-shard-0')]);
    assert.equal(m.code, 0, m.err);
    for (const f of ['results.jsonl', 'run.json']) assert.equal(read(join(dir, 'eval-merged', f)), read(join(dir, 'eval-single', f)), f);
    const strip = (s: Record<string, unknown>) => ({ ...s, seconds: null });
    assert.deepEqual(strip(json(join(dir, 'eval-merged', 'summary.json'))), strip(json(join(dir, 'eval-single', 'summary.json'))));
  });

  it('merge refuses a missing shard, a shard twice, shards of another run and an unfinished shard, in one line each', () => {
    const shard = (i: number, extra: string[] = [], out = `x-${i}`) => {
      const r = leaf([...evalArgs(out), '--shard', `${i}/2`, ...extra]);
      assert.equal(r.code, 0, r.err);
      return join(dir, out);
    };
    const a = shard(0), b = shard(1), other = shard(1, ['--max-new-tokens', '11'], 'x-other');
    const refused = (dirs: string[], re: RegExp) => {
      const r = leaf(['merge', '--out', join(dir, `refused-${Math.random().toString(36).slice(2)}`), ...dirs]);
      assert.equal(r.code, 1);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    };
    refused([a], /^leaf: shard 1\/2 missing \(give all 2 shard folders\)$/m);
    refused([a, a, b], /shard 0\/2 given twice/);
    refused([a, other], /x-other: a shard of a different run \(its maxNewTokens differs/);
    refused([join(dir, 'eval-single'), a], /eval-single: not a shard folder \(no shard\.json/);
    refused([a, join(dir, 'mine-shard-1'), join(dir, 'mine-shard-2')], /a shard of a different run|shard 1\/2, but/);
    // An unfinished shard: its results hold fewer records than its problems.
    const cut = join(dir, 'x-1', 'results.jsonl');
    const lines = readFileSync(cut, 'utf8').split('\n').filter(Boolean);
    writeFileSync(cut, lines[0] + '\n');
    refused([a, b], /x-1: shard 1\/2 is incomplete \(1 of 2 problems\); resume it/);
    const usage = leaf([...evalArgs('x-bad'), '--shard', '2/2']);
    assert.match(usage.err, /--shard 2\/2: shard index 2 is not in 0\.\.1/);
  });
});
