/**
 * One distracted-arithmetic word problem (GSM-IC style): a start quantity, 2–4 operations (each a
 * reasoning step of the worked solution), a question, and 0–3 irrelevant sentences with numbers
 * inserted between the sentences. The exact character span of every inserted sentence in the prompt
 * is recorded as ground truth.
 */
import { Rng } from '../../util/rng.js';
import {
  DISTRACTOR_TEMPLATES, NAMES, OBJECTS, OP_TEMPLATES, QUESTION_TEMPLATE, SOLUTION_END, SOLUTION_START, SOLUTION_STEP,
  START_TEMPLATE, fill, type DistractorTemplate, type DistractorTopic, type OpTemplate,
} from './lexicon.js';

export interface CharRange {
  start: number;
  end: number;
  text: string;
}

export interface ProblemSettings {
  /** Operations (= reasoning steps) per problem, inclusive range (default 2–4). */
  minSteps: number;
  maxSteps: number;
  /** Inserted irrelevant sentences, inclusive range (default 0–3). */
  minDistractors: number;
  maxDistractors: number;
  /** Start quantity range (default 2–9). */
  minStart: number;
  maxStart: number;
  /** Operand range (default 1–9). */
  maxOperand: number;
  /**
   * Every running total stays in 0..maxTotal (default 9: single-digit quantities, so that the answer is
   * one token of the word-level tokenizer and a judge reading a space-joined decoding still finds it).
   */
  maxTotal: number;
  /** Distractor numbers range (default 2–9: as confusable with the operands as possible). */
  minDistractorNumber: number;
  maxDistractorNumber: number;
  /** Restrict distractor topics (default both). */
  topics: readonly DistractorTopic[];
  /** Distractor topics whose sentences are written without a number (default none). */
  vagueTopics: readonly DistractorTopic[];
}

export const DEFAULT_PROBLEM_SETTINGS: ProblemSettings = {
  minSteps: 2, maxSteps: 4, minDistractors: 0, maxDistractors: 3, minStart: 2, maxStart: 9, maxOperand: 9, maxTotal: 9,
  minDistractorNumber: 2, maxDistractorNumber: 9, topics: ['same', 'other'], vagueTopics: [],
};

/** The arithmetic core of a problem: what the answer depends on. */
export interface ProblemCore {
  start: number;
  ops: { template: OpTemplate; operand: number }[];
}

export interface ArithProblem {
  prompt: string;
  /** The worked step-by-step solution, ending with \boxed{answer}. */
  response: string;
  answer: number;
  /** Ground truth: the inserted irrelevant sentences, as exact ranges of `prompt`. */
  distractors: CharRange[];
  /** The prompt without the inserted sentences (what a perfectly focused reader sees). */
  cleanPrompt: string;
  core: ProblemCore;
  distractorTemplates: DistractorTemplate[];
  /** Template ids and numbers: the key that splits keep disjoint. */
  key: string;
}

function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function pickOther<T>(rng: Rng, xs: readonly T[], not: readonly T[]): T {
  const pool = xs.filter((x) => !not.includes(x));
  return pick(rng, pool);
}

/** Samples the arithmetic core: operations whose running totals stay within 0..maxTotal. */
export function sampleCore(rng: Rng, s: ProblemSettings): ProblemCore {
  const steps = between(rng, s.minSteps, s.maxSteps);
  for (;;) {
    const start = between(rng, s.minStart, s.maxStart);
    let x = start;
    const ops: ProblemCore['ops'] = [];
    let ok = true;
    for (let i = 0; i < steps && ok; i++) {
      const template = pick(rng, OP_TEMPLATES);
      const operand = between(rng, 1, s.maxOperand);
      const y = template.sign === '+' ? x + operand : x - operand;
      if (y < 0 || y > s.maxTotal) ok = false;
      else {
        ops.push({ template, operand });
        x = y;
      }
    }
    if (ok) return { start, ops };
  }
}

