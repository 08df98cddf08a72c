/**
 * RunFolder: the output folder of one resumable run (`leaf mine`, `leaf eval`, `leaf distill`, `leaf demo`).
 *
 *   const folder = RunFolder.open(out, { command: 'eval', resume, overwrite, records: ['results.jsonl'] });
 *   try {
 *     folder.identity({ model, data_sha256: fileDigest(data), … });   // OUT/run.json: checked on resume, else written
 *     const log = folder.openLog<Rec>('results.jsonl');                 // resumed or started over, per the policy
 *     const summary = folder.summary();                                 // summary.write(build, force?): atomic, ≤ 1/s
 *     …
 *   } finally {
 *     folder.close();                                                   // releases the lock
 *   }
 *
 * What it owns:
 *  - the exclusive lock (io/folder-lock.ts): one run per folder; a second run ends with one line naming the
 *    folder and the holder's pid; a lock left by a killed run is recovered;
 *  - the policy, the same on every command: `--resume` continues what the folder holds (after checking
 *    run.json), `--overwrite` starts over (the `records` and `outputs` named at open are removed when the
 *    run starts, i.e. at identity() or start(); caches such as mining's generations are not named and so
 *    kept), and neither refuses a folder whose `records` are not empty — except where a command's default
 *    is to reuse (`otherwise: 'resume'`, the demo);
 *  - the identity, OUT/run.json (`{ identity }`, or another field): settings, input digests and model
 *    fingerprints written atomically before the first record; a resume must match it field by field
 *    (each field compared canonically: nested object fields in any order);
 *  - record logs (data/record-log.ts: whole-line appends, torn-line repair on resume, an on-append hook);
 *  - a throttled, atomically written summary.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { FolderLock } from '../io/folder-lock.js';
import { makeOutDir } from '../io/out-dir.js';
import type { JsonObject, RecordValidator } from './jsonl.js';
import { RecordLog } from './record-log.js';
import { canonicalJson } from './run-stamp.js';

export type RunIdentity = Record<string, unknown>;
export type RunPolicy = 'fresh' | 'resume' | 'overwrite';

export interface RunFolderOptions {
  /** The command (`mine`, `eval`, `distill`, `demo`): named in the lock and in messages. */
  command: string;
  resume?: boolean;
  overwrite?: boolean;
  /** The policy when neither flag is given: 'fresh' (default: existing records are refused) or 'resume' (reuse). */
  otherwise?: 'fresh' | 'resume';
  /** Files or folders (relative) whose non-empty presence means a run was here: refused when fresh, removed on overwrite. */
  records: readonly string[];
  /** Further outputs removed on overwrite. */
  outputs?: readonly string[];
  /** Said when fresh and records exist, after the hint (e.g. what --overwrite keeps). */
  note?: string;
  /** The option the folder came from (default --out). */
  flag?: string;
}

export interface IdentityOptions {
  /** Records are already in the folder (a resume without run.json is then refused unless `legacy`). */
  hasRecords?: boolean;
  /** The records' settings were checked another way (outputs written before run.json existed). */
  legacy?: boolean;
  /** The run.json field holding the identity (default 'identity'). */
  field?: string;
  /** Further fields written beside it (not checked). */
  extra?: Record<string, unknown>;
  /** The one-line message of a mismatch on resume (default: FILE: --resume with a different KEY …). */
  mismatch?: (key: string, was: string | undefined, now: string | undefined) => string;
}

/** A summary file written atomically at most once per interval (or when forced). */
export interface SummaryWriter {
  /** Writes `build()` unless the last write is younger than the interval and `force` is false; says whether it wrote. */
  write(build: () => unknown, force?: boolean): boolean;
}

/** sha256 (16 hex digits) of a file's bytes, for run identities. */
export function fileDigest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/** A file with bytes in it, or a folder with entries in it. */
export function nonEmpty(p: string): boolean {
  if (!existsSync(p)) return false;
  const st = statSync(p);
  return st.isDirectory() ? readdirSync(p).length > 0 : st.size > 0;
}

export class RunFolder {
  private lock: FolderLock | null;
  private started = false;

  private constructor(readonly dir: string, readonly policy: RunPolicy, private readonly o: RunFolderOptions, lock: FolderLock) {
    this.lock = lock;
  }

  /** Creates the folder if needed, takes its lock, and applies the policy (see the module comment). */
  static open(dir: string, o: RunFolderOptions): RunFolder {
    if (o.resume && o.overwrite) throw new LeafError('give --resume or --overwrite, not both');
    const policy: RunPolicy = o.resume ? 'resume' : o.overwrite ? 'overwrite' : o.otherwise ?? 'fresh';
    const flag = o.flag ?? '--out';
    makeOutDir(dir, flag);
    const lock = FolderLock.acquire(dir, o.command, flag);
    if (policy === 'fresh') {
      const found = o.records.map((r) => join(dir, r)).find(nonEmpty);
      if (found) {
        lock.release();
        throw new LeafError(`${found}: output file already exists and is not empty; pass --resume to continue or --overwrite to start over${o.note ? ` (${o.note})` : ''}`);
      }
    }
    return new RunFolder(dir, policy, o, lock);
  }

