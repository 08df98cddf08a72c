/**
 * The options of runEval(): the tunable ones declared once in EVAL_SPEC (flag, help, kind, default, rule) —
 * `leaf eval`'s flags, the library's defaults and checks and docs/eval.md's flag table come from it — then
 * the paths, modes and hooks.
 */
import type { ShardedRunControl } from '../data/run-control.js';
import type { Progress } from '../util/progress.js';
import { intAtLeast, option, resolveSpec, type ResolvedOf } from '../util/option-spec.js';
import { FORMAT_NAMES, formatOfAlias, type FormatName, type Task } from './formats/index.js';
import type { EvalRecord } from './runner.js';

/** runEval()'s tunable options, each declared once (util/option-spec.ts). */
export const EVAL_SPEC = {
  task: option<Task | null>({ flag: '--task <task>', help: 'math or code', kind: 'choice', choices: ['math', 'code'], default: null, defaultHelp: 'from the format' }),
  format: option<FormatName | null>({
    flag: '--format <name>', help: `${FORMAT_NAMES.join(' | ')} (also olympiad, math-500, humaneval+, mbpp+, lcb; any case)`,
    kind: 'choice', choices: FORMAT_NAMES, default: null, defaultHelp: 'detected from the first record',
  }),
  limit: option<number | null>({ flag: '--limit <n>', help: 'first N problems only', kind: 'int', default: null, defaultHelp: 'all', rule: intAtLeast(1) }),
  batchSize: option<number>({ flag: '--batch-size <b>', help: 'prompts decoded together', kind: 'int', default: 8, rule: intAtLeast(1) }),
  maxNewTokens: option<number | null>({
    flag: '--max-new-tokens <n>', help: 'maximum new tokens per response', kind: 'int', default: null, defaultHelp: '1024 math, 768 code', rule: intAtLeast(1),
  }),
};

/** The tunable options with their defaults applied (maxNewTokens null: by task, see maxNewTokensOf). */
export type EvalResolved = ResolvedOf<typeof EVAL_SPEC>;

/** Problems answered of all, with the number judged correct so far. */
export type EvalProgress = Progress<'eval', { correct: number }>;

export interface EvalOptions extends Partial<Omit<EvalResolved, 'format'>>, ShardedRunControl {
  data: string;
  out: string;
  /** A format name or alias (formats/index.ts); default: detected. */
  format?: FormatName | string | null;
  /** Sandbox workers for code (default: number of cores). */
  workers?: number;
  allowNetwork?: boolean;
  /** Called after each batch: problems done (this run and resumed), total. */
  onProgress?: (p: EvalProgress) => void;
  /** Called after each record is appended to results.jsonl (this run's records only). */
  onRecord?: (record: EvalRecord) => void;
  /** Called for each skipped input line (malformed). */
  onWarning?: (message: string) => void;
}

/** The options with their defaults, checked (one-line LeafError naming the flag); a format alias stands for its format. */
export function resolveEvalOptions(o: EvalOptions): EvalResolved {
  const format = typeof o.format === 'string' ? formatOfAlias(o.format) ?? o.format : o.format;
  return resolveSpec(EVAL_SPEC, { ...o, format });
}

/** The decoding length: --max-new-tokens, else 1024 tokens for math and 768 for code. */
export function maxNewTokensOf(r: EvalResolved, task: Task): number {
  return r.maxNewTokens ?? (task === 'math' ? 1024 : 768);
}
