/**
 * Append-only JSONL output for long jobs (evaluation, confounder mining, distillation data).
 *
 * Each record is one line written with a single write call on a file opened in append mode and
 * then fsynced (unless `fsync: false`), so a killed run loses at most the record in flight, which
 * can only be an unterminated last line.
 *
 * `RecordLog.open(file, { resume: true })` reads what a previous run wrote, removes such a partial
 * last line (the file is truncated to its last complete line) and returns the records already
 * done, so the caller can skip their keys and append the rest: the finished file is then byte for
 * byte the file an uninterrupted run would have written (given the same records in the same order).
 * Without `resume`, a non-empty file is refused unless `overwrite: true` (then it is emptied).
 *
 * A complete line that does not parse is not silently dropped: resuming fails with
 * `FILE:LINE: reason`. One writer per file: a log is not locked itself; data/run-folder.ts locks the folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LeafError } from '../errors.js';
import { fsyncDir, writeAllSync } from '../io/atomic.js';
import { jsonlLine, readJsonl, type JsonObject, type RecordValidator } from './jsonl.js';

export interface RecordLogOptions<T> {
  /** Continue an existing file: keep its complete records, drop a partial last line. */
  resume?: boolean;
  /** Without resume: empty an existing non-empty file instead of refusing. */
  overwrite?: boolean;
  /** fsync after every record (default true); false only flushes to the OS (survives a process kill, not a power cut). */
  fsync?: boolean;
  /** Checks/converts each existing record when resuming; an InvalidRecord fails the resume with FILE:LINE. */
  validate?: RecordValidator<T>;
  /** Called after each record is written (e.g. to count, or to interrupt a run in tests). */
  onAppend?: (record: T) => void;
}

/** What resuming removed: the unterminated last line of a killed run. */
export interface DroppedTail {
  /** 1-based line number of the partial line. */
  line: number;
  bytes: number;
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

function sysError(file: string, what: string, err: unknown): unknown {
  return isSystemError(err) ? new LeafError(`${file}: cannot ${what}: ${err.message}`) : err;
}

/** Size of the file up to and including its last `\n` (0 when it has none). */
function completePrefixLength(fd: number, size: number): number {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = fs.readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(10);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

function countNewlines(fd: number, length: number): number {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let count = 0;
  for (let pos = 0; pos < length; ) {
    const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, length - pos), pos);
    if (n === 0) break;
    for (let i = chunk.indexOf(10, 0); i >= 0 && i < n; i = chunk.indexOf(10, i + 1)) count++;
    pos += n;
  }
  return count;
}

export class RecordLog<T = JsonObject> {
  /** Records already in the file when it was opened with `resume` (empty otherwise). */
  readonly existing: T[];
  /** The partial last line removed when resuming, or null. */
  readonly droppedTail: DroppedTail | null;
  private fd: number | null;
  private written = 0;

  private constructor(
    readonly file: string,
    fd: number,
    existing: T[],
    droppedTail: DroppedTail | null,
    private readonly sync: boolean,
    private readonly onAppend: ((record: T) => void) | undefined,
  ) {
    this.fd = fd;
    this.existing = existing;
    this.droppedTail = droppedTail;
  }

  /** Opens (creating if needed) `file` for appending; see the module comment. */
  static open<T = JsonObject>(file: string, opts: RecordLogOptions<T> = {}): RecordLog<T> {
    const sync = opts.fsync ?? true;
    let size = -1;
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) throw new LeafError(`${file}: not a regular file`);
      size = st.size;
    } catch (err) {
      if (!(isSystemError(err) && err.code === 'ENOENT')) throw sysError(file, 'open output', err);
    }

    let existing: T[] = [];
    let droppedTail: DroppedTail | null = null;
    if (size > 0 && opts.resume) {
      ({ existing, droppedTail } = RecordLog.recover<T>(file, size, opts.validate));
    } else if (size > 0 && !opts.overwrite) {
      throw new LeafError(
        `${file}: output file already exists and is not empty; pass --resume to continue it or remove the file`,
      );
    }

    let fd: number;
    try {
      fd = fs.openSync(file, size > 0 && !opts.resume ? 'w' : 'a');
    } catch (err) {
      throw sysError(file, 'open output', err);
    }
    if (size < 0) fsyncDir(path.dirname(path.resolve(file)));
    return new RecordLog<T>(file, fd, existing, droppedTail, sync, opts.onAppend);
  }

  /** Truncates a partial last line, then reads the complete records strictly. */
  private static recover<T>(
    file: string,
    size: number,
    validate: RecordValidator<T> | undefined,
  ): { existing: T[]; droppedTail: DroppedTail | null } {
    let droppedTail: DroppedTail | null = null;
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r+');
      const complete = completePrefixLength(fd, size);
      if (complete < size) {
        droppedTail = { line: countNewlines(fd, complete) + 1, bytes: size - complete };
        fs.ftruncateSync(fd, complete);
        fs.fsyncSync(fd);
      }
    } catch (err) {
      throw sysError(file, 'resume output', err);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    const read = readJsonl<T>(file, { strict: true, ...(validate ? { validate } : {}) });
    return { existing: read.records, droppedTail };
  }

  /** Records in the file: the resumed ones plus those appended since opening. */
  get count(): number {
    return this.existing.length + this.written;
  }

  /** Appends one record (a JSON object) as one line, in one write call, then fsyncs. */
  append(record: T): void {
    if (this.fd === null) throw new LeafError(`${this.file}: record log is closed`);
    const bytes = Buffer.from(jsonlLine(record), 'utf8');
    try {
      writeAllSync(this.fd, bytes);
      if (this.sync) fs.fsyncSync(this.fd);
    } catch (err) {
      throw sysError(this.file, 'append record', err);
    }
    this.written++;
    this.onAppend?.(record);
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The keys of records already done, e.g. `doneKeys(log.existing, (r) => r.id)`. */
export function doneKeys<T>(records: readonly T[], key: (record: T) => string): Set<string> {
  return new Set(records.map(key));
}