  /** Whether this run continues what the folder holds. */
  get resume(): boolean {
    return this.policy === 'resume';
  }

  /** A path in the folder (absolute paths are returned as they are). */
  path(name: string): string {
    return isAbsolute(name) ? name : join(this.dir, name);
  }

  /** Whether `name` in the folder is a non-empty file or folder. */
  nonEmpty(name: string): boolean {
    return nonEmpty(this.path(name));
  }

  /** Marks the start of writing: with --overwrite, the previous run's records and outputs are removed (once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.policy !== 'overwrite') return;
    for (const r of [...this.o.records, ...(this.o.outputs ?? [])]) rmSync(this.path(r), { recursive: true, force: true });
  }

  /**
   * OUT/run.json: on resume, checked field by field against `identity` (a missing file is accepted only
   * when there are no records, or `legacy`); otherwise (re)written atomically. Starts the run (start()).
   */
  identity(identity: RunIdentity, o: IdentityOptions = {}): void {
    this.start();
    const file = this.path('run.json');
    const field = o.field ?? 'identity';
    if (this.resume && existsSync(file)) {
      let prev: RunIdentity;
      try {
        prev = ((JSON.parse(readFileSync(file, 'utf8')) as Record<string, RunIdentity | undefined>)[field]) ?? {};
      } catch (e) {
        throw new LeafError(`${file}: unreadable (${(e as Error).message}); cannot check what the run being resumed used — use another ${this.o.flag ?? '--out'}, or --overwrite`);
      }
      for (const key of new Set([...Object.keys(prev), ...Object.keys(identity)])) {
        const a = prev[key], b = identity[key];
        if (a === undefined ? b === undefined : b !== undefined && canonicalJson(a) === canonicalJson(b)) continue;
        const was = JSON.stringify(prev[key]), now = JSON.stringify(identity[key]);
        throw new LeafError(o.mismatch?.(key, was, now) ??
          `${file}: --resume with a different ${key} (${now ?? 'none'}, the run being resumed used ${was ?? 'none'}); use the same models, data and settings, or another ${this.o.flag ?? '--out'}`);
      }
      return;
    }
    if (this.resume && o.hasRecords && !o.legacy) {
      throw new LeafError(`${file}: missing, so the records already in this output cannot be checked against this run's models, data and settings; use --overwrite to start over, or another ${this.o.flag ?? '--out'}`);
    }
    writeFileAtomicSync(file, JSON.stringify({ [field]: identity, ...o.extra }, null, 2) + '\n');
  }

  /**
   * Opens a record log in the folder (or at an absolute path): resumed (torn last line repaired) when
   * `resume` (default: the policy's), else started empty. `onAppend` is called after each record is written.
   */
  openLog<T = JsonObject>(name: string, o: { resume?: boolean; fsync?: boolean; validate?: RecordValidator<T>; onAppend?: (record: T) => void } = {}): RecordLog<T> {
    this.start();
    const resume = o.resume ?? this.resume;
    return RecordLog.open<T>(this.path(name), {
      ...(resume ? { resume: true } : { overwrite: true }),
      ...(o.fsync !== undefined ? { fsync: o.fsync } : {}),
      ...(o.validate ? { validate: o.validate } : {}),
      ...(o.onAppend ? { onAppend: o.onAppend } : {}),
    });
  }

  /** A writer of `name` (default summary.json): atomic, at most once per `intervalMs` unless forced. */
  summary(name = 'summary.json', intervalMs = 1000): SummaryWriter {
    const file = this.path(name);
    let last = -Infinity;
    return {
      write: (build, force = false) => {
        const now = performance.now();
        if (!force && now - last < intervalMs) return false;
        last = now;
        writeFileAtomicSync(file, JSON.stringify(build(), null, 2) + '\n');
        return true;
      },
    };
  }

  /** Releases the lock (idempotent). */
  close(): void {
    this.lock?.release();
    this.lock = null;
  }
}

/** Opens `dir` as a RunFolder, runs `body` in it, and releases the folder whatever happens. */
export async function inRunFolder<T>(dir: string, o: RunFolderOptions, body: (folder: RunFolder) => Promise<T>): Promise<T> {
  const folder = RunFolder.open(dir, o);
  try {
    return await body(folder);
  } finally {
    folder.close();
  }
}
