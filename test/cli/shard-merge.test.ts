/**
 * The scheduler recipe, run locally: n shard processes started together (`--shard auto`, with the
 * variables a Kubernetes Indexed Job or a Slurm array sets), each SIGKILLed at random moments and
 * restarted with the same command (as a Job's pod restart would), then `leaf merge` — the merged
 * folder must hold byte for byte the record files and run.json of one unsharded run, and the same
 * summary apart from timings.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { rng } from '../helpers/random-arrays.js';
import { makeMiningFixture, type MiningFixture } from '../helpers/mining-fixture.js';
import { CF_RECORDS, TRAIN_RECORDS, writeJsonl, writeTinyModel } from '../helpers/tiny-distill.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '<missing>');
const json = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;

function leaf(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Runs one shard's command until it exits 0, killing it (SIGKILL) up to `kills` times: after a random
 * delay, or — with `grows` — once that file has grown by a random part of `grows.bytes` during the attempt
 * (a kill in the middle of writing it).
 */
async function runKilled(args: string[], env: NodeJS.ProcessEnv, random: () => number, kills: number, grows?: { file: string; bytes: number }): Promise<number> {
  let killed = 0;
  const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
  for (let attempt = 0; attempt < 50; attempt++) {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let timer: NodeJS.Timeout | null = null;
    if (killed < kills && grows) {
      const target = size(grows.file) + 1 + random() * grows.bytes;
      timer = setInterval(() => size(grows.file) >= target && child.kill('SIGKILL'), 2);
    } else if (killed < kills) timer = setTimeout(() => child.kill('SIGKILL'), 150 + random() * 1500);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (c, s) => res({ code: c, signal: s })));
    if (timer) clearInterval(timer);
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
    // Killed while its generation cache grows (at a random point of a shard's share of the single run's
    // bytes), not after a random delay: a shard runs for about as long as such a delay, so timed kills
    // missed every shard in some runs on a loaded machine.
    const bytes = statSync(join(dir, 'mine-single', 'generations.jsonl')).size / n;
    const kills = await Promise.all(Array.from({ length: n }, (_, i) =>
      runKilled([...mineArgs(`mine-shard-${i}`), '--shard', 'auto', '--shard-count', String(n), '--resume'], { JOB_COMPLETION_INDEX: String(i) }, random, 1 + (i % 2),
        { file: join(dir, `mine-shard-${i}`, 'generations.jsonl'), bytes })));
    assert.ok(kills.reduce((a, b) => a + b, 0) >= 1, 'no shard was killed: the test did not exercise resumes');
    const m = leaf(['merge', '--out', join(dir, 'mine-merged'), ...[2, 0, 1].map((i) => join(dir, `mine-shard-${i}`))]);
    assert.equal(m.code, 0, m.err);
    for (const f of ['scores.jsonl', 'counterfactuals.jsonl', 'generations.jsonl', 'run.json']) {
      assert.equal(read(join(dir, 'mine-merged', f)), read(join(dir, 'mine-single', f)), f);
    }
    // Run history, not results: timings, resumes and the answers decoded by each shard's last process
    // (a killed shard's decoded answers are reused from generations.jsonl on resume, not decoded again).
    const strip = (s: Record<string, unknown>) => ({ ...s, out: null, timings: null, generated: null, counts: { ...(s.counts as object), resumedProblems: 0 } });
    assert.deepEqual(strip(json(join(dir, 'mine-merged', 'summary.json'))), strip(json(join(dir, 'mine-single', 'summary.json'))));
    assert.ok(read(join(dir, 'mine-single', 'counterfactuals.jsonl')).split('\n').length > 3, 'too few records to test an order');
    // leaf export and leaf report read the merged folder as they read a single run's.
    for (const run of ['single', 'merged']) assert.equal(leaf(['export', '--format', 'chat-jsonl', '--mined', join(dir, `mine-${run}`), '--out', join(dir, `chat-${run}.jsonl`)]).code, 0);
    assert.equal(read(join(dir, 'chat-merged.jsonl')), read(join(dir, 'chat-single.jsonl')));
    assert.match(read(join(dir, 'chat-merged.jsonl')), /"kind":"counterfactual"/);
    const r = leaf(['report', '--mined', join(dir, 'mine-merged'), '--out', join(dir, 'merged.html')]);
    assert.equal(r.code, 0, r.err);
  });

  it('a mine summary.json in the snake_case format of earlier versions: merge and --resume stop in one line naming it', () => {
    const snake = (text: string) => text.replace(/"([a-z]+[A-Z][A-Za-z]*)":/g, (_, k: string) => `"${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}":`);
    const old = [0, 1, 2].map((i) => join(dir, `old-shard-${i}`));
    old.forEach((d, i) => cpSync(join(dir, `mine-shard-${i}`), d, { recursive: true }));
    const file = join(old[1]!, 'summary.json');
    writeFileSync(file, snake(readFileSync(file, 'utf8')));
    assert.match(read(file), /"skipped_lines":/);
    for (const r of [leaf(['merge', '--out', join(dir, 'old-merged'), ...old]), leaf([...mineArgs('old-shard-1'), '--shard', '1/3', '--resume'])]) {
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err, `leaf: ${file}: a summary.json in the snake_case format of an earlier leaf (summaries are camelCase now); mine that folder again (--overwrite keeps its cached generations)\n`);
    }
    assert.equal(existsSync(join(dir, 'old-merged')), false);
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

  it('leaf teacher-cache: Kubernetes Indexed Job (3 shards killed while writing rows), merged = one build; leaf distill --teacher-cache trains from it as from its own cache', async () => {
    const teacher = writeTinyModel(join(dir, 'kd-teacher'), { hidden: 64, layers: 4, seed: 5, std: 0.5 });
    const student = writeTinyModel(join(dir, 'kd-student'), { hidden: 32, layers: 1, seed: 7, std: 0.3 });
    const more = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + ${2 * i}? Explain.`, response: `${i} + ${2 * i} = ${3 * i}.${' So the sum is that.'.repeat(2 + (i % 5))}` }));
    const data = writeJsonl(join(dir, 'kd-train.jsonl'), [...TRAIN_RECORDS, ...more]);
    const cfs = writeJsonl(join(dir, 'kd-cf.jsonl'), CF_RECORDS);
    const cacheArgs = (out: string) => ['teacher-cache', '--teacher', teacher, '--student', student, '--data', data, '--counterfactuals', cfs, '--out', join(dir, out), '--top-k', '16', '--micro-batch-size', '2'];
    const single = leaf(cacheArgs('cache-single'));
    assert.equal(single.code, 0, single.err);
    assert.match(single.out, /^48 samples, \d+ rows of top 16 \(built\)/);
    const bytes = statSync(join(dir, 'cache-single', 'teacher-cache.bin')).size;
    const random = rng(17);
    const n = 3;
    const kills = await Promise.all(Array.from({ length: n }, (_, i) => runKilled([...cacheArgs(`cache-shard-${i}`), '--shard', 'auto', '--shard-count', String(n), '--resume'],
      { JOB_COMPLETION_INDEX: String(i) }, random, 2, { file: join(dir, `cache-shard-${i}`, 'teacher-cache.bin'), bytes: bytes / n })));
    assert.ok(kills.reduce((a, b) => a + b, 0) >= 2, `shards killed ${kills.join(', ')} times: the test did not exercise resumes`);
    const m = leaf(['merge', '--out', join(dir, 'cache-merged'), ...[1, 2, 0].map((i) => join(dir, `cache-shard-${i}`))]);
    assert.equal(m.code, 0, m.err);
    const files = readdirSync(join(dir, 'cache-single')).sort();
    assert.deepEqual(readdirSync(join(dir, 'cache-merged')).sort(), files);
    for (const f of files) assert.ok(readFileSync(join(dir, 'cache-merged', f)).equals(readFileSync(join(dir, 'cache-single', f))), f);
    const distillArgs = (out: string, ...extra: string[]) => ['distill', '--student', student, '--teacher', teacher, '--data', data, '--counterfactuals', cfs, '--out', join(dir, out),
      '--top-k', '16', '--epochs', '1', '--batch-size', '8', '--micro-batch-size', '2', '--lr', '1e-3', ...extra];
    for (const [out, extra] of [['kd-inline', ['--teacher-logits', 'cache']], ['kd-merged', ['--teacher-cache', join(dir, 'cache-merged')]]] as const) {
      const r = leaf(distillArgs(out, ...extra));
      assert.equal(r.code, 0, r.err);
    }
    assert.ok(readFileSync(join(dir, 'kd-merged', 'model', 'model.safetensors')).equals(readFileSync(join(dir, 'kd-inline', 'model', 'model.safetensors'))));
    const other = leaf(distillArgs('kd-other', '--teacher-cache', join(dir, 'cache-merged'), '--top-k', '8'));
    assert.equal(other.code, 1);
    assert.match(other.err, /^leaf: .*cache-merged\/teacher-cache\.json: built with --top-k 16, this run has 8\n$/);
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
