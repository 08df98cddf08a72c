/**
 * Seeded train / validation / test splits of the distracted-arithmetic benchmark, in leaf's mining
 * input format plus the ground-truth distractor spans:
 *
 *   { id, prompt, response, answer, distractors: [{start, end, text}], distractor_spans: [[start, end]],
 *     metadata: {split, key, steps, distractor_templates, clean_prompt} }
 *
 * (`distractor_spans` is what `leaf mine` reads as ground truth; `distractors`, with the text, what the report reads.)
 *
 * Splits never share a template-and-numbers combination: every problem's core key (start quantity,
 * operation template ids and operands) is hashed with the split salt to exactly one split, and a split
 * only keeps problems whose key hashes to it. Within one file a key appears at most once.
 */
import { LeafError } from '../../errors.js';
import { Rng } from '../../util/rng.js';
import { buildProblem, coreKey, DEFAULT_PROBLEM_SETTINGS, sampleCore, type ArithProblem, type CharRange, type ProblemSettings } from './problem.js';

export type SplitName = 'train' | 'validation' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

/** Fractions of the key space per split. */
const SPLIT_CUT: Record<SplitName, [number, number]> = { train: [0, 0.8], validation: [0.8, 0.9], test: [0.9, 1] };

/** 32-bit FNV-1a. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The split a core key belongs to (for the given salt). */
export function splitOfKey(key: string, salt = 0): SplitName {
  const u = fnv1a(`${salt}:${key}`) / 4294967296;
  for (const s of SPLITS) if (u >= SPLIT_CUT[s][0] && u < SPLIT_CUT[s][1]) return s;
  return 'test';
}

/** One line of a benchmark JSONL file. */
export interface ArithRecord {
  id: string;
  prompt: string;
  response: string;
  answer: string;
  distractors: CharRange[];
  distractor_spans: Array<[number, number]>;
  metadata: {
    split: SplitName;
    key: string;
    steps: number;
    distractor_templates: string[];
    clean_prompt: string;
  };
}

export function toRecord(p: ArithProblem, id: string, split: SplitName): ArithRecord {
  return {
    id, prompt: p.prompt, response: p.response, answer: String(p.answer), distractors: p.distractors,
    distractor_spans: p.distractors.map((d) => [d.start, d.end]),
    metadata: {
      split, key: p.key, steps: p.core.ops.length, distractor_templates: p.distractorTemplates.map((d) => d.id),
      clean_prompt: p.cleanPrompt,
    },
  };
}

function seedFor(seed: number, label: string): number {
  return fnv1a(`${seed}/${label}`);
}

/**
 * Draws problems of one split: cores are sampled until their key hashes to `split` (and, with
 * `unique`, was not drawn before in this call). Deterministic for (seed, label, settings).
 */
export function* problemStream(
  split: SplitName, seed: number, label: string, settings: Partial<ProblemSettings> = {}, unique = false, salt = 0,
): Generator<ArithProblem> {
  const s = { ...DEFAULT_PROBLEM_SETTINGS, ...settings };
  if (s.minSteps < 1 || s.maxSteps < s.minSteps) throw new LeafError(`arith: bad step range ${s.minSteps}..${s.maxSteps}`);
  if (s.minDistractors < 0 || s.maxDistractors < s.minDistractors) throw new LeafError(`arith: bad distractor range ${s.minDistractors}..${s.maxDistractors}`);
  const rng = new Rng(seedFor(seed, `${split}/${label}`));
  const seen = new Set<string>();
  let misses = 0;
  for (;;) {
    const core = sampleCore(rng, s);
    const key = coreKey(core);
    if (splitOfKey(key, salt) !== split || (unique && seen.has(key))) {
      if (++misses > 1_000_000) throw new LeafError(`arith: cannot draw more distinct ${split} problems with these settings`);
      continue;
    }
    misses = 0;
    if (unique) seen.add(key);
    yield buildProblem(rng, core, s);
  }
}

/** `n` records of a split (distinct keys), ids `arith-<split>-<i>`. */
export function generateSplit(split: SplitName, n: number, seed: number, settings: Partial<ProblemSettings> = {}, label = 'benchmark'): ArithRecord[] {
  const out: ArithRecord[] = [];
  if (n <= 0) return out;
  const width = String(n - 1).length;
  for (const p of problemStream(split, seed, label, settings, true)) {
    out.push(toRecord(p, `arith-${split}-${String(out.length).padStart(width, '0')}`, split));
    if (out.length === n) break;
  }
  return out;
}
