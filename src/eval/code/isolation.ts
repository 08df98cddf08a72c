/**
 * Start-up probe of what containment this machine allows for untrusted Python: tries, in order,
 * full namespaces (PID+net+mount+IPC+UTS via `unshare`, plus a user namespace when not root),
 * a network namespace only, and no namespaces; the first tier whose probe program runs is used.
 * The probe program reports the network interfaces it sees (/proc/self/net/dev): the network
 * counts as isolated only if nothing but `lo` is there. Results are cached per interpreter.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { delimiter, dirname, join, posix, resolve } from 'node:path';
import { LeafError } from '../../errors.js';
import { memoryCgroupsAvailable } from './cgroup.js';
import { execSandboxed, type Tier, type ExecLimits, type VisibleEntry } from './exec.js';

export interface IsolationInfo {
  /** 'namespaces': PID+network+mount(+IPC, UTS) namespaces; 'net-only'; 'none'. */
  tier: Tier['name'];
  /** A network namespace is in effect (verified: no interface but `lo`, which is down). */
  network: boolean;
  pidNamespace: boolean;
  mountNamespace: boolean;
  /** Every pre-existing mount was remounted read-only inside the sandbox. */
  readOnlyRoot: boolean;
  /**
   * The program runs in its own root that holds only the interpreter, its import path and the
   * shared libraries (`visible`), read-only, plus private /tmp and /dev/shm: no other host file, no
   * host unix socket.
   */
  minimalRoot: boolean;
  /** Programs run as a random unprivileged uid (only when leaf runs as root). */
  uidDrop: boolean;
  /** Each run gets a memory cgroup capping its whole process tree. */
  memoryCgroup: boolean;
  /** Absolute path of the interpreter that runs solutions. */
  python: string;
  /** Host paths the program can see (read-only) when minimalRoot; empty otherwise. */
  visible: string[];
  /** Why better tiers were not used, mount problems, and similar. */
  notes: string[];
}

/** Internal: the probe's result plus what exec.ts needs. */
export interface Isolation extends IsolationInfo {
  tierSpec: Tier;
  visibleEntries: VisibleEntry[];
  env: Record<string, string>;
}

export interface ProbeOptions {
  /** Interpreter for solutions; default /usr/bin/python3 when root (if present), else python3 on PATH. */
  python?: string;
  /** Ignore the cached result. */
  refresh?: boolean;
}

const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

const PROBE_PROGRAM = `
import json, os, socket
with open('/proc/self/net/dev') as f:
    ifaces = [l.split(':')[0].strip() for l in f.readlines()[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(0.5)
try:
    s.connect(('127.0.0.1', 9))
    lo = 0
except OSError as e:
    lo = e.errno or -1
print(json.dumps({'ifaces': ifaces, 'uid': os.getuid(), 'pid': os.getpid(), 'cwd': os.getcwd(), 'lo': lo}))
`;

const PROBE_LIMITS: ExecLimits = {
  wallMs: 10_000,
  cpuSec: 5,
  memoryBytes: 512 * 1024 * 1024,
  maxProcs: 16,
  fileSizeBytes: 1024 * 1024,
  maxOpenFiles: 256,
  tmpfsBytes: 4 * 1024 * 1024,
  stdoutKeepBytes: 65536,
  outputKillBytes: 1024 * 1024,
};

/** Keyed by the requested interpreter ('' for the default). */
const cache = new Map<string, Promise<Isolation>>();

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function which(name: string): string | null {
  if (name.includes('/')) return executable(name) ? name : null;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const d of [...dirs, '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const p = join(d, name);
    if (executable(p)) return p;
  }
  return null;
}

/** The interpreter (sys.executable, resolving pyenv-style shims) and the host paths it needs. */
interface PythonInfo {
  python: string;
  /** Its import path and standard library folders, and its shared libpython when it has one. */
  needs: string[];
}

const PYTHON_INFO = `
import glob, json, os, sys, sysconfig
needs = [p for p in sys.path if p and os.path.isabs(p)]
needs += [v for k, v in sysconfig.get_paths().items() if v and k in ('stdlib', 'platstdlib', 'purelib', 'platlib')]
libdir, ld = sysconfig.get_config_var('LIBDIR'), sysconfig.get_config_var('LDLIBRARY')
if libdir and ld and sysconfig.get_config_var('Py_ENABLE_SHARED'):
    needs += glob.glob(os.path.join(libdir, ld) + '*')
print(json.dumps({'python': sys.executable, 'needs': needs}))
`;

