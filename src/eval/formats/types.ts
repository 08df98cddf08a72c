/**
 * The one internal problem type that every benchmark loader produces, and helpers the loaders share
 * to validate fields (each failure rejects the record with a reason; see data/jsonl.ts).
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';

export type FormatName = 'gsm8k' | 'gsm-ic' | 'math' | 'olympiadbench' | 'humaneval' | 'mbpp' | 'livecodebench' | 'stdio' | 'leaf';

export type Task = 'math' | 'code';

/** One stdin/stdout test case. */
export interface StdioCase {
  input: string;
  output: string;
}

/**
 * How a code problem is judged (see eval/code/judges.ts):
 *  - `humaneval`: `test` defines check(candidate); run `check(<entryPoint>)` (judgeHumanEval with
 *    { prompt, entry_point: entryPoint, test });
 *  - `mbpp`: `assert` lines run after the solution (judgeMbpp with { test_list: testList,
 *    test_setup_code: setupCode, test_imports: imports });
 *  - `stdio`: the program is run once per case (judgeStdio with `cases`).
 */
export type ProblemTests =
  | { kind: 'humaneval'; test: string; entryPoint: string }
  | { kind: 'mbpp'; testList: string[]; setupCode?: string; imports?: string[]; challengeTestList?: string[] }
  | { kind: 'stdio'; cases: StdioCase[]; /** The first `publicCount` cases are the public (sample) ones. */ publicCount?: number };

export interface Problem {
  /** Unique within a file; the key for resuming (record-log.ts). */
  id: string;
  task: Task;
  format: FormatName;
  /**
   * The problem as the dataset states it: the math question, the HumanEval prompt code, the MBPP
   * task text, the stdio problem statement. {@link buildInstruction} turns it into a generation prompt.
   */
  prompt: string;
  /** Math: the reference final answer (several answers joined with ", " — see `answers`). */
  answer?: string;
  /** Math: every reference final answer, when the dataset lists them (OlympiadBench). */
  answers?: string[];
  /** Math: the reference solution; code: the canonical solution (HumanEval's is the body after the prompt). */
  solution?: string;
  /** Code: the function the tests call (HumanEval, leaf's own format). */
  entryPoint?: string;
  tests?: ProblemTests;
  /** leaf's mining format: a given response to the prompt. */
  response?: string;
  /**
   * Ground-truth distractors: character spans [start, end) of `prompt` known to be irrelevant (GSM-IC's
   * inserted sentence), for the oracle and detection metrics (mining's `distractor_spans`).
   */
  distractorSpans?: Array<[number, number]>;
  /** Dataset fields kept for reports (level, subject, unit, …), under the names documented per format. */
  metadata?: Record<string, unknown>;
}

/** Where a record came from: its 1-based line and its 0-based index among the file's non-blank lines. */
export interface RecordContext {
  line: number;
  index: number;
}

export interface FormatSpec {
  name: FormatName;
  task: Task | 'math or code';
  /** One line for help texts and the detection error: the fields that identify the format. */
  describe: string;
  /** Whether a (first) record looks like this format, from its keys. */
  detect(record: JsonObject): boolean;
  /** Converts one record; throws InvalidRecord naming the field at fault. */
  parse(record: JsonObject, ctx: RecordContext): Problem;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

export function has(r: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(r, key) && r[key] !== undefined;
}

/** A required string field (non-empty unless `allowEmpty`). */
export function reqString(r: JsonObject, key: string, opts: { allowEmpty?: boolean } = {}): string {
  if (!has(r, key)) throw new InvalidRecord(`missing field '${key}'`);
  const v = r[key];
  if (typeof v !== 'string') throw new InvalidRecord(`field '${key}' must be a string, got ${kind(v)}`);
  if (!opts.allowEmpty && v.trim() === '') throw new InvalidRecord(`field '${key}' is empty`);
  return v;
}

/** An optional string field: undefined when absent or null, an error when another type. */
export function optString(r: JsonObject, key: string): string | undefined {
  if (!has(r, key) || r[key] === null) return undefined;
  const v = r[key];
  if (typeof v !== 'string') throw new InvalidRecord(`field '${key}' must be a string, got ${kind(v)}`);
  return v;
}

/** A required list of strings (non-empty unless `allowEmpty`). */
export function reqStringList(r: JsonObject, key: string, opts: { allowEmpty?: boolean } = {}): string[] {
  if (!has(r, key) || r[key] === null) throw new InvalidRecord(`missing field '${key}'`);
  return stringList(r[key], key, opts);
}

export function optStringList(r: JsonObject, key: string): string[] | undefined {
  if (!has(r, key) || r[key] === null) return undefined;
  return stringList(r[key], key, { allowEmpty: true });
}

function stringList(v: unknown, key: string, opts: { allowEmpty?: boolean }): string[] {
  if (!Array.isArray(v)) throw new InvalidRecord(`field '${key}' must be a list of strings, got ${kind(v)}`);
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw new InvalidRecord(`field '${key}'[${i}] must be a string, got ${kind(x)}`);
  });
  if (!opts.allowEmpty && v.length === 0) throw new InvalidRecord(`field '${key}' is an empty list`);
  return v as string[];
}

/** An id field that is a string or an integer, as a string; undefined when absent. */
export function optId(r: JsonObject, key: string): string | undefined {
  if (!has(r, key) || r[key] === null) return undefined;
  const v = r[key];
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  throw new InvalidRecord(`field '${key}' must be a non-empty string or an integer, got ${kind(v)}`);
}

export function reqId(r: JsonObject, key: string): string {
  const id = optId(r, key);
  if (id === undefined) throw new InvalidRecord(`missing field '${key}'`);
  return id;
}

/** Copies the fields present in `r` (and not null) into a metadata object, renaming as given. */
export function pickMetadata(r: JsonObject, names: Record<string, string>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [from, to] of Object.entries(names)) {
    if (has(r, from) && r[from] !== null) out[to] = r[from];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Adds `metadata` only when there is some (keeps records free of empty keys). */
export function withMetadata(p: Problem, metadata: Record<string, unknown> | undefined): Problem {
  if (metadata !== undefined) p.metadata = metadata;
  return p;
}
