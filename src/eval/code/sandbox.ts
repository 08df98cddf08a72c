/**
 * runPython: runs one untrusted Python program in a sandbox (see exec.ts / runner.ts for the
 * mechanics and isolation.ts for the containment tier) and classifies the outcome:
 *
 *  passed        exit status 0
 *  failed        AssertionError, or a non-zero exit without a traceback (sys.exit(1))
 *  timeout       wall-clock limit (killed) or CPU-time limit (RLIMIT_CPU: SIGXCPU/SIGKILL)
 *  memory        MemoryError (RLIMIT_AS), an OOM kill in the run's memory cgroup, or killed by
 *                SIGKILL with a large RSS
 *  output-limit  stdout+stderr went past the hard cap and the run was killed
 *  crashed       any other uncaught exception (reason names it), a signal, or a sandbox fault
 */
import { LeafError } from '../../errors.js';
import { execSandboxed, type ExecLimits, type ExecOutcome, type SupervisorStatus } from './exec.js';
import { assertNetworkIsolated, getIsolation } from './isolation.js';

export type RunStatus = 'passed' | 'failed' | 'timeout' | 'memory' | 'crashed' | 'output-limit';

export interface RunOptions {
  /** Text fed to the program's stdin. */
  stdin?: string | Buffer;
  /** Wall-clock limit; default 10 000 ms. */
  timeoutMs?: number;
  /** CPU-time limit (RLIMIT_CPU, rounded up to whole seconds); default = timeoutMs. */
  cpuTimeMs?: number;
  /** Address-space limit (RLIMIT_AS) per process; default 2048 MiB. */
  memoryMb?: number;
  /**
   * Memory cap of the whole process tree (RSS + page cache + /tmp tmpfs) through a memory cgroup,
   * where the machine allows one (IsolationInfo.memoryCgroup); default memoryMb + tmpMb + 64.
   */
  totalMemoryMb?: number;
  /** Max processes+threads of the sandbox uid (RLIMIT_NPROC); default 64. */
  maxProcs?: number;
  /** Max size of any file written (RLIMIT_FSIZE); default 16 MiB. */
  fileSizeMb?: number;
  /** Size of the private /tmp tmpfs holding the work directory; default 64 MiB. */
  tmpMb?: number;
  /** stdout bytes kept (the rest is discarded); default 8 MiB. */
  stdoutLimitBytes?: number;
  /** stdout+stderr bytes after which the program is killed; default 64 MiB. */
  outputKillBytes?: number;
  /** Run even when no network namespace is available (CLI: --unsafe-allow-network). */
  allowNetwork?: boolean;
  /** Interpreter for solutions (see isolation.ts for the default). */
  python?: string;
  /** Aborting kills the program (and everything it started); runPython then rejects. */
  signal?: AbortSignal;
}

export interface RunResult {
  status: RunStatus;
  /** One line: why the run ended as it did ('' when passed). */
  reason: string;
  exitCode: number | null;
  /** Signal that ended the program, e.g. 'SIGKILL'. */
  signal: string | null;
  stdout: string;
  /** stdout went past stdoutLimitBytes and was cut. */
  stdoutTruncated: boolean;
  /** Last ~2 KB of stderr. */
  errorTail: string;
  durationMs: number;
  /** CPU time of the program (user+sys), when known. */
  cpuMs: number | null;
  maxRssKb: number | null;
  /** The containment tier used ('namespaces' | 'net-only' | 'none'). */
  isolation: string;
  /** The per-run uid the program ran as (null without a uid drop). */
  sandboxUid: number | null;
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS',
  8: 'SIGFPE', 9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE',
  14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};
const ERROR_TAIL_BYTES = 2048;

/**
 * The final exception of a Python traceback in `stderr`, with the source line it was raised at.
 * Also understands the header-less form Python prints for SyntaxError/IndentationError.
 */
