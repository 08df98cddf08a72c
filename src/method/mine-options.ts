/**
 * The options of mine(): the tunable ones declared once in MINE_SPEC (flag, help, kind, default, rule) —
 * `leaf mine`'s flags, the library's defaults and checks and docs/mine.md's flag table all come from
 * it — then the paths, modes and hooks; and the checks of options that only make sense together.
 */
import { LeafError } from '../errors.js';
import type { ShardedRunControl } from '../data/run-control.js';
import type { Task } from '../eval/formats/index.js';
import { DTYPE_OPTION } from '../model/weights.js';
import type { Pretrained } from '../model/pretrained.js';
import type { Progress } from '../util/progress.js';
import { atLeast, finiteNumber, fraction, givenKeys, intAtLeast, option, resolveSpec, type ResolvedOf } from '../util/option-spec.js';
import type { Level, Pruning } from './counterfactuals.js';
import { MINING_UNITS, type MiningUnit } from './flagging.js';
import { MINING_METHODS, type MiningMethod } from './score.js';
import { VERIFY_MODES, type VerifyMode } from './verify.js';

/** mine()'s tunable options, each declared once (util/option-spec.ts). */
export const MINE_SPEC = {
  task: option<Task | null>({
    flag: '--task <task>', help: 'math or code: mine only problems of this task', kind: 'choice', choices: ['math', 'code'],
    default: null, defaultHelp: 'all, each judged by its own task',
  }),
  level: option<Level>({
    flag: '--level <level>', help: 'instruction (score the prompt) or response (score the response before each segment j ≥ 2)',
    kind: 'choice', choices: ['instruction', 'response'], default: 'instruction',
  }),
  segments: option<number | null>({
    flag: '--segments <k>', help: 'response level: split the response into k segments', kind: 'int',
    default: (r) => (r.level === 'response' ? 2 : null), defaultHelp: '2 (response level)', rule: intAtLeast(2),
  }),
  method: option<MiningMethod>({ flag: '--method <m>', help: MINING_METHODS.join(' | '), kind: 'choice', choices: MINING_METHODS, default: 'gradient' }),
  threshold: option<number>({
    flag: '--threshold <q>', help: "fraction of each unit's tokens to flag: thr = min(q-quantile of D, 0.5), flag D ≤ thr",
    kind: 'number', default: 0.1, rule: fraction,
  }),
  thresholdAbs: option<number | null>({
    flag: '--threshold-abs <tau>', help: 'flag D ≤ τ instead of the quantile rule', kind: 'number', default: null, defaultHelp: 'off', rule: finiteNumber,
  }),
  unit: option<MiningUnit>({
    flag: '--unit <u>', help: 'token (flag tokens: the reference rule) or sentence (score each sentence by the mean D of its tokens, flag whole sentences)',
    kind: 'choice', choices: MINING_UNITS, default: 'token',
  }),
  topUnits: option<number | null>({
    flag: '--top-units <k>', help: 'sentence unit: flag the k lowest sentences of each prompt instead of the threshold rule',
    kind: 'int', default: null, defaultHelp: 'off', rule: intAtLeast(1),
  }),
  studentWeight: option<number>({
    flag: '--student-weight <w>', help: "w in D = minmax(ĝ_T − w·ĝ_S): 1 = the paper's teacher-minus-student difference, 0 = the teacher's saliency alone",
    kind: 'number', default: 1, rule: atLeast(0),
  }),
  protectLastSentence: option<boolean>({
    flag: '--protect-last-sentence', kind: 'boolean', default: false,
    help: "never score or cut the prompt's last sentence (e.g. the question); records may also give protected_spans",
  }),
  pruning: option<Pruning>({
    flag: '--pruning <p>', help: 'span (one counterfactual per span or flagged sentence) or collective (all at once)',
    kind: 'choice', choices: ['span', 'collective'], default: 'span',
  }),
  verify: option<VerifyMode>({
    flag: '--verify <who>', help: `${VERIFY_MODES.join(' | ')}: which models must answer a counterfactual right for it to be kept (--no-verify: none)`,
    kind: 'choice', choices: VERIFY_MODES, default: 'both',
  }),
  verifyEquations: option<boolean>({
    flag: '--verify-equations', kind: 'boolean', default: false,
    help: "a verifying answer must also show the reference response's worked equations, not only its final answer",
  }),
  limit: option<number | null>({ flag: '--limit <n>', help: 'first N problems only', kind: 'int', default: null, defaultHelp: 'all', rule: intAtLeast(1) }),
  seed: option<number>({ flag: '--seed <s>', help: 'seed of the random baseline', kind: 'int', default: 1234, rule: intAtLeast(0) }),
  batchSize: option<number>({ flag: '--batch-size <b>', help: 'prompts decoded together (and occlusion forward batch)', kind: 'int', default: 8, rule: intAtLeast(1) }),
  maxNewTokens: option<number>({ flag: '--max-new-tokens <n>', help: 'maximum new tokens per answer', kind: 'int', default: 1024, rule: intAtLeast(1) }),
  /** Resident dtype of the weight matrices of models loaded from folders (models given loaded are used as they are). */
  dtype: DTYPE_OPTION,
};