async function resolvePython(requested: string | undefined): Promise<PythonInfo> {
  let candidate = requested;
  if (candidate === undefined) candidate = isRoot() && executable('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const found = which(candidate);
  if (found === null) throw new LeafError(`code judge: Python interpreter '${candidate}' not found`);
  const info = await new Promise<PythonInfo | null>((resolve) => {
    execFile(found, ['-I', '-c', PYTHON_INFO], { timeout: 10_000 }, (err, stdout) => {
      try {
        resolve(err ? null : (JSON.parse(stdout) as PythonInfo));
      } catch {
        resolve(null);
      }
    });
  });
  if (info === null || !info.python) throw new LeafError(`code judge: Python interpreter '${found}' does not run`);
  return info;
}

/** The shared libraries' folders and the dynamic loader (Debian multiarch, merged /usr, lib64). */
function libraryPaths(): string[] {
  // /etc/alternatives: Debian's library symlinks (libblas.so.3, …) point through it.
  const out = ['/lib64', '/usr/lib64', '/lib32', '/usr/lib32', '/etc/ld.so.cache', '/etc/localtime', '/etc/alternatives'];
  for (const dir of ['/lib', '/usr/lib']) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (/-linux-gnu|^ld-linux|^ld-musl|^libc\.musl/.test(n)) out.push(join(dir, n));
  }
  return out;
}

/**
 * What a sandbox with its own root must see: each path as a list of entries (symlinks on the way
 * recreated as links, the final target bound), deduplicated (nothing inside a bound folder), parents
 * first. Paths that do not exist are left out.
 */
export function visibleEntries(paths: readonly string[]): VisibleEntry[] {
  const found = new Map<string, VisibleEntry>();
  const walk = (p: string, depth: number): void => {
    if (depth > 40 || !posix.isAbsolute(p)) return;
    const parts = posix.normalize(p).split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      cur += `/${parts[i]}`;
      let st;
      try {
        st = lstatSync(cur);
      } catch {
        return;
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(cur);
        found.set(cur, { path: cur, link: target });
        walk(posix.join(resolve(dirname(cur), target), ...parts.slice(i + 1)), depth + 1);
        return;
      }
    }
    if (cur) found.set(cur, { path: cur });
  };
  for (const p of paths) walk(p, 0);
  const binds = [...found.values()].filter((e) => e.link === undefined).map((e) => e.path);
  const inside = (p: string) => binds.some((b) => b !== p && p.startsWith(b + '/'));
  return [...found.values()].filter((e) => !inside(e.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function tiers(): Tier[] {
  const root = isRoot();
  const unshare = which('unshare');
  const out: Tier[] = [];
  if (unshare !== null) {
    const user = root ? [] : ['--map-root-user'];
    out.push({
      name: 'namespaces',
      prefix: [unshare, ...user, '--pid', '--fork', '--kill-child', '--mount-proc', '--net', '--mount', '--ipc', '--uts', '--'],
      pidNamespace: true,
      mountNamespace: true,
      dropUid: root,
    });
    out.push({ name: 'net-only', prefix: [unshare, ...user, '--net', '--'], pidNamespace: false, mountNamespace: false, dropUid: root });
  }
  out.push({ name: 'none', prefix: [], pidNamespace: false, mountNamespace: false, dropUid: root });
  return out;
}


function sandboxEnv(): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    OPENBLAS_NUM_THREADS: '1',
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
  };
}

async function probe(info: PythonInfo): Promise<Isolation> {
  const { python } = info;
  const notes: string[] = [];
  const visible = visibleEntries([python, ...info.needs, ...libraryPaths()]);
  const env = sandboxEnv();
  const memoryCgroup = await memoryCgroupsAvailable();
  for (const tier of tiers()) {
    const cgroupBytes = memoryCgroup ? 512 * 1024 * 1024 : null;
    const out = await execSandboxed({ python, code: PROBE_PROGRAM, env, visible, limits: PROBE_LIMITS, tier, cgroupBytes });
    const st = out.status;
    const stderr = out.stderrTail.toString('utf8').trim().split('\n').slice(-1)[0] ?? '';
    if (out.spawnError !== undefined || st === null || !st.ok || st.exit !== 0) {
      const why = out.spawnError ?? st?.error ?? (stderr || `exit ${st?.exit ?? out.launcherExit ?? out.launcherSignal}`);
      notes.push(`${tier.name}: unavailable (${why})`);
      continue;
    }
    let report: { ifaces: string[]; uid: number; lo: number };
    try {
      report = JSON.parse(out.stdout.toString('utf8')) as typeof report;
    } catch {
      notes.push(`${tier.name}: probe printed no report`);
      continue;
    }
    const network = tier.prefix.includes('--net') && report.ifaces.every((i) => i === 'lo');
    if (tier.prefix.includes('--net') && !network) notes.push(`${tier.name}: interfaces visible: ${report.ifaces.join(', ')}`);
    for (const e of st.mountErrors ?? []) notes.push(`mount: ${e}`);
    return {
      tier: tier.name,
      network,
      pidNamespace: tier.pidNamespace,
      mountNamespace: tier.mountNamespace,
      readOnlyRoot: st.rootReadOnly === true,
      minimalRoot: st.minimalRoot === true,
      uidDrop: tier.dropUid && report.uid !== 0,
      memoryCgroup,
      python,
      visible: st.minimalRoot === true ? visible.map((e) => e.path) : [],
      notes,
      tierSpec: tier,
      visibleEntries: visible,
      env,
    };
  }
  throw new LeafError(`code judge: cannot run Python sandboxes with '${python}': ${notes.join('; ')}`);
}

