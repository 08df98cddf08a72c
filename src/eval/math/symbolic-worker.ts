/**
 * Worker thread behind symbolic.ts: compares two LaTeX expressions with the CortexJS Compute
 * Engine. It lives in a worker so that the caller can stop a pathological comparison
 * (`\sum_{n=1}^{10^9} n`, `99999!`) after a time bound by terminating the thread.
 *
 * Protocol: workerData holds `flag` (an Int32Array on a SharedArrayBuffer) and `port` (a
 * MessagePort). Once loaded the worker posts `{ ready: true }` (or `{ ready: false, error }`);
 * for each `{ a, b }` it receives on its parent port it posts `{ result }` (`true`, `false`, or
 * `null` for "cannot tell"). After each post it sets `flag[0] = 1` and notifies, so the caller
 * can wait synchronously with Atomics.wait and read the answer with receiveMessageOnPort.
 */

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { RELATIVE_TOLERANCE } from './number.js';

interface WorkerData {
  flag: Int32Array;
  port: MessagePort;
}

/** The small part of the Compute Engine API this file uses. */
interface Expr {
  readonly isValid: boolean;
  readonly unknowns: ReadonlyArray<string>;
  readonly isNumberLiteral: boolean;
  readonly re: number;
  readonly im: number;
  isSame(other: Expr): boolean;
  isEqual(other: Expr): boolean | undefined;
  isIdenticallyEqual(other: Expr): boolean | undefined;
  N(): Expr;
}
interface Engine {
  parse(latex: string): Expr;
}

const { flag, port } = workerData as WorkerData;

function post(message: unknown): void {
  port.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** Complex values equal within the relative tolerance (infinities equal only themselves). */
function valuesClose(x: Expr, y: Expr): boolean {
  if (x.re === y.re && x.im === y.im) return true;
  const vals = [x.re, x.im, y.re, y.im];
  if (vals.some((v) => !Number.isFinite(v))) return false;
  const diff = Math.hypot(x.re - y.re, x.im - y.im);
  const scale = Math.max(Math.hypot(x.re, x.im), Math.hypot(y.re, y.im));
  return diff <= RELATIVE_TOLERANCE * scale || diff <= 1e-12;
}

function compare(ce: Engine, a: string, b: string): boolean | null {
  const A = ce.parse(a);
  const B = ce.parse(b);
  if (!A.isValid || !B.isValid) return null;
  if (A.isSame(B)) return true;
  if (A.unknowns.length === 0 && B.unknowns.length === 0) {
    const x = A.N();
    const y = B.N();
    if (x.isNumberLiteral && y.isNumberLiteral) {
      if (Number.isNaN(x.re) || Number.isNaN(y.re)) return null;
      return valuesClose(x, y);
    }
    return A.isEqual(B) ?? null;
  }
  // Free variables: the engine's identity test (random sampling, then expand + simplify).
  // A sampled disagreement comes back as `undefined`, which counts as "not equal".
  return A.isIdenticallyEqual(B) === true;
}

async function main(): Promise<void> {
  let ce: Engine;
  try {
    const mod = (await import('@cortex-js/compute-engine')) as unknown as { ComputeEngine: new () => Engine };
    ce = new mod.ComputeEngine();
    ce.parse('x+1').isSame(ce.parse('1+x')); // warm the parser and canonical forms up
  } catch (err) {
    post({ ready: false, error: String(err) });
    return;
  }
  parentPort!.on('message', (req: { a: string; b: string }) => {
    let result: boolean | null;
    try {
      result = compare(ce, req.a, req.b);
    } catch {
      result = null;
    }
    post({ result });
  });
  post({ ready: true });
}

void main();
