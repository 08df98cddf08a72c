/**
 * Reading a `leaf mine` output folder (scores.jsonl, counterfactuals.jsonl, summary.json) into the
 * report's views, plus the ground truth of a benchmark file (records with `distractors`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidRecord, readJsonl, type JsonObject } from '../data/jsonl.js';
import { LeafError } from '../errors.js';
import { loadMiningData } from '../method/input.js';
import type { CounterfactualView, RangeView, ScoreView, TokenView, VerdictView } from './data.js';

export interface ScoreRecord extends ScoreView {
  id: string;
  sourceId: string;
}

export interface CounterfactualRecord extends CounterfactualView {
  sourceId: string;
  originalPrompt: string;
}

export interface MinedOutput {
  dir: string;
  scores: ScoreRecord[];
  counterfactuals: CounterfactualRecord[];
  summary: JsonObject | null;
  /** Skipped lines, `file:line: reason`. */
  warnings: string[];
}

/** A benchmark problem with ground truth. */
export interface TruthRecord {
  id: string;
  prompt: string;
  answer: string | null;
  response: string | null;
  distractors: RangeView[] | null;
}

function str(r: JsonObject, k: string): string {
  const v = r[k];
  if (typeof v !== 'string') throw new InvalidRecord(`field '${k}' must be a string`);
  return v;
}

function optStr(r: JsonObject, k: string): string | null {
  const v = r[k];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new InvalidRecord(`field '${k}' must be a string or null`);
  return v;
}

function nums(r: JsonObject, k: string, nullable: true): number[] | null;
function nums(r: JsonObject, k: string, nullable: false): number[];
function nums(r: JsonObject, k: string, nullable: boolean): number[] | null {
  const v = r[k];
  if ((v === undefined || v === null) && nullable) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new InvalidRecord(`field '${k}' must be a list of numbers`);
  return v as number[];
}

function ranges(v: unknown, k: string, text: string | null): RangeView[] {
  if (!Array.isArray(v)) throw new InvalidRecord(`field '${k}' must be a list of {start, end, text}`);
  return v.map((x, i) => {
    const o = x as JsonObject;
    if (!o || typeof o !== 'object' || !Number.isInteger(o.start) || !Number.isInteger(o.end) || (o.end as number) < (o.start as number)) {
      throw new InvalidRecord(`${k}[${i}] must have integer start ≤ end`);
    }
    const start = o.start as number, end = o.end as number;
    if (text !== null && end > text.length) throw new InvalidRecord(`${k}[${i}] ends at ${end}, after the text (${text.length} characters)`);
    const t = typeof o.text === 'string' ? o.text : text !== null ? text.slice(start, end) : '';
    return { start, end, text: t };
  });
}

function level(r: JsonObject): 'instruction' | 'response' {
  const v = r.level;
  if (v !== 'instruction' && v !== 'response') throw new InvalidRecord("field 'level' must be \"instruction\" or \"response\"");
  return v;
}

function segment(r: JsonObject): number | null {
  const v = r.segment;
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v)) throw new InvalidRecord("field 'segment' must be an integer or null");
  return v as number;
}

export function parseScoreRecord(r: JsonObject): ScoreRecord {
  const text = str(r, 'text');
  if (!Array.isArray(r.tokens)) throw new InvalidRecord("field 'tokens' must be a list of {text, start, end}");
  const tokens: TokenView[] = ranges(r.tokens, 'tokens', text);
  const n = tokens.length;
  const student = nums(r, 'student', true), teacher = nums(r, 'teacher', true), diff = nums(r, 'diff', false);
  for (const [k, v] of [['student', student], ['teacher', teacher], ['diff', diff]] as const) {
    if (v && v.length !== n) throw new InvalidRecord(`field '${k}' has ${v.length} values for ${n} tokens`);
  }
  const candidates = nums(r, 'candidates', false);
  if (candidates.some((i) => !Number.isInteger(i) || i < 0 || i >= n)) throw new InvalidRecord(`field 'candidates' has an index outside 0..${n - 1}`);
  const threshold = typeof r.threshold === 'number' ? r.threshold : NaN;
  return {
    id: str(r, 'id'), sourceId: str(r, 'source_id'), method: str(r, 'method'), level: level(r), segment: segment(r), text, tokens,
    student, teacher, diff, threshold, candidates, spans: ranges(r.spans ?? [], 'spans', text),
  };
}

function verdict(v: unknown, k: string): VerdictView | null {
  if (v === undefined || v === null) return null;
  const o = v as JsonObject;
  if (typeof o !== 'object' || typeof o.correct !== 'boolean') throw new InvalidRecord(`field '${k}' must be null or {response, answer, correct}`);
  return { answer: typeof o.answer === 'string' ? o.answer : null, correct: o.correct };
}

export function parseCounterfactualRecord(r: JsonObject): CounterfactualRecord {
  const v = r.verified;
  if (v !== true && v !== false && v !== null && v !== undefined) throw new InvalidRecord("field 'verified' must be true, false or null");
  const lvl = level(r);
  const originalPrompt = str(r, 'original_prompt');
  return {
    id: str(r, 'id'), sourceId: str(r, 'source_id'), method: str(r, 'method'), level: lvl, pruning: optStr(r, 'pruning') ?? 'span',
    segment: segment(r), removed: ranges(r.removed ?? [], 'removed', null), prompt: str(r, 'prompt'), originalPrompt,
    responsePrefix: optStr(r, 'response_prefix'), verified: v ?? null,
    teacher: verdict(r.teacher, 'teacher'), student: verdict(r.student, 'student'),
  };
}

/** Reads a mining output folder; scores.jsonl is required, the rest optional. Malformed lines are skipped with a warning. */
export function readMined(dir: string): MinedOutput {
  const scoresFile = join(dir, 'scores.jsonl');
  if (!existsSync(scoresFile)) throw new LeafError(`${scoresFile}: missing (is ${dir} a \`leaf mine\` output folder?)`);
  const warnings: string[] = [];
  const onIssue = (i: { file: string; line: number; reason: string }) => warnings.push(`${i.file}:${i.line}: ${i.reason}`);
  const scores = readJsonl(scoresFile, { validate: parseScoreRecord, onIssue }).records;
  const cfFile = join(dir, 'counterfactuals.jsonl');
  const counterfactuals = existsSync(cfFile) ? readJsonl(cfFile, { validate: parseCounterfactualRecord, onIssue }).records : [];
  let summary: JsonObject | null = null;
  const sumFile = join(dir, 'summary.json');
  if (existsSync(sumFile)) {
    try {
      const v = JSON.parse(readFileSync(sumFile, 'utf8')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) summary = v as JsonObject;
    } catch (e) {
      throw new LeafError(`${sumFile}: not valid JSON (${(e as Error).message})`);
    }
  }
  return { dir, scores, counterfactuals, summary, warnings };
}

/**
 * Reads a problems file keyed by id, through the mining input reader (method/input.ts): leaf's format or
 * a math benchmark (GSM-IC included), JSONL or one JSON array; the ground truth is each record's
 * `distractor_spans` (GSM-IC: the inserted sentence), as `leaf mine` reads it.
 */
export function readTruth(file: string, warnings: string[] = []): Map<string, TruthRecord> {
  const data = loadMiningData(file, { onIssue: (m) => warnings.push(m) });
  return new Map(data.problems.map(({ problem: p, truth }) => [p.id, {
    id: p.id, prompt: p.prompt, answer: p.answer ?? null, response: p.response ?? null,
    distractors: truth === null ? null : truth.map((t) => ({ start: t.start, end: t.end, text: p.prompt.slice(t.start, t.end) })),
  }]));
}
