/**
 * Low-level launch of one sandboxed Python program: writes the supervisor (runner.ts) and its
 * config into a fresh private host directory, starts it in its own process group (under
 * `unshare` when the isolation tier asks for namespaces), feeds stdin, captures stdout/stderr
 * with byte caps, enforces the wall-clock limit, and always kills the whole process group and
 * removes the directory at the end. Classification of the outcome lives in sandbox.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cgroupProcsFile,
  createMemoryCgroup,
  oomKilled,
  removeMemoryCgroup,
  removeMemoryCgroupSync,
  type MemoryCgroup,
} from './cgroup.js';
import { RUNNER_PY } from './runner.js';

/** Which containment a launch uses; chosen once by isolation.ts. */
export interface Tier {
  /** 'namespaces': PID+net+mount+IPC+UTS namespaces; 'net-only': network namespace only; 'none'. */
  name: 'namespaces' | 'net-only' | 'none';
  /** argv prefix before the interpreter (`unshare ... --`), empty for 'none'. */
  prefix: string[];
  /** The supervisor is PID 1 of a new PID namespace and sets up the mount namespace. */
  pidNamespace: boolean;
  mountNamespace: boolean;
  /** Drop to a random per-run uid/gid (only possible when started as real root). */
  dropUid: boolean;
}

/**
 * One host path made visible, read-only, at the same path in the sandbox's own root: `link` recreates
 * a symlink as is; otherwise the file or folder is bound. Parents come before children.
 */
export interface VisibleEntry {
  path: string;
  link?: string;
}

export interface ExecLimits {
  wallMs: number;
  cpuSec: number;
  memoryBytes: number;
  maxProcs: number;
  fileSizeBytes: number;
  maxOpenFiles: number;
  tmpfsBytes: number;
  /** Bytes of stdout kept; the rest is counted and discarded. */
  stdoutKeepBytes: number;
  /** Bytes of stdout+stderr after which the run is killed ('output-limit'). */
  outputKillBytes: number;
}

export interface ExecRequest {
  python: string;
  code: string;
  stdin?: string | Buffer;
  env: Record<string, string>;
  /** What the program sees of the host (mount namespace only): see VisibleEntry. */
  visible: VisibleEntry[];
  limits: ExecLimits;
  tier: Tier;
  /** Aborting kills the run at once (the outcome then has killedBy 'abort'). */
  signal?: AbortSignal;
  /** Memory cap of the whole process tree via a memory cgroup (when available); null: none. */
  cgroupBytes?: number | null;
}

/** The supervisor's status line (fd 3). */
export interface SupervisorStatus {
  ok: boolean;
  error?: string;
  exit?: number;
  signal?: number;
  cpuSec?: number;
  maxRssKb?: number;
  watchdog?: boolean;
  uid?: number | null;
  pid1?: boolean;
  rootReadOnly?: boolean;
  mountErrors?: string[];
  minimalRoot?: boolean;
}

export interface ExecOutcome {
  stdout: Buffer;
  stdoutBytes: number;
  stderrTail: Buffer;
  stderrBytes: number;
  /** Why node killed the run, if it did. */
  killedBy: 'wall' | 'output' | 'abort' | null;
  /** Exit code / signal of the supervisor process itself (not the program). */
  launcherExit: number | null;
  launcherSignal: NodeJS.Signals | null;
  status: SupervisorStatus | null;
  durationMs: number;
  uid: number | null;
  /** The run had a memory cgroup and the kernel OOM-killed something in it. */
  oomKilled: boolean;
  spawnError?: string;
}

const STDERR_TAIL_BYTES = 8192;
/** Process groups of runs in flight, killed if this node process exits mid-run. */
const live = new Set<number>();
/** Host directories of runs in flight, removed if this node process exits mid-run. */
const liveDirs = new Set<string>();
/** Memory cgroups of runs in flight, removed if this node process exits mid-run. */
const liveCgroups = new Set<MemoryCgroup>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of live) killGroup(pgid);
    for (const cg of liveCgroups) removeMemoryCgroupSync(cg);
    for (const dir of liveDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort while exiting
      }
    }
  });
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: already gone.
  }
}

/** A random uid/gid far above any ordinary or subordinate-id range, distinct per run. */
function randomUid(): number {
  return 2_000_000_000 + randomInt(100_000_000);
}

class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.cap) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  get(): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.length > this.cap ? all.subarray(all.length - this.cap) : all;
  }
}

