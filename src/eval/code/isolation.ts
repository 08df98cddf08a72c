/**
 * Start-up probe of what containment this machine allows for untrusted Python: tries, in order,
 * full namespaces (PID+net+mount+IPC+UTS via `unshare`, plus a user namespace when not root),
 * a network namespace only, and no namespaces; the first tier whose probe program runs is used.
 * The probe program reports the network interfaces it sees (/proc/self/net/dev): the network
 * counts as isolated only if nothing but `lo` is there. Results are cached per interpreter.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LeafError } from '../../errors.js';
import { memoryCgroupsAvailable } from './cgroup.js';
import { execSandboxed, type Tier, type ExecLimits } from './exec.js';

export interface IsolationInfo {
  /** 'namespaces': PID+network+mount(+IPC, UTS) namespaces; 'net-only'; 'none'. */
  tier: Tier['name'];
  /** A network namespace is in effect (verified: no interface but `lo`, which is down). */
  network: boolean;
  pidNamespace: boolean;
  mountNamespace: boolean;
  /** Every pre-existing mount was remounted read-only inside the sandbox. */
  readOnlyRoot: boolean;
  /** Programs run as a random unprivileged uid (only when leaf runs as root). */
  uidDrop: boolean;
  /** Each run gets a memory cgroup capping its whole process tree. */
  memoryCgroup: boolean;
  /** Absolute path of the interpreter that runs solutions. */
  python: string;
  /** Directories hidden under empty tmpfs mounts. */
  hidden: string[];
  /** Why better tiers were not used, mount problems, and similar. */
  notes: string[];
}

/** Internal: the probe's result plus what exec.ts needs. */
export interface Isolation extends IsolationInfo {
  tierSpec: Tier;
  hide: string[];
  env: Record<string, string>;
}

export interface ProbeOptions {
  /** Interpreter for solutions; default /usr/bin/python3 when root (if present), else python3 on PATH. */
  python?: string;
  /** Ignore the cached result. */
  refresh?: boolean;
}

const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';
const HIDE = ['/root', '/home', '/run'];

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

/** Absolute path of the real interpreter binary (resolves pyenv-style shims via sys.executable). */
async function resolvePython(requested: string | undefined): Promise<string> {
  let candidate = requested;
  if (candidate === undefined) candidate = isRoot() && executable('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const found = which(candidate);
  if (found === null) throw new LeafError(`code judge: Python interpreter '${candidate}' not found`);
  const exe = await new Promise<string>((resolve) => {
    execFile(found, ['-I', '-c', 'import sys; print(sys.executable)'], { timeout: 10_000 }, (err, stdout) => {
      resolve(err ? '' : stdout.trim());
    });
  });
  if (!exe) throw new LeafError(`code judge: Python interpreter '${found}' does not run`);
  return exe;
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

function hideList(python: string): string[] {
  let real = python;
  try {
    real = realpathSync(python);
  } catch {
    // keep as is
  }
  const inside = (dir: string, p: string): boolean => p === dir || p.startsWith(dir + '/');
  return HIDE.filter((d) => !inside(d, python) && !inside(d, real));
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

async function probe(python: string): Promise<Isolation> {
  const notes: string[] = [];
  const hide = hideList(python);
  const env = sandboxEnv();
  const memoryCgroup = await memoryCgroupsAvailable();
  for (const tier of tiers()) {
    const cgroupBytes = memoryCgroup ? 512 * 1024 * 1024 : null;
    const out = await execSandboxed({ python, code: PROBE_PROGRAM, env, hide, limits: PROBE_LIMITS, tier, cgroupBytes });
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
      uidDrop: tier.dropUid && report.uid !== 0,
      memoryCgroup,
      python,
      hidden: st.hidden ?? [],
      notes,
      tierSpec: tier,
      hide,
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
  const { tierSpec: _t, hide: _h, env: _e, ...info } = iso;
  return { ...info, notes: [...info.notes], hidden: [...info.hidden] };
}

/**
 * One line for the user when the sandbox is weaker than the full one (own PID, mount and network
 * namespaces, read-only root, unprivileged uid): what is missing and why; null when nothing is.
 */
export function sandboxWarning(iso: IsolationInfo): string | null {
  const missing: string[] = [];
  if (!iso.network) missing.push('network namespace');
  if (!iso.pidNamespace) missing.push('PID namespace');
  if (!iso.mountNamespace) missing.push('mount namespace (private /tmp, hidden home folders)');
  if (!iso.readOnlyRoot) missing.push('read-only root filesystem');
  if (isRoot() && !iso.uidDrop) missing.push('unprivileged uid');
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
