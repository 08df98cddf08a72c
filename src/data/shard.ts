/**
 * Sharded runs: a deterministic partition of a job's input problems across `count` processes
 * (machines, scheduler tasks), so that `leaf merge` can put the shards' outputs back together as
 * one run over the whole input.
 *
 * Partition: the problem at position p (0-based, among the input's valid problems after `--limit`,
 * in input order) belongs to shard p mod count. It depends only on the input and the options that
 * choose its problems — not on batch size, workers, timing or how often a shard was resumed.
 *
 * `--shard auto` takes the shard from the scheduler's environment: Kubernetes Indexed Jobs
 * (`JOB_COMPLETION_INDEX`, with the count given by `--shard-count`) or Slurm job arrays
 * (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT` contiguous tasks).
 *
 * Each shard's output folder holds `shard.json`: the shard, the number of problems in the whole
 * input and the ids of its own problems in order — what merge needs to interleave the records back
 * into input order and to notice a missing or repeated shard.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export const SHARD_FILE = 'shard.json';

/** A non-negative integer (≥ 1 for a count) from a flag or an environment variable. */
function parseNat(v: string, what: string, min = 0): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= min) || !Number.isSafeInteger(n)) throw new LeafError(`${what} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got '${v}'`);
  return n;
}
const parseCount = (v: string, what: string): number => parseNat(v, what, 1);

function checked(index: number, count: number, source: string): Shard {
  if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new LeafError(`${source}: shard index ${index} is not in 0..${count - 1}`);
  return { index, count };
}

/** The shard from the scheduler's environment (see the module comment). */
export function shardFromEnv(env: NodeJS.ProcessEnv, shardCount?: number): Shard {
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== '') {
    if (shardCount === undefined) throw new LeafError('--shard auto under a Kubernetes Indexed Job (JOB_COMPLETION_INDEX is set) needs --shard-count n (the Job\'s completions)');
    return checked(parseNat(k8s, 'JOB_COMPLETION_INDEX'), shardCount, 'JOB_COMPLETION_INDEX');
  }
  const id = env.SLURM_ARRAY_TASK_ID;
  if (id !== undefined && id !== '') {
    const count = parseCount(env.SLURM_ARRAY_TASK_COUNT ?? '', 'SLURM_ARRAY_TASK_COUNT');
    const min = env.SLURM_ARRAY_TASK_MIN === undefined || env.SLURM_ARRAY_TASK_MIN === '' ? 0 : parseNat(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN');
    const step = env.SLURM_ARRAY_TASK_STEP;
    if (step !== undefined && step !== '' && step !== '1') throw new LeafError(`SLURM_ARRAY_TASK_STEP is ${step}: --shard auto needs a contiguous array (--array=0-${count - 1})`);
    const max = env.SLURM_ARRAY_TASK_MAX;
    if (max !== undefined && max !== '' && parseNat(max, 'SLURM_ARRAY_TASK_MAX') - min + 1 !== count) {
      throw new LeafError(`the Slurm array ${min}-${max} has ${count} tasks: --shard auto needs a contiguous array (--array=0-${count - 1})`);
    }
    if (shardCount !== undefined && shardCount !== count) throw new LeafError(`--shard-count ${shardCount} but the Slurm array has ${count} tasks`);
    return checked(parseNat(id, 'SLURM_ARRAY_TASK_ID') - min, count, 'SLURM_ARRAY_TASK_ID');
  }
  throw new LeafError('--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard i/n');
}

/** `--shard i/n` (0 ≤ i < n) or `--shard auto` (from `env`). */
export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env, shardCount?: number): Shard {
  if (spec.trim() === 'auto') return shardFromEnv(env, shardCount);
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new LeafError(`--shard must be i/n (e.g. 0/4) or auto, got '${spec}'`);
  const count = parseCount(m[2]!, '--shard n');
  if (shardCount !== undefined && shardCount !== count) throw new LeafError(`--shard ${spec} but --shard-count ${shardCount}`);
  return checked(Number(m[1]), count, `--shard ${spec.trim()}`);
}

/** The items of `shard` (positions index, index + count, …), in order; all of them without a shard. */
export function takeShard<T>(items: readonly T[], shard: Shard | undefined): T[] {
  return shard === undefined ? [...items] : items.filter((_, p) => p % shard.count === shard.index);
}

/** What a shard's folder records for merge. */
export interface ShardFile {
  shard: Shard;
  /** Problems in the whole input (all shards together). */
  problems: number;
  /** This shard's problem ids, in input order. */
  ids: string[];
}

/** Writes OUT/shard.json for a sharded run (atomically; the same content on every resume). */
export function writeShardFile(out: string, shard: Shard, allIds: readonly string[]): void {
  const file: ShardFile = { shard, problems: allIds.length, ids: takeShard(allIds, shard) };
  writeFileAtomicSync(join(out, SHARD_FILE), JSON.stringify(file) + '\n');
}

/** Reads DIR/shard.json; null when the folder is not a shard. */
export function readShardFile(dir: string): ShardFile | null {
  const f = join(dir, SHARD_FILE);
  if (!existsSync(f)) return null;
  let v: ShardFile;
  try {
    v = JSON.parse(readFileSync(f, 'utf8')) as ShardFile;
  } catch (e) {
    throw new LeafError(`${f}: unreadable (${(e as Error).message})`);
  }
  const ok = v && typeof v === 'object' && v.shard && Number.isInteger(v.shard.index) && Number.isInteger(v.shard.count) && Number.isInteger(v.problems) && Array.isArray(v.ids);
  if (!ok) throw new LeafError(`${f}: not a shard record (needs shard {index, count}, problems, ids)`);
  return v;
}

/**
 * The global input order of the shards' problems: interleaves each shard's ids (position p is the
 * (p div n)-th id of shard p mod n). `shards[i]` must be shard i.
 */
export function interleaveIds(shards: readonly ShardFile[]): string[] {
  const total = shards[0]?.problems ?? 0;
  const n = shards.length;
  const out: string[] = [];
  for (let p = 0; p < total; p++) out.push(shards[p % n]!.ids[Math.floor(p / n)]!);
  return out;
}
