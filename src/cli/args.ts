import { InvalidArgumentError, type Command } from 'commander';
import { LeafError } from '../errors.js';
import { parseShard, type Shard } from '../data/shard.js';

/** Commander parser for an integer option ≥ min. */
export function intArg(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

/** Commander parser for a number option in [min, max]. */
export function numArg(name: string, min = -Infinity, max = Infinity): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    return n;
  };
}

/** One warning line on stderr, in the CLI's format. */
export function warnLine(message: string): void {
  process.stderr.write(`leaf: warning: ${message}\n`);
}

/** Adds the code sandbox's `--workers n` and `--unsafe-allow-network` (eval, mine). */
export function sandboxOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'code sandbox workers (default: number of cores)', intArg('--workers', 1))
    .option('--unsafe-allow-network', 'run generated code even where no network namespace can be made');
}

/** Adds `--shard i/n|auto` and `--shard-count n` (data/shard.ts) to a command; `unit` names what is sharded (default: the input problems). */
export function shardOptions(cmd: Command, unit = 'the input problems'): Command {
  return cmd
    .option('--shard <i/n|auto>', `only shard i of n of ${unit} (position mod n); auto: from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID/COUNT (Slurm array). Join the shards with leaf merge`)
    .option('--shard-count <n>', 'with --shard auto under Kubernetes: the number of shards (the Job\'s completions)', intArg('--shard-count', 1));
}

/** The shard the flags ask for, or undefined. */
export function shardOf(f: { shard?: string; shardCount?: number }): Shard | undefined {
  if (f.shard === undefined) {
    if (f.shardCount !== undefined) throw new LeafError('--shard-count needs --shard auto');
    return undefined;
  }
  return parseShard(f.shard, process.env, f.shardCount);
}
