/**
 * An exclusive lock on an output folder: one leaf run per folder at a time.
 *
 * The lock is the file `DIR/leaf.lock`, holding the holder's pid, its process start time (Linux:
 * /proc/PID/stat field 22, so a reused pid is not mistaken for the holder), host, command and a random
 * token. It is created complete and atomically: written under a temporary name, then hard-linked to
 * `leaf.lock` (link fails when the name exists, so exactly one of two concurrent runs gets it).
 *
 * A lock whose holder is gone (killed with SIGKILL, power cut: no chance to remove it) is stale and is
 * taken over: it is renamed away (atomic; only one of several runs recovering it at once can move that
 * file), checked to be the stale one that was read — a fresh lock moved by mistake is linked back — and
 * removed. A holder on another host cannot be checked and is taken to be alive.
 *
 * `release()` removes the lock if it is still this holder's; a process exiting normally (or on an
 * uncaught error) releases the locks it still holds.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LeafError } from '../errors.js';

export const LOCK_FILE = 'leaf.lock';

interface Holder {
  pid: number;
  /** Process start time in clock ticks since boot (Linux), or null where unknown. */
  start: number | null;
  host: string;
  command: string;
  since: string;
  token: string;
}

/** Field 22 of /proc/PID/stat (start time) and the state letter, or null where /proc has no such process. */
function procStat(pid: number): { start: number; state: string } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields 3.. (the name may hold spaces)
    return { state: rest[0], start: Number(rest[19]) };
  } catch {
    return null;
  }
}

const ownStart = (): number | null => procStat(process.pid)?.start ?? null;

/** Whether the process that wrote `h` may still be running. */
function alive(h: Holder): boolean {
  if (h.host !== hostname()) return true;
  if (h.pid === process.pid) return h.start === null || h.start === ownStart();
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const st = procStat(h.pid);
  if (st === null) return !fs.existsSync('/proc/self/stat'); // no /proc: trust kill(0)
  if (st.state === 'Z' || st.state === 'X') return false; // killed, not yet reaped
  return h.start === null || st.start === h.start;
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
    return typeof h.pid === 'number' && typeof h.token === 'string' ? h : null;
  } catch {
    return null; // gone, or not a leaf lock
  }
}

const held = new Set<FolderLock>();
let exitHook = false;

export class FolderLock {
  private released = false;

  private constructor(readonly file: string, private readonly token: string) {}

  /**
   * Takes the lock of `dir` (an existing folder) for `command`, or throws a one-line LeafError naming the
   * folder and the holder. `flag` names the option the folder came from (for the message).
   */
  static acquire(dir: string, command: string, flag = '--out'): FolderLock {
    const file = join(dir, LOCK_FILE);
    const me: Holder = { pid: process.pid, start: ownStart(), host: hostname(), command, since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    const tmp = join(dir, `.${LOCK_FILE}.${process.pid}.${me.token}`);
    try {
      fs.writeFileSync(tmp, JSON.stringify(me) + '\n');
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          fs.linkSync(tmp, file);
          return FolderLock.hold(file, me.token);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const h = readHolder(file);
        if (h !== null && alive(h)) throw busy(dir, flag, h);
        takeOver(file, h); // a dead holder's lock, or a file that is no lock (locks are linked in whole)
      }
      throw new LeafError(`${flag} ${dir}: could not take the folder's lock (${file}): other runs keep taking it`);
    } catch (e) {
      if (e instanceof LeafError) throw e;
      throw new LeafError(`${flag} ${dir}: cannot lock the output folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  private static hold(file: string, token: string): FolderLock {
    const lock = new FolderLock(file, token);
    held.add(lock);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const l of held) l.release();
      });
    }
    return lock;
  }

  /** Removes the lock if it is still this holder's (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    if (readHolder(this.file)?.token === this.token) fs.rmSync(this.file, { force: true });
  }
}

function busy(dir: string, flag: string, h: Holder): LeafError {
  const who = `pid ${h.pid}${h.pid === process.pid ? ', this process' : ''}${h.host !== hostname() ? ` on ${h.host}` : ''}`;
  return new LeafError(`${flag} ${dir}: another run is using this folder (leaf ${h.command}, ${who}, since ${h.since}); wait for it to end or use another ${flag}`);
}

/** Moves a stale lock away; if what was moved is not the lock that was judged stale, puts it back. */
function takeOver(file: string, judged: Holder | null): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it first
    throw e;
  }
  const moved = readHolder(aside);
  if (moved !== null && moved.token !== judged?.token) {
    try {
      fs.linkSync(aside, file); // a live run's fresh lock: restore it (never over another)
    } catch {
      // a third run took the name meanwhile; the next attempt reports it
    }
  }
  fs.rmSync(aside, { force: true });
}