/** The key of a core: template ids and numbers (two problems with the same key differ only in names, objects and distractors). */
export function coreKey(core: ProblemCore): string {
  return [String(core.start), ...core.ops.map((o) => `${o.template.id}${o.template.sign}${o.operand}`)].join(' ');
}

/** Version of the problem texts the generator writes for given settings (2: number agreement, "1 apple"). */
export const ARITH_GENERATOR_VERSION = 2;

/** The answer of a core, recomputed from its operations. */
export function coreAnswer(core: ProblemCore): number {
  return core.ops.reduce((x, o) => (o.template.sign === '+' ? x + o.operand : x - o.operand), core.start);
}

/** Builds the full problem text around a given core. */
export function buildProblem(rng: Rng, core: ProblemCore, s: ProblemSettings): ArithProblem {
  const N = pick(rng, NAMES);
  const F = pickOther(rng, NAMES, [N]);
  const P = pickOther(rng, NAMES, [N, F]);
  const Q = pickOther(rng, NAMES, [N, F, P]);
  const O = pick(rng, OBJECTS);
  const O2 = pickOther(rng, OBJECTS, [O]);
  const sentences: string[] = [fill(START_TEMPLATE, { N, a: core.start, O })];
  for (const op of core.ops) sentences.push(fill(op.template.text, { N, F, O, b: op.operand }));
  const question = fill(QUESTION_TEMPLATE, { N, O });

  // Distractors: each goes into one of the gaps after the start sentence (before an operation or the question).
  const nd = between(rng, s.minDistractors, s.maxDistractors);
  const pool = DISTRACTOR_TEMPLATES.filter((d) => s.topics.includes(d.topic));
  const chosen: DistractorTemplate[] = [];
  const slots: number[] = [];
  for (let i = 0; i < nd; i++) {
    const d = pickOther(rng, pool, chosen.length < pool.length ? chosen : []);
    chosen.push(d);
    slots.push(1 + rng.int(sentences.length)); // after the start sentence, up to before the question
  }
  const inserted: { slot: number; text: string; template: DistractorTemplate }[] = chosen.map((template, i) => ({
    slot: slots[i], template,
    text: fill(s.vagueTopics.includes(template.topic) ? template.vague : template.text, { N, P, Q, O, O2, c: between(rng, s.minDistractorNumber, s.maxDistractorNumber) }),
  }));
  // Stable order: by slot, then by draw order.
  const order = inserted.map((_, i) => i).sort((a, b) => inserted[a].slot - inserted[b].slot || a - b);

  const parts: { text: string; distractor: boolean }[] = [];
  let k = 0;
  for (let slot = 0; slot <= sentences.length; slot++) {
    while (k < order.length && inserted[order[k]].slot === slot) parts.push({ text: inserted[order[k++]].text, distractor: true });
    parts.push({ text: slot < sentences.length ? sentences[slot] : question, distractor: false });
  }
  let prompt = '';
  const distractors: CharRange[] = [];
  for (const p of parts) {
    if (prompt) prompt += ' ';
    if (p.distractor) distractors.push({ start: prompt.length, end: prompt.length + p.text.length, text: p.text });
    prompt += p.text;
  }
  const cleanPrompt = parts.filter((p) => !p.distractor).map((p) => p.text).join(' ');

  const lines = SOLUTION_START ? [fill(SOLUTION_START, { start: sentences[0] })] : [];
  let x = core.start;
  for (const [i, op] of core.ops.entries()) {
    const y = op.template.sign === '+' ? x + op.operand : x - op.operand;
    lines.push(fill(SOLUTION_STEP, { op: sentences[i + 1].replace(/\.$/, ''), x, sign: op.template.sign, b: op.operand, y }));
    x = y;
  }
  lines.push(fill(SOLUTION_END, { y: x }));
  return {
    prompt, response: lines.join(' '), answer: x, distractors, cleanPrompt, core,
    distractorTemplates: order.map((i) => inserted[i].template), key: coreKey(core),
  };
}