export function parseTraceback(stderr: string): { type: string; message: string; line: string } | null {
  const HEADER = 'Traceback (most recent call last):';
  let lines: string[] = [];
  let excIdx = -1;
  // The last complete traceback: with several processes writing at once (or a process killed
  // mid-write) the very last header may have no exception line after it.
  for (let start = stderr.lastIndexOf(HEADER); start >= 0 && excIdx < 0; start = start > 0 ? stderr.lastIndexOf(HEADER, start - 1) : -1) {
    lines = stderr.slice(start).split('\n');
    for (let i = 1; i < lines.length; i++) {
      if (lines[i]!.startsWith(HEADER)) break;
      if (/^[A-Za-z_][\w.]*(?::|$)/.test(lines[i]!)) {
        excIdx = i;
        break;
      }
    }
  }
  if (excIdx < 0) {
    lines = stderr.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      if (/^(SyntaxError|IndentationError|TabError)(?::|$)/.test(lines[i]!)) {
        excIdx = i;
        break;
      }
    }
  }
  if (excIdx < 0) return null;
  const m = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(lines[excIdx]!);
  if (!m) return null;
  // The innermost frame of the program itself (main.py), else the innermost frame at all.
  let frame = -1;
  for (let i = excIdx - 1; i >= 0; i--) {
    if (!/^\s*File "/.test(lines[i]!)) continue;
    if (frame < 0) frame = i;
    if (/main\.py", line/.test(lines[i]!)) {
      frame = i;
      break;
    }
  }
  let source = '';
  if (frame >= 0) {
    const code = lines[frame + 1] ?? '';
    const lineNo = /line (\d+)/.exec(lines[frame]!)?.[1];
    if (frame + 1 < excIdx && code.trim() && !/^\s*File "/.test(code) && !/^\s*[\^~]+\s*$/.test(code)) {
      source = `${lineNo !== undefined ? `line ${lineNo}: ` : ''}${code.trim()}`;
    } else if (lineNo !== undefined) {
      source = `line ${lineNo}`;
    }
  }
  return { type: m[1]!.replace(/^builtins\./, ''), message: m[2] ?? '', line: source };
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

function tailBytes(buf: Buffer, n: number): string {
  return (buf.length > n ? buf.subarray(buf.length - n) : buf).toString('utf8');
}

/** The limits of one run, defaults applied (RunOptions documents each). */
interface RunLimits {
  timeoutMs: number;
  cpuSec: number;
  memoryMb: number;
  /** Memory cap of the whole process tree (memory cgroup), MiB. */
  totalMemoryMb: number;
  fileSizeMb: number;
  exec: ExecLimits;
}

function runLimits(opts: RunOptions): RunLimits {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (!(timeoutMs > 0)) throw new LeafError(`code judge: timeoutMs must be positive, got ${timeoutMs}`);
  const cpuSec = Math.max(1, Math.ceil((opts.cpuTimeMs ?? timeoutMs) / 1000));
  const memoryMb = opts.memoryMb ?? 2048;
  const tmpMb = opts.tmpMb ?? 64;
  const totalMemoryMb = opts.totalMemoryMb ?? memoryMb + tmpMb + 64;
  const fileSizeMb = opts.fileSizeMb ?? 16;
  return {
    timeoutMs,
    cpuSec,
    memoryMb,
    totalMemoryMb,
    fileSizeMb,
    exec: {
      wallMs: timeoutMs,
      cpuSec,
      memoryBytes: memoryMb * 1024 * 1024,
      maxProcs: opts.maxProcs ?? 64,
      fileSizeBytes: fileSizeMb * 1024 * 1024,
      maxOpenFiles: 1024,
      tmpfsBytes: tmpMb * 1024 * 1024,
      stdoutKeepBytes: opts.stdoutLimitBytes ?? 8 * 1024 * 1024,
      outputKillBytes: opts.outputKillBytes ?? 64 * 1024 * 1024,
    },
  };
}

/** What the supervisor reported about the program, decoded. */
interface ProgramEnd {
  st: SupervisorStatus | null;
  stderrText: string;
  exitCode: number | null;
  sigNum: number | null;
  signal: string | null;
  cpuMs: number | null;
  maxRssKb: number | null;
  tb: ReturnType<typeof parseTraceback>;
}

function programEnd(out: ExecOutcome): ProgramEnd {
  const st = out.status;
  const stderrText = out.stderrTail.toString('utf8');
  const sigNum = st?.signal ?? null;
  return {
    st,
    stderrText,
    exitCode: st?.exit ?? null,
    sigNum,
    signal: sigNum !== null ? (SIGNAL_NAMES[sigNum] ?? `signal ${sigNum}`) : null,
    cpuMs: st?.cpuSec !== undefined ? Math.round(st.cpuSec * 1000) : null,
    maxRssKb: st?.maxRssKb ?? null,
    tb: parseTraceback(stderrText),
  };
}

/** The run's status and one-line reason; the checks are tried in this order (module doc). */
function classify(out: ExecOutcome, end: ProgramEnd, lim: RunLimits): { status: RunStatus; reason: string } {
  const { st, stderrText, exitCode, sigNum, signal, cpuMs, maxRssKb, tb } = end;
  if (out.killedBy === 'output') {
    return { status: 'output-limit', reason: `output exceeded ${lim.exec.outputKillBytes} bytes; killed` };
  }
  if (out.killedBy === 'wall' || st?.watchdog) {
    return { status: 'timeout', reason: `wall-clock time limit of ${lim.timeoutMs} ms exceeded` };
  }
  if (out.spawnError !== undefined) return { status: 'crashed', reason: `sandbox error: ${out.spawnError}` };
  if (st === null || !st.ok) {
    const reason = st?.error ?? `sandbox error: supervisor ended without a status (exit ${out.launcherExit ?? out.launcherSignal})`;
    return { status: 'crashed', reason };
  }
  if (sigNum === 24 || (sigNum === 9 && cpuMs !== null && cpuMs >= lim.cpuSec * 1000 - 50)) {
    return { status: 'timeout', reason: `CPU time limit of ${lim.cpuSec} s exceeded` };
  }
  if (out.oomKilled && exitCode !== 0) {
    return { status: 'memory', reason: `out of memory: killed by the kernel at the sandbox memory limit of ${lim.totalMemoryMb} MiB` };
  }
  if (tb?.type === 'MemoryError') {
    return { status: 'memory', reason: `MemoryError (memory limit ${lim.memoryMb} MiB)${tb.line ? ` at ${tb.line}` : ''}` };
  }
  if (sigNum === 9 && maxRssKb !== null && maxRssKb * 1024 >= lim.memoryMb * 1024 * 1024 * 0.8) {
    return { status: 'memory', reason: `killed (SIGKILL) near the memory limit of ${lim.memoryMb} MiB` };
  }
  if (sigNum !== null) {
    const reason =
      sigNum === 25
        ? `file size limit of ${lim.fileSizeMb} MiB exceeded (SIGXFSZ)`
        : `killed by ${signal}${sigNum === 11 ? ' (segmentation fault; deep recursion?)' : ''}`;
    return { status: 'crashed', reason };
  }
  if (exitCode === 0) return { status: 'passed', reason: '' };
  if (tb !== null) {
    let head = tb.message ? `${tb.type}: ${clip(tb.message, 200)}` : tb.type;
    if (/\[Errno 27\]/.test(tb.message)) head += ` (file size limit ${lim.fileSizeMb} MiB)`;
    return { status: tb.type === 'AssertionError' ? 'failed' : 'crashed', reason: tb.line ? `${head} at ${clip(tb.line, 200)}` : head };
  }
  if (exitCode === 127 && /leaf sandbox: could not start/.test(stderrText)) {
    return { status: 'crashed', reason: clip(stderrText.trim().split('\n').slice(-1)[0] ?? '', 300) };
  }
  const last = stderrText.trim().split('\n').slice(-1)[0] ?? '';
  return { status: 'failed', reason: `exited with status ${exitCode}${last ? `: ${clip(last, 200)}` : ''}` };
}

/** Runs `code` (a complete Python program) in a fresh sandbox and classifies the outcome. */
export async function runPython(code: string, opts: RunOptions = {}): Promise<RunResult> {
  const iso = await getIsolation(opts.python !== undefined ? { python: opts.python } : {});
  assertNetworkIsolated(iso, opts.allowNetwork);
  const lim = runLimits(opts);
  const out = await execSandboxed({
    python: iso.python,
    code,
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    env: iso.env,
    visible: iso.visibleEntries,
    cgroupBytes: iso.memoryCgroup ? lim.totalMemoryMb * 1024 * 1024 : null,
    tier: iso.tierSpec,
    limits: lim.exec,
  });
  if (out.killedBy === 'abort') {
    throw opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('code judge: run aborted');
  }
  const end = programEnd(out);
  const { status, reason } = classify(out, end, lim);
  return {
    status,
    reason,
    exitCode: end.exitCode,
    signal: end.signal,
    stdout: out.stdout.toString('utf8'),
    stdoutTruncated: out.stdoutBytes > out.stdout.length,
    errorTail: tailBytes(out.stderrTail, ERROR_TAIL_BYTES),
    durationMs: Math.round(out.durationMs),
    cpuMs: end.cpuMs,
    maxRssKb: end.maxRssKb,
    isolation: iso.tier,
    sandboxUid: out.uid,
  };
}
