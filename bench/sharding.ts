/**
 * The sharding lines of the bench: what splitting a job costs. `leaf eval` over the same problems, and
 * `leaf teacher-cache` over their worked responses, each once as one process, then as n = 2 shard
 * processes started together (`--shard i/2`) and merged;
 * reported: each shard's wall time against half the single run's (1.00× = no overhead; process
 * start, model load and the smaller batches are the overhead), and the merge time. On a machine
 * with fewer free cores than shards the shards compete for them, so the ratio then measures that
 * contention too — the line says how many cores there were.
 *
 *   node dist/bench/sharding.js [--problems=N] [--layers=N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getKernels } from '../src/kernels/index.js';
import { parseConfig } from '../src/model/config.js';
import { randomModel } from '../src/model/random-init.js';
import { saveModel } from '../src/model/save.js';

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = resolve(dirname(thisFile), '..', '..');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const TOKENIZER = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'qwen2-bytelevel');

function arg(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
}

/** A random Qwen2 model on the test tokenizer (vocabulary = its 393 ids, so every decoded id is a token). */
function writeModel(dir: string, layers: number): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER, f), join(dir, f));
  const config = parseConfig({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 393, hidden_size: 256, intermediate_size: 512,
    num_hidden_layers: layers, num_attention_heads: 8, num_key_value_heads: 2, rope_theta: 10000, max_position_embeddings: 4096,
    tie_word_embeddings: true, rms_norm_eps: 1e-6,
  });
  saveModel(randomModel(config, getKernels(), Float32Array, { seed: 5, std: 0.05 }), dir, { companionsFrom: dir });
}

function run(args: string[]): Promise<number> {
  const t = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res, rej) => child.on('exit', (code) => (code === 0 ? res((performance.now() - t) / 1000) : rej(new Error(`leaf ${args[0]} failed: ${err}`)))));
}

interface ShardTimes {
  single: number;
  shards: number[];
  merge: number;
}

/** One job's single run, then its n = 2 shards started together (`--shard i/2`), then their merge. */
async function timeShards(dir: string, job: string, args: (out: string) => string[]): Promise<ShardTimes> {
  const single = await run(args(`${job}-single`));
  const shards = await Promise.all([0, 1].map((i) => run([...args(`${job}-shard-${i}`), '--shard', `${i}/2`])));
  const t = performance.now();
  const merged = spawnSync(process.execPath, [cli, 'merge', '--out', join(dir, `${job}-merged`), join(dir, `${job}-shard-0`), join(dir, `${job}-shard-1`)]);
  if (merged.status !== 0) throw new Error(`leaf merge (${job}) failed: ${merged.stderr}`);
  return { single, shards, merge: (performance.now() - t) / 1000 };
}

function row(what: string, t: ShardTimes, cores: number): { line: string; worst: number } {
  const worst = Math.max(...t.shards) / (t.single / 2);
  const line = `sharding (${what}, n = 2 on ${cores} cores): single ${t.single.toFixed(1)} s; shards ${t.shards.map((s) => s.toFixed(1)).join(' s, ')} s` +
    ` = ${worst.toFixed(2)}× half the single run (worst shard); merge ${t.merge.toFixed(2)} s`;
  return { line, worst };
}

/** The eval row and the teacher-cache row (`leaf teacher-cache` over the problems with a worked response, the model as its own teacher). */
export async function shardingBenchLine(problems = 48, layers = 4): Promise<{ line: string; json: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-bench-shards-'));
  try {
    const model = join(dir, 'model');
    writeModel(model, layers);
    const data = join(dir, 'data.jsonl');
    const response = (i: number) => `Tom starts with ${i} apples. He buys ${i % 7} more, so he has ${i} + ${i % 7} = ${i + (i % 7)} apples. The answer is ${i + (i % 7)}.`;
    writeFileSync(data, Array.from({ length: problems }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Tom has ${i} apples and buys ${i % 7} more. How many?`, answer: String(i + (i % 7)), response: response(i) })).join('\n') + '\n');
    const cores = availableParallelism();
    const ev = await timeShards(dir, 'eval', (out) => ['eval', '--model', model, '--data', data, '--out', join(dir, out), '--max-new-tokens', '24', '--batch-size', '4']);
    const kd = await timeShards(dir, 'cache', (out) => ['teacher-cache', '--teacher', model, '--student', model, '--data', data, '--out', join(dir, out), '--top-k', '64', '--micro-batch-size', '2']);
    const a = row(`leaf eval, ${problems} problems`, ev, cores), b = row(`leaf teacher-cache, ${problems} samples`, kd, cores);
    const json = {
      problems, cores, single_s: ev.single, shard0_s: ev.shards[0]!, shard1_s: ev.shards[1]!, worst_ratio: a.worst, merge_s: ev.merge,
      cache_single_s: kd.single, cache_shard0_s: kd.shards[0]!, cache_shard1_s: kd.shards[1]!, cache_worst_ratio: b.worst, cache_merge_s: kd.merge,
    };
    return { line: `${a.line}\n${b.line}`, json };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === thisFile) {
  const r = await shardingBenchLine(arg('problems', 48), arg('layers', 4));
  process.stdout.write(`${r.line}\n${JSON.stringify(r.json)}\n`);
}