/** Internal: the cached probe result for an interpreter, with what exec.ts needs. */
export async function getIsolation(opts: ProbeOptions = {}): Promise<Isolation> {
  const key = opts.python ?? '';
  let p = opts.refresh ? undefined : cache.get(key);
  if (p === undefined) {
    p = resolvePython(opts.python).then(probe);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Probes (once per interpreter; cached) how untrusted code can be contained on this machine. */
export async function probeIsolation(opts: ProbeOptions = {}): Promise<IsolationInfo> {
  const iso = await getIsolation(opts);
  const { tierSpec: _t, visibleEntries: _v, env: _e, ...info } = iso;
  return { ...info, notes: [...info.notes], visible: [...info.visible] };
}

/** What summary.json records of the sandbox (eval, mine): the tier, each guarantee, the warning. */
export type SandboxRecord = Pick<IsolationInfo, 'tier' | 'network' | 'pidNamespace' | 'mountNamespace' | 'readOnlyRoot' | 'minimalRoot' | 'uidDrop' | 'memoryCgroup'> & {
  warning: string | null;
};

export function sandboxRecord(iso: IsolationInfo): SandboxRecord {
  const { tier, network, pidNamespace, mountNamespace, readOnlyRoot, minimalRoot, uidDrop, memoryCgroup } = iso;
  return { tier, network, pidNamespace, mountNamespace, readOnlyRoot, minimalRoot, uidDrop, memoryCgroup, warning: sandboxWarning(iso) };
}

/**
 * One line for the user when the sandbox is weaker than the full one (own PID, mount and network
 * namespaces, its own read-only root with only the interpreter, a per-run unprivileged uid, a memory
 * cgroup): what is missing and why; null when nothing is. A user other than root gets the
 * 'namespaces' tier inside a user namespace: no uid drop, and usually no memory cgroup.
 */
export function sandboxWarning(iso: IsolationInfo): string | null {
  const missing: string[] = [];
  if (!iso.network) missing.push('network namespace');
  if (!iso.pidNamespace) missing.push('PID namespace');
  if (!iso.mountNamespace) missing.push('mount namespace (private /tmp, no view of host files)');
  else if (!iso.minimalRoot) missing.push('minimal root (host files visible)');
  if (!iso.readOnlyRoot) missing.push('read-only root filesystem');
  if (!iso.uidDrop) missing.push(`per-run unprivileged uid (${isRoot() ? 'uid drop failed' : 'leaf is not root: programs run as your user'})`);
  if (!iso.memoryCgroup) missing.push("memory cgroup (a program's whole process tree is not memory-capped, only each process)");
  if (missing.length === 0) return null;
  const why = iso.notes.length > 0 ? ` (${iso.notes.join('; ')})` : '';
  return `code sandbox: isolation tier '${iso.tier}': no ${missing.join(', no ')}${why}; resource limits, timeouts and a throw-away folder still apply`;
}

/** Throws the LeafError that refuses to run untrusted code without network isolation. */
export function assertNetworkIsolated(iso: IsolationInfo, allowNetwork: boolean | undefined): void {
  if (iso.network || allowNetwork) return;
  const why = iso.notes.length > 0 ? ` (${iso.notes.join('; ')})` : '';
  throw new LeafError(
    `code judge: refusing to run untrusted code: no network namespace is available on this machine${why}; ` +
      `run as root or enable unprivileged user namespaces, or pass --unsafe-allow-network (allowNetwork: true) to run without network isolation`,
  );
}
