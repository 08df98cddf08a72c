/**
 * JSONL input: one JSON object per line, read in bounded chunks (a 100 MB file is never held as one
 * string), every line accounted for.
 *
 * Each non-blank line is either kept or skipped with a reason naming the file and its 1-based line
 * number: invalid UTF-8, invalid JSON, a value that is not a JSON object, or a rejection by the
 * caller's validator (which throws {@link InvalidRecord}). By default skipped lines are collected
 * as issues (warnings); with `strict: true` the first one throws a LeafError `FILE:LINE: reason`.
 * Blank (whitespace-only) lines are counted as blank and are not errors. A final line without a
 * newline is read normally; if it does not parse it is reported as a truncated last line (the
 * partially written record of a killed run). Always `lines === blank + kept + skipped`.
 *
 * Handles a UTF-8 byte order mark at the start of the file and CRLF line ends.
 *
 * Lines are capped (see {@link maxLineBytes}): a line longer than the cap — e.g. `/dev/zero`, an endless
 * line — stops reading with a LeafError `FILE:LINE: line longer than N bytes` once N bytes have been
 * buffered, so memory and time stay bounded whatever the input.
 */
import * as fs from 'node:fs';
import { LeafError } from '../errors.js';
import { writeAllSync, writeFileAtomicSync } from '../io/atomic.js';

/** A parsed JSON object (one line of a JSONL file). */
export type JsonObject = Record<string, unknown>;

/**
 * Thrown by a validator to reject one record: the line is skipped (or, in strict mode, reported as
 * the error) with `reason`. Any other exception thrown by a validator propagates unchanged.
 */
