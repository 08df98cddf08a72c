/**
 * Symbolic equivalence of two LaTeX expressions, with a hard time bound.
 *
 * The computer algebra is the CortexJS Compute Engine (`@cortex-js/compute-engine`), run in a
 * worker thread (symbolic-worker.ts). The call stays synchronous: the caller blocks in
 * Atomics.wait for at most `timeoutMs`; past that, the worker is terminated (a fresh one is
 * started on the next call) and the answer is "cannot tell" (`undefined`). The worker is unref'd,
 * so it never keeps the process alive.
 */

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** Default bound on one symbolic comparison, in milliseconds. */
export const DEFAULT_SYMBOLIC_TIMEOUT_MS = 2000;
/** Bound on loading the engine in a fresh worker, in milliseconds. */
const STARTUP_TIMEOUT_MS = 30_000;
const CACHE_LIMIT = 10_000;

interface Session {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
}

let session: Session | null = null;
let unavailable: string | null = null;
const cache = new Map<string, boolean | undefined>();

function waitForReply(s: Session, timeoutMs: number): { message: unknown } | undefined {
  const status = Atomics.wait(s.flag, 0, 0, timeoutMs);
  if (status === 'timed-out') return undefined;
  return receiveMessageOnPort(s.port);
}

function stop(s: Session): void {
  s.port.close();
  s.worker.terminate().catch(() => undefined);
  if (session === s) session = null;
}

function start(): Session | null {
  if (unavailable !== null) return null;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(new URL('./symbolic-worker.js', import.meta.url), {
      workerData: { flag, port: port2 },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
  } catch (err) {
    unavailable = String(err);
    return null;
  }
  worker.unref();
  worker.on('error', () => undefined); // a crash (out of memory) shows up as a timeout
  const s: Session = { worker, port: port1, flag };
  const reply = waitForReply(s, STARTUP_TIMEOUT_MS);
  const msg = reply?.message as { ready?: boolean; error?: string } | undefined;
  if (!msg?.ready) {
    unavailable = msg?.error ?? 'the symbolic worker did not start in time';
    stop(s);
    return null;
  }
  session = s;
  return s;
}

/**
 * Are the LaTeX expressions `a` and `b` mathematically equal? `true` / `false`, or `undefined`
 * when the engine cannot parse them, cannot decide, or runs past `timeoutMs`.
 * Numeric values compare within a relative 1e-6; expressions with free variables must be
 * identically equal (the engine samples them and then expands and simplifies the difference).
 */
export function symbolicEqual(a: string, b: string, timeoutMs: number = DEFAULT_SYMBOLIC_TIMEOUT_MS): boolean | undefined {
  const key = `${a}\u0000${b}`;
  if (cache.has(key)) return cache.get(key);
  const s = session ?? start();
  if (!s) return undefined;
  Atomics.store(s.flag, 0, 0);
  s.worker.postMessage({ a, b });
  const reply = waitForReply(s, timeoutMs);
  let result: boolean | undefined;
  if (reply === undefined) {
    stop(s); // ran past the bound (or died): throw this worker away
    result = undefined;
  } else {
    const r = (reply.message as { result?: boolean | null }).result;
    result = r === null || r === undefined ? undefined : r;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, result);
  return result;
}

/** Why the symbolic engine is unavailable in this process, or `null` if it is (or may be) there. */
export function symbolicUnavailableReason(): string | null {
  return unavailable;
}

/** Terminate the worker now (it is unref'd, so this is optional). */
export function shutdownSymbolic(): void {
  if (session) stop(session);
}
