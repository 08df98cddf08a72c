/**
 * Mining input: leaf's own format (eval/formats/leaf.ts), one problem a line. Every malformed line
 * (and a repeated id) is reported with its line number and skipped, or with `strict` stops the run.
 * The raw judging fields (`answer`, `tests`, `entry_point`) are kept to be passed through into the
 * counterfactual records, so the distillation and evaluation stages can judge them again.
 */
import { LeafError } from '../errors.js';
import { forEachJsonl, InvalidRecord, readJsonl, type JsonlIssue } from '../data/jsonl.js';
import { parseLeaf } from '../eval/formats/leaf.js';
import type { Problem, Task } from '../eval/formats/index.js';
import type { CharSpan } from './sentence-units.js';

export interface MiningProblem {
  problem: Problem;
  line: number;
  /** `protected_spans`: character ranges of the prompt never scored or cut (sentence-units.ts). */
  protect: CharSpan[];
  /** `distractor_spans`: ground-truth distractors, character ranges of the prompt (oracle, detection metrics); null when absent. */
  truth: CharSpan[] | null;
  /** `answer`, `tests`, `entry_point` as they were in the input (only those present). */
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

export function loadMiningData(file: string, opts: { strict?: boolean; limit?: number; task?: Task; onIssue?: (message: string) => void } = {}): LoadedMiningData {
  const problems: MiningProblem[] = [];
  const skipped: string[] = [];
  const firstLine = new Map<string, number>();
  const note = (i: JsonlIssue) => {
    const m = `${i.file}:${i.line}: ${i.reason}`;
    skipped.push(m);
    opts.onIssue?.(m);
  };
  const summary = forEachJsonl<MiningProblem>(
    file,
    {
      ...(opts.strict !== undefined ? { strict: opts.strict } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      onIssue: note,
      validate: (r, { line }) => {
        const problem = parseLeaf(r);
        if (opts.task !== undefined && problem.task !== opts.task) throw new InvalidRecord(`a ${problem.task} problem, but --task is ${opts.task}`);
        const seen = firstLine.get(problem.id);
        if (seen !== undefined) throw new InvalidRecord(`duplicate id '${problem.id}' (first on line ${seen})`);
        firstLine.set(problem.id, line);
        const passthrough: Record<string, unknown> = {};
        for (const k of PASSTHROUGH) if (Object.prototype.hasOwnProperty.call(r, k) && r[k] !== undefined && r[k] !== null) passthrough[k] = r[k];
        const protect = spanList(r.protected_spans, 'protected_spans', problem.prompt.length) ?? [];
        const truth = spanList(r.distractor_spans, 'distractor_spans', problem.prompt.length);
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
