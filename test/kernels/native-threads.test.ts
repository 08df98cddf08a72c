/**
 * The native addon under concurrency: loaded in worker threads (it is a context-aware N-API module),
 * called from several threads at once (the kernel thread pool is shared: a caller that finds it busy
 * runs its kernel on its own thread), with the same results as a lone caller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadNativeKernels } from '../../src/kernels/native.js';

const native = loadNativeKernels().kernels;
const nativeUrl = new URL('../../src/kernels/native.js', import.meta.url).href;

// Runs in each worker and on the main thread: attention forward + backward and a GEMM on fixed inputs;
// returns a checksum-free copy of the outputs.
const WORK = `
async function work(nativeUrl, reps) {
  const { loadNativeKernels } = await import(nativeUrl);
  const k = loadNativeKernels().kernels;
  if (!k) throw new Error('addon missing in worker');
  const shape = { batch: 2, queries: 40, keys: 40, keyCapacity: 40, past: 0, heads: 4, kvHeads: 2, headDim: 32, scale: 0.15 };
  const qn = 2 * 40 * 4 * 32, kn = 2 * 40 * 2 * 32;
  const f = (n, s) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.sin(i * s); return a; };
  const q = f(qn, 0.37), kk = f(kn, 0.51), v = f(kn, 0.23), dOut = f(qn, 0.11), mask = new Uint8Array(80).fill(1);
  const out = new Float32Array(qn), probs = new Float32Array(2 * 4 * 40 * 40);
  const dq = new Float32Array(qn), dk = new Float32Array(kn), dv = new Float32Array(kn);
  const a = f(96 * 80, 0.013), b = f(80 * 64, 0.029), c = new Float32Array(96 * 64);
  for (let r = 0; r < reps; r++) {
    k.attention(q, kk, v, mask, out, probs, shape);
    k.attentionBackward(dOut, q, kk, v, probs, dq, dk, dv, shape);
    k.gemm(false, false, 96, 64, 80, 1, a, 80, b, 64, 0, c, 64);
  }
  return [out, probs, dq, dk, dv, c].map((x) => Array.from(x));
}
`;

test('native kernels in worker threads, concurrently with the main thread', async (t) => {
  if (!native) {
    t.skip('native addon not built');
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const work = new Function(`${WORK}; return work;`)() as (url: string, reps: number) => Promise<number[][]>;
  const reference = await work(nativeUrl, 1);
  const workers = [0, 1].map(
    () =>
      new Promise<number[][]>((resolve, reject) => {
        const w = new Worker(
          `${WORK}
           const { parentPort, workerData } = require('node:worker_threads');
           work(workerData.url, workerData.reps).then((r) => parentPort.postMessage(r), (e) => { throw e; });`,
          { eval: true, workerData: { url: nativeUrl, reps: 30 } },
        );
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  const mine = await work(nativeUrl, 30);
  const results = await Promise.all(workers);
  for (const r of [mine, ...results]) {
    assert.equal(r.length, reference.length);
    for (let i = 0; i < r.length; i++) assert.deepEqual(r[i], reference[i], `output ${i} differs under concurrency`);
  }
});
