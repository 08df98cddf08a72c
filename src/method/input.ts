/**
 * Mining input: leaf's own format (eval/formats/leaf.ts), one problem a line, or a math benchmark
 * file (GSM8K, GSM-IC, MATH, OlympiadBench; detected from the first record), as JSONL or as one JSON
 * array (data/json-array.ts). Every malformed line
 * (and a repeated id) is reported with its line number and skipped, or with `strict` stops the run.
 * The raw judging fields (`answer`, `tests`, `entry_point`) are kept to be passed through into the
 * counterfactual records, so the distillation and evaluation stages can judge them again.
 */
import { LeafError } from '../errors.js';
import { InvalidRecord, readJsonl, type JsonlIssue, type JsonObject } from '../data/jsonl.js';
import { forEachRecord } from '../data/json-array.js';
import { parseLeaf } from '../eval/formats/leaf.js';
import { detectFileFormat, formatSpec, type FormatName, type Problem, type RecordContext, type Task } from '../eval/formats/index.js';
import type { CharSpan } from './sentence-units.js';

export interface MiningProblem {
  problem: Problem;
  line: number;
  /** `protected_spans`: character ranges of the prompt never scored or cut (sentence-units.ts). */
  protect: CharSpan[];
  /** `distractor_spans`: ground-truth distractors, character ranges of the prompt (oracle, detection metrics); null when absent. */
  truth: CharSpan[] | null;
  /** `answer`, `tests`, `entry_point` as they were in leaf's format (only those present); a benchmark's `answer`. */
  passthrough: Record<string, unknown>;
}

export interface LoadedMiningData {
  problems: MiningProblem[];
  /** `file:line: reason` for every skipped line. */
  skipped: string[];
  lines: number;
}

const PASSTHROUGH = ['answer', 'tests', 'entry_point'] as const;

/**
 * An optional list of character ranges `[[start, end], …]` — UTF-16 offsets into the record's
 * `prompt`, end exclusive — as `protected_spans` and `distractor_spans` give them; null when absent.
 */
export function spanList(v: unknown, key: string, length: number): CharSpan[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new InvalidRecord(`field '${key}' must be a list of [start, end] character offsets into 'prompt'`);
  return v.map((x, i) => {
    if (!Array.isArray(x) || x.length !== 2 || !x.every((n) => Number.isInteger(n))) throw new InvalidRecord(`${key}[${i}] must be [start, end] (two integers)`);
    const [start, end] = x as [number, number];
    if (!(0 <= start && start <= end && end <= length)) throw new InvalidRecord(`${key}[${i}] = [${start}, ${end}] is not a range of the prompt (${length} characters)`);
    return { start, end };
  });
}

/** The record parser for `file`: leaf's format, or a math benchmark's (whose answer is passed through). */
function miningParser(file: string): (r: JsonObject, ctx: RecordContext) => { problem: Problem; passthrough: Record<string, unknown>; truth: CharSpan[] | null } {
  let format: FormatName;
  try {
    format = detectFileFormat(file);
  } catch (e) {
    if (!(e instanceof LeafError)) throw e;
    format = 'leaf'; // no recognisable first record: leaf's format, each bad line reported as it is read
  }
  if (format === 'leaf') {
    return (r) => {
      const passthrough: Record<string, unknown> = {};
      for (const k of PASSTHROUGH) if (Object.prototype.hasOwnProperty.call(r, k) && r[k] !== undefined && r[k] !== null) passthrough[k] = r[k];
      const problem = parseLeaf(r);
      return { problem, passthrough, truth: spanList(r.distractor_spans, 'distractor_spans', problem.prompt.length) };
    };
  }
  const spec = formatSpec(format);
  if (spec.task !== 'math') throw new LeafError(`${file}: a ${format} file; leaf mine reads leaf's format or a math benchmark (gsm8k, gsm-ic, math, olympiadbench) — convert code problems to leaf's format`);
  return (r, ctx) => {
    const problem = spec.parse(r, ctx);
    const truth = problem.distractorSpans?.map(([start, end]) => ({ start, end })) ?? null;
    return { problem, passthrough: { answer: problem.answer }, truth };
  };
}

export function loadMiningData(file: string, opts: { strict?: boolean; limit?: number; task?: Task; onIssue?: (message: string) => void } = {}): LoadedMiningData {
  const problems: MiningProblem[] = [];
  const skipped: string[] = [];
  const firstLine = new Map<string, number>();
  const note = (i: JsonlIssue) => {
    const m = `${i.file}:${i.line}: ${i.reason}`;
    skipped.push(m);
    opts.onIssue?.(m);
  };
  const parse = miningParser(file);
  const summary = forEachRecord<MiningProblem>(
    file,
    {
      ...(opts.strict !== undefined ? { strict: opts.strict } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      onIssue: note,
      validate: (r, { line, index }) => {
        const { problem, passthrough, truth } = parse(r, { line, index });
        if (opts.task !== undefined && problem.task !== opts.task) throw new InvalidRecord(`a ${problem.task} problem, but --task is ${opts.task}`);
        const seen = firstLine.get(problem.id);
        if (seen !== undefined) throw new InvalidRecord(`duplicate id '${problem.id}' (first on line ${seen})`);
        firstLine.set(problem.id, line);
        const protect = spanList(r.protected_spans, 'protected_spans', problem.prompt.length) ?? [];
        return { problem, line, protect, truth, passthrough };
      },
    },
    (p) => problems.push(p),
  );
  return { problems, skipped, lines: summary.lines };
}

/** --teacher-outputs: JSONL `{ id, response }` lines; bad lines are errors (they would silently become generations). */
export function loadTeacherOutputs(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const read = readJsonl<{ id: string; response: string }>(file, {
    strict: true,
    validate: (r) => {
      const id = typeof r.id === 'number' && Number.isInteger(r.id) ? String(r.id) : r.id;
      if (typeof id !== 'string' || id === '') throw new InvalidRecord("needs a string 'id'");
      if (typeof r.response !== 'string') throw new InvalidRecord("needs a string 'response'");
      if (out.has(id)) throw new InvalidRecord(`duplicate id '${id}'`);
      out.set(id, r.response);
      return { id, response: r.response };
    },
  });
  if (read.kept === 0) throw new LeafError(`${file}: no teacher outputs`);
  return out;
}
