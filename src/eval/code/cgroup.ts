/**
 * Best-effort memory cgroup per sandbox run: caps the memory of the whole process tree (RSS,
 * page cache and the private /tmp tmpfs together), which RLIMIT_AS (per process) cannot do.
 * Used when this process may create child cgroups next to itself: cgroup v1 `memory` hierarchy,
 * or cgroup v2 where the memory controller is already enabled for children of our cgroup.
 * Everything here fails soft: without a usable hierarchy, runs go without a cgroup.
 */
import { randomBytes } from 'node:crypto';
import { rmdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MemoryCgroup {
  version: 1 | 2;
  dir: string;
}

interface Base {
  version: 1 | 2;
  dir: string;
}

const PREFIX = 'leaf-sandbox-';
let basePromise: Promise<Base | null> | null = null;

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

async function discover(): Promise<Base | null> {
  if (process.platform !== 'linux') return null;
  let cg: string;
  let mi: string;
  try {
    cg = await readFile('/proc/self/cgroup', 'utf8');
    mi = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  const mounts = mi
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pre, post = ''] = l.split(' - ');
      const f = pre!.split(' ');
      const g = post.split(' ');
      return { root: unescape(f[3] ?? ''), mp: unescape(f[4] ?? ''), fstype: g[0] ?? '', superOpts: (g[2] ?? '').split(',') };
    });
  const candidates: Base[] = [];
  for (const line of cg.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, ctrls, rel] = m as unknown as [string, string, string, string];
    if (id !== '0' && ctrls.split(',').includes('memory')) {
      const mnt = mounts.find((x) => x.fstype === 'cgroup' && x.superOpts.includes('memory'));
      if (mnt && rel.startsWith(mnt.root)) candidates.push({ version: 1, dir: join(mnt.mp, rel.slice(mnt.root.length)) });
    } else if (id === '0' && ctrls === '') {
      const mnt = mounts.find((x) => x.fstype === 'cgroup2');
      if (mnt && rel.startsWith(mnt.root)) {
        const dir = join(mnt.mp, rel.slice(mnt.root.length));
        const sub = await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '');
        if (sub.split(/\s+/).includes('memory')) candidates.push({ version: 2, dir });
      }
    }
  }
  for (const base of candidates) {
    const probe = await create(base, 64 * 1024 * 1024);
    if (probe !== null) {
      await removeMemoryCgroup(probe);
      await sweep(base);
      return base;
    }
  }
  return null;
}

/**
 * Removes cgroups left by leaf processes that were killed mid-run (their exit hook never ran).
 * Only empty ones older than a minute: rmdir refuses cgroups with tasks, and the age keeps a
 * cgroup that another process has just made (and not yet joined) out of reach.
 */
async function sweep(base: Base, minAgeMs = 60_000): Promise<number> {
  const names = await readdir(base.dir).catch(() => [] as string[]);
  const now = Date.now();
  let removed = 0;
  for (const n of names) {
    if (!n.startsWith(PREFIX)) continue;
    const dir = join(base.dir, n);
    const st = await stat(dir).catch(() => null);
    if (st === null || now - st.mtimeMs < minAgeMs) continue;
    if (await rmdir(dir).then(() => true, () => false)) removed++;
  }
  return removed;
}

/** Removes empty leftover sandbox cgroups older than `minAgeMs`; returns how many. */
export async function sweepMemoryCgroups(minAgeMs = 60_000): Promise<number> {
  basePromise ??= discover();
  const base = await basePromise;
  return base === null ? 0 : sweep(base, minAgeMs);
}

async function create(base: Base, limitBytes: number): Promise<MemoryCgroup | null> {
  const dir = join(base.dir, `${PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir);
  } catch {
    return null;
  }
  const cg: MemoryCgroup = { version: base.version, dir };
  try {
    if (base.version === 1) {
      await writeFile(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes)).catch(() => undefined);
    } else {
      await writeFile(join(dir, 'memory.max'), String(limitBytes));
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
    }
    return cg;
  } catch {
    await removeMemoryCgroup(cg);
    return null;
  }
}

/** Whether memory cgroups can be used here (probed once). */
export function memoryCgroupsAvailable(): Promise<boolean> {
  basePromise ??= discover();
  return basePromise.then((b) => b !== null);
}

/** A fresh cgroup capped at `limitBytes`, or null when cgroups are not usable. */
export async function createMemoryCgroup(limitBytes: number): Promise<MemoryCgroup | null> {
  basePromise ??= discover();
  const base = await basePromise;
  return base === null ? null : create(base, limitBytes);
}

/** The file a process writes its pid into to join the cgroup. */
export function cgroupProcsFile(cg: MemoryCgroup): string {
  return join(cg.dir, 'cgroup.procs');
}

/** Whether the kernel OOM-killed something in the cgroup. */
export async function oomKilled(cg: MemoryCgroup): Promise<boolean> {
  const file = cg.version === 1 ? 'memory.oom_control' : 'memory.events';
  const text = await readFile(join(cg.dir, file), 'utf8').catch(() => '');
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m !== null && Number(m[1]) > 0;
}

/** Removes the (by now empty) cgroup; retries briefly while exiting tasks are released. */
export async function removeMemoryCgroup(cg: MemoryCgroup): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await rmdir(cg.dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Synchronous best-effort removal for the process 'exit' hook (tasks were just SIGKILLed). */
export function removeMemoryCgroupSync(cg: MemoryCgroup): void {
  const until = Date.now() + 500;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      rmdirSync(cg.dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || Date.now() > until) return;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