export async function execSandboxed(req: ExecRequest): Promise<ExecOutcome> {
  installExitHook();
  const { tier, limits } = req;
  const uid = tier.dropUid ? randomUid() : null;
  const hostDir = await mkdtemp(join(tmpdir(), 'leaf-code-'));
  liveDirs.add(hostDir);
  const started = performance.now();
  let cg: MemoryCgroup | null = null;
  try {
    if (req.cgroupBytes != null) cg = await createMemoryCgroup(req.cgroupBytes);
    if (cg !== null) liveCgroups.add(cg);
    let workdir = '';
    if (tier.mountNamespace) await mkdir(join(hostDir, 'root'), { mode: 0o700 });
    else {
      // The program works in <hostDir>/work; with a uid drop it must be able to traverse hostDir.
      workdir = join(hostDir, 'work');
      await mkdir(workdir, { mode: 0o700 });
      if (uid !== null) await chmod(hostDir, 0o711);
    }
    const env = { ...req.env, HOME: workdir || '/tmp/leaf-work', TMPDIR: workdir || '/tmp/leaf-work' };
    const config = {
      code: req.code,
      python: req.python,
      uid,
      mountSetup: tier.mountNamespace,
      workdir,
      tmpfsKb: Math.max(1024, Math.ceil(limits.tmpfsBytes / 1024)),
      shmKb: 16 * 1024,
      visible: req.visible,
      newRoot: tier.mountNamespace ? join(hostDir, 'root') : '',
      cgroupProcs: cg !== null ? cgroupProcsFile(cg) : null,
      env,
      wallSec: Math.ceil(limits.wallMs / 1000) + 2,
      limits: {
        cpuSec: limits.cpuSec,
        asBytes: limits.memoryBytes,
        nproc: limits.maxProcs,
        fsizeBytes: limits.fileSizeBytes,
        nofile: limits.maxOpenFiles,
      },
    };
    const runnerPath = join(hostDir, 'runner.py');
    const configPath = join(hostDir, 'config.json');
    await writeFile(runnerPath, RUNNER_PY, { mode: 0o600 });
    await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
    const argv = [...tier.prefix, req.python, '-I', '-B', runnerPath, configPath];
    const outcome = await launch(argv, hostDir, req, started);
    outcome.uid = uid;
    if (cg !== null) outcome.oomKilled = await oomKilled(cg);
    return outcome;
  } finally {
    if (cg !== null) {
      await removeMemoryCgroup(cg);
      liveCgroups.delete(cg);
    }
    await rm(hostDir, { recursive: true, force: true }).catch(() => undefined);
    liveDirs.delete(hostDir);
  }
}

function launch(argv: string[], cwd: string, req: ExecRequest, started: number): Promise<ExecOutcome> {
  return new Promise<ExecOutcome>((resolve) => {
    let child: ChildProcess;
    const minimalEnv = { PATH: req.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        cwd,
        env: minimalEnv,
        detached: true, // own process group: kill(-pgid) reaches everything that stays in it
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve(failedSpawn(started, String(e)));
      return;
    }
    new Launch(child, argv[0]!, req, started, resolve).start();
  });
}

/**
 * One started supervisor: captures its output with byte caps, enforces the wall-clock limit and
 * aborts, kills its whole process group, and settles exactly once (on close, or 2 s after exit).
 */
class Launch {
  private readonly pgid: number | undefined;
  private readonly stdoutChunks: Buffer[] = [];
  private stdoutKept = 0;
  private stdoutBytes = 0;
  private readonly stderr = new TailBuffer(STDERR_TAIL_BYTES);
  private statusText = '';
  private killedBy: ExecOutcome['killedBy'] = null;
  private settled = false;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private wallTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.kill('abort');

  constructor(
    private readonly child: ChildProcess,
    private readonly command: string,
    private readonly req: ExecRequest,
    private readonly started: number,
    private readonly resolve: (outcome: ExecOutcome) => void,
  ) {
    this.pgid = child.pid;
    if (this.pgid !== undefined) live.add(this.pgid);
  }

  start(): void {
    this.armLimits();
    this.captureOutput();
    this.feedStdin();
    this.watchExit();
  }