/** The tunable options with their defaults applied. */
export type MineResolved = ResolvedOf<typeof MINE_SPEC>;

export interface MineOptions extends Partial<Omit<MineResolved, 'verify'>>, ShardedRunControl {
  /** Model folders, or models already loaded. */
  teacher: string | Pretrained;
  student: string | Pretrained;
  /** Mining input (leaf format JSONL). */
  data: string;
  /** Output folder. */
  out: string;
  /** Which models must answer a counterfactual right (verify.ts; default both; true = both, false = none). */
  verify?: boolean | VerifyMode;
  /** JSONL `{id, response}` of teacher answers used instead of generating them in selection. */
  teacherOutputs?: string;
  /** The generation cache (default OUT/generations.jsonl); runs of several methods on the same models and data may share one, one run at a time. */
  generations?: string;
  /** Code sandbox workers (default: number of cores). */
  workers?: number;
  allowNetwork?: boolean;
  /** fsync every record (default true); false only flushes to the OS (survives a process kill, not a power cut). */
  fsync?: boolean;
  onProgress?: (p: MineProgress) => void;
  onWarning?: (message: string) => void;
  /** Called after each record is appended (tests use it to interrupt a run). */
  onRecord?: (file: 'scores' | 'counterfactuals' | 'generations', record: unknown) => void;
}

/** Problems done of the run's problems, with the counts so far. */
export type MineProgress = Progress<'mine', { selected: number; counterfactuals: number; verified: number }>;

/** The options with their defaults, checked (one-line LeafError naming the flag), and their combinations checked. */
export function resolveMineOptions(o: MineOptions): MineResolved {
  const verify = o.verify === true ? 'both' : o.verify === false ? 'none' : o.verify;
  const r = resolveSpec(MINE_SPEC, { ...o, verify });
  checkCombinations(givenKeys(MINE_SPEC, o), r);
  return r;
}

/** Options that only make sense together (`given`: the options given, not defaulted). */
function checkCombinations(given: Set<keyof MineResolved>, r: MineResolved): void {
  const fail = (m: string) => {
    throw new LeafError(m);
  };
  if (given.has('threshold') && given.has('thresholdAbs')) fail('give --threshold q or --threshold-abs τ, not both');
  if (given.has('segments') && r.level !== 'response') fail('--segments needs --level response');
  if (given.has('topUnits')) {
    if (r.unit !== 'sentence') fail('--top-units needs --unit sentence');
    if (given.has('threshold') || given.has('thresholdAbs')) fail('give --top-units k or a threshold (--threshold / --threshold-abs), not both');
  }
  const response = r.level === 'response';
  if (response && r.protectLastSentence) fail('--protect-last-sentence applies to the prompt: it needs --level instruction');
  if (response && r.method === 'oracle') fail('--method oracle cuts the ground-truth spans of the prompt: it needs --level instruction');
  if (response && r.verifyEquations) fail('--verify-equations needs --level instruction');
  if (r.verifyEquations && r.verify === 'none') fail('--verify-equations needs verification (--verify both or teacher)');
}
