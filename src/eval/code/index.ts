/**
 * The code judge: runs model-generated Python against tests, treating it as hostile.
 *
 * Per run (sandbox.ts → exec.ts → runner.ts), on the 'namespaces' tier (root, or a user with
 * unprivileged user namespaces; see probeIsolation):
 *  - process tree: own process group, PID namespace whose init is the supervisor; when it exits
 *    (program done, killed by the wall-clock timer, or its own watchdog at timeout+2 s if leaf
 *    itself died) the kernel kills every process left, setsid'd daemons included;
 *  - limits: wall clock (node timer), RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC (enforced because the
 *    program runs as a random unprivileged uid when leaf is root, or inside a user namespace),
 *    RLIMIT_FSIZE, RLIMIT_NOFILE, no core dumps, plus a memory cgroup capping the whole tree
 *    where one can be created; stdout kept up to a cap, the run killed past a hard output cap;
 *  - network: a fresh network namespace (only `lo`, down): no loopback, no outside, no abstract
 *    unix sockets of the host; refused (LeafError) where none can be made, unless allowNetwork;
 *  - filesystem: mount namespace with its own root (pivot_root) holding only the interpreter, its
 *    import path and the shared libraries it loads, bound read-only at their host paths, the
 *    namespace's /proc, a /dev with null/zero/full/random/urandom, and size-capped private tmpfs
 *    mounts on /tmp (work dir /tmp/leaf-work, also HOME and TMPDIR) and /dev/shm; no other host
 *    file is reachable (the project, benchmark files, /etc, unix sockets in /var/tmp or /run); all
 *    of it vanishes with the namespace; host directory with the program removed at the end;
 *  - privileges: no capabilities (bounding set dropped too), PR_SET_NO_NEW_PRIVS (setuid
 *    binaries do not elevate), environment reduced to PATH/LANG/HOME/TMPDIR and thread counts.
 * Not prevented: reading what the interpreter needs (its standard library and installed packages,
 * the system's shared libraries), CPU/memory contention with the rest of the machine, kernel
 * exploits. As a user other than root the tier runs in a user namespace: no per-run uid and
 * usually no memory cgroup (sandboxWarning says so). Lower tiers ('net-only', 'none') keep the
 * rlimits, uid drop and kill-by-uid but lose the private root (host files readable, world-writable
 * dirs such as /tmp writable) and, for 'none', the network.
 */
export { extractCode } from './extract.js';
export { probeIsolation, sandboxRecord, sandboxWarning, type IsolationInfo, type ProbeOptions, type SandboxRecord } from './isolation.js';
export { runPython, parseTraceback, type RunOptions, type RunResult, type RunStatus } from './sandbox.js';
export {
  judgeHumanEval,
  judgeMbpp,
  judgeStdio,
  humanEvalProgram,
  mbppProgram,
  normalizeOutput,
  type HumanEvalProblem,
  type MbppProblem,
  type StdioCase,
  type StdioOptions,
  type JudgeResult,
} from './judges.js';
export { CodePool, type CodeJob, type CodePoolOptions } from './pool.js';
