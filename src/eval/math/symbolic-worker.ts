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
  subs(values: Record<string, Expr>): Expr;
  N(): Expr;
}
interface Engine {
  parse(latex: string): Expr;
  number(value: number): Expr;
  latexDictionary: ReadonlyArray<unknown>;
}
interface LatexParser {
  parseGroup(): unknown;
}

/**
 * Values given to free variables when comparing expressions numerically: irrational-looking,
 * away from 0 and ±1 (where factors such as x² − 1 vanish), both signs.
 */
const SAMPLES = [0.3719, 1.6183, 2.7071, -0.8312, 3.3137, 0.5907, -1.4142, 1.2346];
/** Sample points at which both sides must evaluate (and agree) before they count as identical. */
const MIN_AGREEING_SAMPLES = 4;

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
  return sampledEqual(ce, A, B);
}

/**
 * Free variables: both sides evaluated at fixed sample points (variable j at point k takes
 * SAMPLES[(k + 3j) mod n]); any finite disagreement means "not equal", and equality needs at least
 * MIN_AGREEING_SAMPLES points where both sides have finite values that agree.
 */
function sampledEqual(ce: Engine, A: Expr, B: Expr): boolean {
  const vars = [...new Set([...A.unknowns, ...B.unknowns])];
  let agreed = 0;
  for (let k = 0; k < SAMPLES.length; k++) {
    const values: Record<string, Expr> = {};
    vars.forEach((v, j) => {
      values[v] = ce.number(SAMPLES[(k + 3 * j) % SAMPLES.length]!);
    });
    const x = A.subs(values).N();
    const y = B.subs(values).N();
    if (!x.isNumberLiteral || !y.isNumberLiteral) continue;
    if (![x.re, x.im, y.re, y.im].every(Number.isFinite)) continue;
    if (!valuesClose(x, y)) return false;
    agreed++;
  }
  return agreed >= MIN_AGREEING_SAMPLES;
}

/** \binom{n}{k} (and \dbinom, \tbinom) as the engine's Choose, which it evaluates. */
function addBinomial(ce: Engine): void {
  const parse = (p: LatexParser): unknown => {
    const n = p.parseGroup();
    const k = n === null ? null : p.parseGroup();
    return k === null ? null : ['Choose', n, k];
  };
  ce.latexDictionary = [
    ...ce.latexDictionary,
    ...['\\binom', '\\dbinom', '\\tbinom'].map((t) => ({ latexTrigger: [t], kind: 'expression', parse })),
  ];
}

async function main(): Promise<void> {
  let ce: Engine;
  try {
    const mod = (await import('@cortex-js/compute-engine')) as unknown as { ComputeEngine: new () => Engine };
    ce = new mod.ComputeEngine();
    addBinomial(ce);
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