export class InvalidRecord extends Error {
  override readonly name = 'InvalidRecord';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Validates one parsed object and returns the value to keep; throws {@link InvalidRecord} to reject it. */
export type RecordValidator<T> = (value: JsonObject, where: RecordWhere) => T;

/** Where a record is: its file, 1-based line, and 0-based index among the file's non-blank lines. */
export interface RecordWhere {
  file: string;
  line: number;
  index: number;
}

export interface JsonlIssue {
  file: string;
  /** 1-based line number. */
  line: number;
  reason: string;
}

export interface JsonlOptions<T> {
  /** Throw a LeafError `FILE:LINE: reason` at the first malformed line instead of skipping it. */
  strict?: boolean;
  /** Checks and converts each object (default: the object itself). */
  validate?: RecordValidator<T>;
  /** Called for each skipped line as it is found (e.g. to print a warning). */
  onIssue?: (issue: JsonlIssue) => void;
  /** Stop after this many kept records (the summary then covers the lines read so far). */
  limit?: number;
  /** Read buffer size in bytes (default 4 MiB); exposed for tests. */
  chunkBytes?: number;
  /** Cap on one line's length in bytes (default: {@link maxLineBytes}); a longer line is a LeafError FILE:LINE. */
  maxLineBytes?: number;
}

export interface JsonlSummary {
  file: string;
  /** Lines read (blank ones included; a final line without a newline counts). */
  lines: number;
  blank: number;
  kept: number;
  skipped: number;
  /** One entry per skipped line, in file order. */
  issues: JsonlIssue[];
  /** The last line had no final newline and did not parse (a partially written record). */
  truncatedLastLine: boolean;
  /** Reading stopped early because `limit` records were kept. */
  stoppedAtLimit: boolean;
}

export interface JsonlResult<T> extends JsonlSummary {
  records: T[];
  /** 1-based line number of each kept record (parallel to `records`). */
  lineNumbers: number[];
}

/** One raw line: its 1-based number, its text, whether a newline ended it. */
export interface RawLine {
  line: number;
  text: string;
  terminated: boolean;
  /** Set when the bytes are not valid UTF-8 (`text` is then empty). */
  badUtf8?: boolean;
  /** Set (to the line's byte length) when the line is too long to decode into one string (`text` is then empty). */
  tooLong?: number;
}

const DEFAULT_CHUNK = 4 << 20;

/** The default cap on one line's length in bytes (64 MiB). */
export const DEFAULT_MAX_LINE_BYTES = 64 << 20;
let lineCap = DEFAULT_MAX_LINE_BYTES;

/**
 * The process-wide cap on one line's length in bytes, for every JSONL read (the CLI's `--max-line-bytes`).
 * With `bytes` it sets the cap (a positive integer) and returns the new value.
 */
export function maxLineBytes(bytes?: number): number {
  if (bytes !== undefined) {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new LeafError(`the line-length cap must be a positive integer, got ${bytes}`);
    lineCap = bytes;
  }
  return lineCap;
}

function lineTooLong(file: string, line: number, cap: number): LeafError {
  return new LeafError(`${file}:${line}: line longer than ${cap} bytes (the cap on one input line; raise it with --max-line-bytes)`);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/**
 * The lines of `file`, read in chunks of `chunkBytes`. A line's bytes are decoded as strict UTF-8
 * (invalid bytes are flagged, not replaced); a leading byte order mark and a trailing `\r` are removed.
 * A line longer than `maxBytes` (default: {@link maxLineBytes}) is a LeafError naming the file and line.
 */
export function* readLines(file: string, chunkBytes = DEFAULT_CHUNK, maxBytes = lineCap): Generator<RawLine> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if (isSystemError(err)) throw new LeafError(`${file}: cannot read file: ${err.message}`);
    throw err;
  }
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const decode = (bytes: Uint8Array, line: number, terminated: boolean): RawLine => {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch (e) {
      // A line longer than the longest string V8 can hold (~512 MiB) fails with a RangeError, not a TypeError.
      if (e instanceof RangeError) return { line, text: '', terminated, tooLong: bytes.length };
      return { line, text: '', terminated, badUtf8: true };
    }
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { line, text, terminated };
  };
  try {
    const buf = Buffer.allocUnsafe(Math.max(1, chunkBytes));
    let carry: Buffer[] = [];
    let carryLen = 0;
    let line = 0;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if (isSystemError(err)) throw new LeafError(`${file}: cannot read file: ${err.message}`);
        throw err;
      }
      if (n === 0) break;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= n) break;
        line++;
        let bytes: Uint8Array = buf.subarray(start, nl);
        if (carryLen + bytes.length > maxBytes) throw lineTooLong(file, line, maxBytes);
        if (carryLen > 0) {
          bytes = Buffer.concat([...carry, bytes], carryLen + bytes.length);
          carry = [];
          carryLen = 0;
        }
        yield decode(bytes, line, true);
        start = nl + 1;
      }
      if (start < n) {
        if (carryLen + n - start > maxBytes) throw lineTooLong(file, line + 1, maxBytes);
        carry.push(Buffer.from(buf.subarray(start, n)));
        carryLen += n - start;
      }
    }
    if (carryLen > 0) {
      line++;
      yield decode(Buffer.concat(carry, carryLen), line, false);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Records one skipped line in `summary` (and tells `onIssue`), or in strict mode throws `FILE:LINE: reason`. */
export function lineSkipper(summary: JsonlSummary, opts: Pick<JsonlOptions<unknown>, 'strict' | 'onIssue'>): (line: number, reason: string) => void {
  return (line, reason) => {
    if (opts.strict) throw new LeafError(`${summary.file}:${line}: ${reason}`);
    const issue = { file: summary.file, line, reason };
    summary.skipped++;
    summary.issues.push(issue);
    opts.onIssue?.(issue);
  };
}

/**
 * Streams the records of `file` to `onRecord` without collecting them (for inputs too large to
 * hold). Returns the summary; see the module comment for the rules.
 */
export function forEachJsonl<T = JsonObject>(
  file: string,
  opts: JsonlOptions<T>,
  onRecord: (record: T, line: number) => void,
): JsonlSummary {
  const summary: JsonlSummary = {
    file,
    lines: 0,
    blank: 0,
    kept: 0,
    skipped: 0,
    issues: [],
    truncatedLastLine: false,
    stoppedAtLimit: false,
  };
  const limit = opts.limit ?? Infinity;
  if (limit <= 0) {
    summary.stoppedAtLimit = true;
    return summary;
  }
  const skip = lineSkipper(summary, opts);
  for (const raw of readLines(file, opts.chunkBytes, opts.maxLineBytes)) {
    summary.lines++;
    if (raw.badUtf8) {
      skip(raw.line, 'invalid UTF-8 (not a text line)');
      continue;
    }
    if (raw.tooLong !== undefined) {
      skip(raw.line, `line too long (${raw.tooLong} bytes; the limit is about 512 MiB)`);
      continue;
    }
    if (raw.text.trim() === '') {
      summary.blank++;
      continue;
    }
    const index = summary.lines - summary.blank - 1;
    let value: unknown;
    try {
      value = JSON.parse(raw.text);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (!raw.terminated) {
        summary.truncatedLastLine = true;
        skip(raw.line, `truncated last line (no final newline; a partially written record?): invalid JSON (${msg})`);
      } else {
        skip(raw.line, `invalid JSON (${msg})`);
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      skip(raw.line, `not a JSON object (got ${describe(value)})`);
      continue;
    }
    let record: T;
    if (opts.validate) {
      try {
        record = opts.validate(value as JsonObject, { file, line: raw.line, index });
      } catch (err) {
        if (err instanceof InvalidRecord) {
          skip(raw.line, err.reason);
          continue;
        }
        throw err;
      }
    } else {
      record = value as T;
    }
    summary.kept++;
    onRecord(record, raw.line);
    if (summary.kept >= limit) {
      summary.stoppedAtLimit = true;
      break;
    }
  }
  return summary;
}

/** Reads every record of `file` into memory; see the module comment for the rules. */
export function readJsonl<T = JsonObject>(file: string, opts: JsonlOptions<T> = {}): JsonlResult<T> {
  const records: T[] = [];
  const lineNumbers: number[] = [];
  const summary = forEachJsonl(file, opts, (r, line) => {
    records.push(r);
    lineNumbers.push(line);
  });
  return { ...summary, records, lineNumbers };
}

/** One line of JSONL for `value` (a JSON object), newline included. JSON.stringify never emits a raw newline. */
export function jsonlLine(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LeafError(`jsonl: a record must be a JSON object, got ${describe(value)}`);
  }
  return `${JSON.stringify(value)}\n`;
}

/** A one-line account of a summary, e.g. `data.jsonl: 1000 lines, 998 records, 1 blank, 1 skipped`. */
export function formatSummary(s: JsonlSummary): string {
  const parts = [`${s.lines} lines`, `${s.kept} records`];
  if (s.blank > 0) parts.push(`${s.blank} blank`);
  parts.push(`${s.skipped} skipped`);
  if (s.stoppedAtLimit) parts.push('stopped at limit');
  return `${s.file}: ${parts.join(', ')}`;
}

/**
 * Writes `records` as a complete JSONL file atomically (see io/atomic.ts): readers see the old file
 * or the whole new one. For append-as-you-go outputs of long jobs use data/record-log.ts instead.
 */
export function writeJsonlAtomic(file: string, records: Iterable<unknown>): void {
  writeFileAtomicSync(file, (fd) => {
    let pending: string[] = [];
    let size = 0;
    for (const r of records) {
      const line = jsonlLine(r);
      pending.push(line);
      size += line.length;
      if (size >= 1 << 20) {
        writeAllSync(fd, Buffer.from(pending.join(''), 'utf8'));
        pending = [];
        size = 0;
      }
    }
    if (pending.length > 0) writeAllSync(fd, Buffer.from(pending.join(''), 'utf8'));
  });
}
