/**
 * Record files that hold one JSON array of objects (`[{…}, {…}]`, as GSM-IC releases its data)
 * read with the same rules and the same summary as JSONL (data/jsonl.ts), so a loader accepts
 * either: {@link forEachRecord} looks at the file's first non-blank byte and picks the reader.
 *
 * An array file is read whole (at most {@link MAX_ARRAY_BYTES}; above that the error says to convert
 * it to JSONL), then split into its top-level elements by a scanner that tracks strings and nesting,
 * so each element is parsed, validated and reported on its own: a bad element is skipped with the
 * 1-based line where it starts (`FILE:LINE: element K: reason`), like a bad JSONL line. A file whose
 * array is not closed, or has text after it, is one error naming the line.
 */
import * as fs from 'node:fs';
import { LeafError } from '../errors.js';
import { forEachJsonl, InvalidRecord, lineSkipper, type JsonlOptions, type JsonlSummary, type JsonObject } from './jsonl.js';

/** The largest JSON array file read (it is held as one string). */
export const MAX_ARRAY_BYTES = 256 << 20;

function cannotRead(file: string, err: unknown): never {
  throw new LeafError(`${file}: cannot read file: ${err instanceof Error ? err.message : String(err)}`);
}

/** Whether the first non-blank character of `file` (after a byte order mark) is `[`. */
export function isJsonArrayFile(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    return cannotRead(file, err);
  }
  try {
    const buf = Buffer.alloc(4096);
    let skipBom = true;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return false;
      let i = 0;
      if (skipBom && n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
      skipBom = false;
      for (; i < n; i++) {
        const c = buf[i]!;
        if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
        return c === 0x5b;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** One top-level element of an array: its source text and the 1-based line it starts on. */
export interface ArrayElement {
  text: string;
  line: number;
}

/**
 * The top-level elements of the JSON array `text` (which starts with `[` after blanks), without
 * parsing them. Throws a LeafError naming the line when the array is not closed or text follows it.
 */
export function splitJsonArray(text: string, file: string): ArrayElement[] {
  const out: ArrayElement[] = [];
  let i = text.indexOf('[') + 1;
  let line = 1 + countNewlines(text, 0, i);
  let depth = 0, inString = false, start = -1, startLine = line;
  const close = (end: number) => {
    const piece = text.slice(start, end).trim();
    if (piece !== '') out.push({ text: piece, line: startLine });
    start = -1;
  };
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character (never a newline in valid JSON)
      else if (c === 34) inString = false;
      continue;
    }
    if (start < 0 && c !== 32 && c !== 9 && c !== 10 && c !== 13 && !(depth === 0 && (c === 44 || c === 93))) {
      start = i;
      startLine = line;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && depth > 0) depth--;
    else if (depth === 0 && c === 44) {
      if (start >= 0) close(i);
      else throw new LeafError(`${file}:${line}: empty element in the JSON array (two commas)`);
    } else if (depth === 0 && c === 93) {
      if (start >= 0) close(i);
      const rest = text.slice(i + 1);
      if (rest.trim() !== '') throw new LeafError(`${file}:${line}: text after the closing ']' of the JSON array`);
      return out;
    }
  }
  throw new LeafError(`${file}:${line}: the JSON array is not closed (a truncated file?)`);
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function readArrayText(file: string, maxBytes: number): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    return cannotRead(file, err);
  }
  if (size > maxBytes) {
    throw new LeafError(`${file}: a JSON array file of ${(size / 2 ** 20).toFixed(0)} MiB; arrays are read whole, up to ${maxBytes >> 20} MiB — convert it to JSONL (one record a line)`);
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    return cannotRead(file, err);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new LeafError(`${file}: invalid UTF-8 (not a text file)`);
  }
}

/** Streams the object elements of a JSON array file to `onRecord`, with JSONL's rules and summary. */
export function forEachJsonArray<T = JsonObject>(
  file: string,
  opts: JsonlOptions<T> & { maxBytes?: number },
  onRecord: (record: T, line: number) => void,
): JsonlSummary {
  const elements = splitJsonArray(readArrayText(file, opts.maxBytes ?? MAX_ARRAY_BYTES), file);
  const summary: JsonlSummary = { file, lines: 0, blank: 0, kept: 0, skipped: 0, issues: [], truncatedLastLine: false, stoppedAtLimit: false };
  const limit = opts.limit ?? Infinity;
  const skip = lineSkipper(summary, opts);
  for (let index = 0; index < elements.length && summary.kept < limit; index++) {
    const { text, line } = elements[index]!;
    summary.lines = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      skip(line, `element ${index + 1}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      skip(line, `element ${index + 1}: not a JSON object (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`})`);
      continue;
    }
    let record: T;
    try {
      record = opts.validate ? opts.validate(value as JsonObject, { file, line, index }) : (value as T);
    } catch (err) {
      if (err instanceof InvalidRecord) {
        skip(line, `element ${index + 1}: ${err.reason}`);
        continue;
      }
      throw err;
    }
    summary.kept++;
    onRecord(record, line);
  }
  if (summary.kept >= limit) summary.stoppedAtLimit = true;
  return summary;
}

/** Streams the records of a JSONL file or of a JSON array file (decided by its first non-blank byte). */
export function forEachRecord<T = JsonObject>(
  file: string,
  opts: JsonlOptions<T>,
  onRecord: (record: T, line: number) => void,
): JsonlSummary {
  return isJsonArrayFile(file) ? forEachJsonArray(file, opts, onRecord) : forEachJsonl(file, opts, onRecord);
}

/** The first element or line of `file` that is a JSON object, with its line; null when none (bad lines are passed over). */
export function firstObject(file: string): { value: JsonObject; line: number } | null {
  let found: { value: JsonObject; line: number } | null = null;
  forEachRecord<JsonObject>(file, { limit: 1 }, (value, line) => {
    found = { value, line };
  });
  return found;
}
