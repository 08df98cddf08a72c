/**
 * Benchmark loaders: public record formats (GSM8K, GSM-IC, MATH / MATH-500, OlympiadBench, HumanEval(+),
 * MBPP(+), LiveCodeBench, simple stdio) and leaf's own mining format, read from JSONL into one
 * {@link Problem} type, with every malformed line reported by file and line (data/jsonl.ts). A file
 * may also hold one JSON array of records (data/json-array.ts), as GSM-IC's release files do.
 */
import { LeafError } from '../../errors.js';
import { InvalidRecord, type JsonlIssue, type JsonlSummary, type JsonObject } from '../../data/jsonl.js';
import { firstObject, forEachRecord } from '../../data/json-array.js';
import { gsm8k } from './gsm8k.js';
import { gsmIc } from './gsm-ic.js';
import { math } from './math.js';
import { olympiadbench } from './olympiadbench.js';
import { humaneval } from './humaneval.js';
import { mbpp } from './mbpp.js';
import { livecodebench, stdio } from './livecodebench.js';
import { leaf } from './leaf.js';
import type { FormatName, FormatSpec, Problem } from './types.js';

export type { FormatName, FormatSpec, Problem, ProblemTests, RecordContext, StdioCase, Task } from './types.js';
export { buildInstruction, MATH_INSTRUCTION, CODE_FENCE_INSTRUCTION } from './instruction.js';
export { gsm8kFinalAnswer } from './gsm8k.js';
export { unpickleString } from './livecodebench.js';

/** The formats in detection order (the first whose `detect` accepts the first record wins). */
export const FORMATS: readonly FormatSpec[] = [livecodebench, humaneval, mbpp, olympiadbench, gsmIc, gsm8k, math, stdio, leaf];

export const FORMAT_NAMES: readonly FormatName[] = FORMATS.map((f) => f.name);

const ALIASES: Record<string, FormatName> = {
  gsm8k: 'gsm8k',
  'gsm-ic': 'gsm-ic',
  gsmic: 'gsm-ic',
  gsm_ic: 'gsm-ic',
  math: 'math',
  math500: 'math',
  'math-500': 'math',
  olympiadbench: 'olympiadbench',
  olympiad: 'olympiadbench',
  humaneval: 'humaneval',
  'humaneval+': 'humaneval',
  humanevalplus: 'humaneval',
  evalplus: 'humaneval',
  mbpp: 'mbpp',
  'mbpp+': 'mbpp',
  mbppplus: 'mbpp',
  livecodebench: 'livecodebench',
  lcb: 'livecodebench',
  stdio: 'stdio',
  leaf: 'leaf',
};

/** The format a name as a user may type it stands for (case-insensitive; `math-500`, `humaneval+`, `lcb`, …), or undefined. */
export function formatOfAlias(name: string): FormatName | undefined {
  return ALIASES[name.trim().toLowerCase()];
}

/** A format name as a user may type it (case-insensitive; `math-500`, `humaneval+`, `lcb`, … accepted). */
export function parseFormatName(name: string): FormatName {
  const f = formatOfAlias(name);
  if (!f) throw new LeafError(`unknown format '${name}'; known formats: ${FORMAT_NAMES.join(', ')}`);
  return f;
}

export function formatSpec(name: FormatName): FormatSpec {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new LeafError(`unknown format '${name}'; known formats: ${FORMAT_NAMES.join(', ')}`);
  return f;
}

/** The format a record's keys indicate, or null. */
export function detectFormat(record: JsonObject): FormatName | null {
  for (const f of FORMATS) if (f.detect(record)) return f.name;
  return null;
}

/** Detects the format of `file` from its first record (the first line or array element that is a JSON object). */
export function detectFileFormat(file: string): FormatName {
  const first = firstObject(file);
  if (first === null) throw new LeafError(`${file}: no JSON object record found; cannot detect the format (known formats: ${FORMAT_NAMES.join(', ')})`);
  const name = detectFormat(first.value);
  if (name !== null) return name;
  const keys = Object.keys(first.value).slice(0, 20).join(', ') || 'none';
  throw new LeafError(
    `${file}:${first.line}: cannot tell the record format from the first record's keys (${keys}); ` +
      `known formats: ${FORMATS.map((f) => f.describe).join('; ')}. Name the format explicitly`,
  );
}

export interface LoadOptions {
  /** The format (default: detected from the first record). */
  format?: FormatName;
  /** Throw `FILE:LINE: reason` at the first bad line instead of skipping it with a warning. */
  strict?: boolean;
  /** Called for each skipped line as it is found. */
  onIssue?: (issue: JsonlIssue) => void;
  /** Load at most this many problems. */
  limit?: number;
}

export interface LoadResult extends JsonlSummary {
  format: FormatName;
  problems: Problem[];
}

/**
 * Loads the problems of a benchmark file (JSONL or one JSON array). Each line is validated by its format's loader;
 * a bad line (and a repeated id) is skipped with a warning naming file and line, or with
 * `strict` throws. The result counts every line (see data/jsonl.ts).
 */
export function loadProblems(file: string, opts: LoadOptions = {}): LoadResult {
  const format = opts.format ?? detectFileFormat(file);
  const spec = formatSpec(format);
  const firstLine = new Map<string, number>();
  const problems: Problem[] = [];
  const summary = forEachRecord<Problem>(
    file,
    {
      ...(opts.strict !== undefined ? { strict: opts.strict } : {}),
      ...(opts.onIssue ? { onIssue: opts.onIssue } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      validate: (r, { line, index }) => {
        const p = spec.parse(r, { line, index });
        const seen = firstLine.get(p.id);
        if (seen !== undefined) throw new InvalidRecord(`duplicate id '${p.id}' (first on line ${seen})`);
        firstLine.set(p.id, line);
        return p;
      },
    },
    (p) => problems.push(p),
  );
  return { ...summary, format, problems };
}
