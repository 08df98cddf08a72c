/**
 * Atomic file output: readers of `path` see either the old file or the complete new one, never a
 * partial write, and a crash leaves at most a stray `.<name>.<pid>.<random>.tmp` file next to it.
 *
 * Method: write to a temporary name in the same folder (same filesystem, so rename is atomic),
 * fsync it, rename it over `path`, then fsync the folder so the rename itself is durable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LeafError } from '../errors.js';

/** Writes every byte of `data` to `fd` at its current position (loops over short writes). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    off += fs.writeSync(fd, data, off, Math.min(data.length - off, 1 << 30));
  }
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/**
 * Atomically replaces (or creates) `file`.
 *
 * `content` is a string (written as UTF-8), bytes, or a callback that receives the open file
 * descriptor of the temporary file and writes the content itself (use {@link writeAllSync}),
 * for outputs too large to build in memory at once.
 *
 * The new file keeps the permission bits of the file it replaces (0o644 when new, less umask).
 * Filesystem failures (missing folder, permissions, disk full) are reported as a LeafError naming
 * `file`; the temporary file is removed. Errors thrown by the callback propagate unchanged.
 */
export function writeFileAtomicSync(file: string, content: string | Uint8Array | ((fd: number) => void)): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let mode = 0o644;
  try {
    mode = fs.statSync(file).mode & 0o7777;
  } catch {
    // new file
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    if (typeof content === 'function') content(fd);
    else writeAllSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    if (isSystemError(err)) throw new LeafError(`${file}: cannot write file: ${err.message}`);
    throw err;
  }
  fsyncDir(dir);
}

/** Best effort: makes a rename or a new file's entry in `dir` durable. Some platforms cannot fsync a folder; that is ignored. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows (EISDIR/EPERM) and some network filesystems refuse; the data itself was fsynced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