  /** The wall-clock timer and the abort signal. */
  private armLimits(): void {
    this.wallTimer = setTimeout(() => this.kill('wall'), this.req.limits.wallMs);
    this.req.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.req.signal?.aborted) this.onAbort();
  }

  /** stdout (kept up to stdoutKeepBytes), stderr (a tail), the status line (fd 3); kill past outputKillBytes. */
  private captureOutput(): void {
    const { child, req } = this;
    const limits = req.limits;
    const overCap = (): boolean => this.stdoutBytes + this.stderr.total > limits.outputKillBytes;
    child.stdout!.on('data', (chunk: Buffer) => {
      this.stdoutBytes += chunk.length;
      if (this.stdoutKept < limits.stdoutKeepBytes) {
        const take = chunk.subarray(0, limits.stdoutKeepBytes - this.stdoutKept);
        this.stdoutChunks.push(take);
        this.stdoutKept += take.length;
      }
      if (overCap()) this.kill('output');
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk);
      if (overCap()) this.kill('output');
    });
    const statusStream = child.stdio[3] as NodeJS.ReadableStream | null;
    statusStream?.on('data', (chunk: Buffer) => {
      if (this.statusText.length < 65536) this.statusText += chunk.toString('utf8');
    });
    statusStream?.on('error', () => undefined);
    child.stdout!.on('error', () => undefined);
    child.stderr!.on('error', () => undefined);
  }

  private feedStdin(): void {
    const { child, req } = this;
    child.stdin!.on('error', () => undefined); // EPIPE when the program never reads its input
    if (req.stdin !== undefined && req.stdin.length > 0) child.stdin!.end(req.stdin);
    else child.stdin!.end();
  }

  private watchExit(): void {
    const { child, pgid } = this;
    child.on('error', (e) => this.finish(`could not start ${this.command}: ${e.message}`));
    child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      clearTimeout(this.wallTimer);
      clearTimeout(this.graceTimer);
      // Give the pipes a moment to drain, then finish even if some escaped descendant still
      // holds them open.
      // kill whatever is left in the group (tiers without a PID namespace; with one, the kernel
      // already killed the namespace when its init exited).
      if (pgid !== undefined && !this.req.tier.pidNamespace) killGroup(pgid);
      if (pgid !== undefined) live.delete(pgid);
      this.closeTimer = setTimeout(() => this.finish(), 2000);
    });
    child.on('close', () => this.finish());
  }

  private kill(why: 'wall' | 'output' | 'abort'): void {
    const pgid = this.pgid;
    if (this.exitInfo !== null || pgid === undefined) return;
    const first = this.killedBy === null;
    if (first) this.killedBy = why;
    if (this.req.tier.pidNamespace) {
      killGroup(pgid); // the namespace init dies, and with it every process in the namespace
    } else if (first) {
      // No PID namespace: the launcher is the supervisor itself. Ask it to kill the program and
      // every process of the sandbox uid (which may have left the group with setsid), then
      // kill the group regardless.
      try {
        process.kill(pgid, 'SIGUSR1');
      } catch {
        // gone
      }
      this.graceTimer = setTimeout(() => {
        if (this.exitInfo === null) killGroup(pgid);
      }, 1000);
    }
  }

  private finish(spawnError?: string): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.wallTimer);
    clearTimeout(this.closeTimer);
    clearTimeout(this.graceTimer);
    this.req.signal?.removeEventListener('abort', this.onAbort);
    const { child, pgid } = this;
    if (pgid !== undefined) {
      // Only while the launcher is unreaped is its pid (= the group id) guaranteed not reused.
      if (this.exitInfo === null) killGroup(pgid);
      live.delete(pgid);
    }
    for (const s of [child.stdin, child.stdout, child.stderr, child.stdio[3]]) s?.destroy();
    this.resolve({
      stdout: Buffer.concat(this.stdoutChunks),
      stdoutBytes: this.stdoutBytes,
      stderrTail: this.stderr.get(),
      stderrBytes: this.stderr.total,
      killedBy: this.killedBy,
      launcherExit: this.exitInfo?.code ?? null,
      launcherSignal: this.exitInfo?.signal ?? null,
      status: parseStatusLine(this.statusText),
      durationMs: performance.now() - this.started,
      uid: null,
      oomKilled: false,
      ...(spawnError !== undefined ? { spawnError } : {}),
    });
  }
}

/** The supervisor's status: the first line it wrote to fd 3, as JSON; null if none or malformed. */
function parseStatusLine(statusText: string): SupervisorStatus | null {
  const line = statusText.trim().split('\n')[0];
  if (!line) return null;
  try {
    return JSON.parse(line) as SupervisorStatus;
  } catch {
    return null;
  }
}

function failedSpawn(started: number, msg: string): ExecOutcome {
  return {
    stdout: Buffer.alloc(0),
    stdoutBytes: 0,
    stderrTail: Buffer.alloc(0),
    stderrBytes: 0,
    killedBy: null,
    launcherExit: null,
    launcherSignal: null,
    status: null,
    durationMs: performance.now() - started,
    uid: null,
    oomKilled: false,
    spawnError: msg,
  };
}
