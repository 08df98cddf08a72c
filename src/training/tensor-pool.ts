/**
 * The optimizer's element-wise work (the gradient norm and the AdamW update: memory-bound loops over
 * every parameter, 135 M elements for a 135M model) on all cores: worker threads that share the
 * parameter, gradient and moment buffers (SharedArrayBuffer-backed) with the main thread, woken with
 * Atomics for each job, the main thread taking its share. Results are bit-identical to the serial code
 * (adamw.ts): the update is per element, and the norm is summed in fixed chunks added in order.
 *
 * Only worth it for models of millions of parameters; {@link TensorPool.create} says no otherwise.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { adamwRange, NORM_CHUNK, sumSquares, type AdamWExecutor, type AdamWStepConstants } from './adamw.js';

/** One parameter's buffers. */
export interface PoolTensor {
  p: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** What the worker receives. */
export interface PoolWorkerData {
  tensors: PoolTensor[];
  control: Int32Array;
  consts: Float64Array;
  chunkSums: Float64Array;
  chunks: Int32Array;
  index: number;
  threads: number;
}

export const JOB_NORM = 1;
export const JOB_ADAMW = 2;
export const JOB_EXIT = 3;
/** control[GEN] is bumped per job, control[JOB] names it, control[DONE] counts finished workers. */
export const GEN = 0, JOB = 1, DONE = 2;

/** Chunk table: [tensor, start, end] triples over every tensor in order. */
export function chunkTable(tensors: readonly { length: number }[]): Int32Array {
  const out: number[] = [];
  tensors.forEach((t, ti) => {
    for (let s = 0; s < t.length; s += NORM_CHUNK) out.push(ti, s, Math.min(t.length, s + NORM_CHUNK));
  });
  return Int32Array.from(out);
}

/** Runs this thread's share (chunks [i·C/threads, (i+1)·C/threads)) of a job. */
export function runShare(d: Pick<PoolWorkerData, 'tensors' | 'consts' | 'chunkSums' | 'chunks' | 'index' | 'threads'>, job: number): void {
  const C = d.chunks.length / 3;
  const lo = Math.floor((d.index * C) / d.threads), hi = Math.floor(((d.index + 1) * C) / d.threads);
  if (job === JOB_NORM) {
    for (let c = lo; c < hi; c++) d.chunkSums[c] = sumSquares(d.tensors[d.chunks[3 * c]].g, d.chunks[3 * c + 1], d.chunks[3 * c + 2]);
  } else if (job === JOB_ADAMW) {
    const k = d.consts;
    const consts: AdamWStepConstants = { b1: k[0], b2: k[1], stepSize: k[2], decay: k[3], sqrtBc2: k[4], eps: k[5], gradScale: k[6] };
    for (let c = lo; c < hi; c++) {
      const t = d.tensors[d.chunks[3 * c]];
      adamwRange(t.p, t.g, t.m, t.v, d.chunks[3 * c + 1], d.chunks[3 * c + 2], consts);
    }
  }
}

/** A zeroed Float32Array in shared memory. */
export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * n));
}

/** A Float32Array in shared memory with the contents of `a` (`a` itself when it is shared already). */
export function toShared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = sharedFloat32(a.length);
  s.set(a);
  return s;
}

export class TensorPool implements AdamWExecutor {
  private readonly workers: Worker[];
  private readonly data: PoolWorkerData;

  private constructor(tensors: PoolTensor[], threads: number) {
    const chunks = chunkTable(tensors.map((t) => t.p));
    const sab = (bytes: number) => new SharedArrayBuffer(bytes);
    this.data = {
      tensors, chunks, threads, index: 0,
      control: new Int32Array(sab(16)), consts: new Float64Array(sab(64)), chunkSums: new Float64Array(sab(8 * (chunks.length / 3))),
    };
    this.workers = [];
    for (let i = 1; i < threads; i++) {
      const w = new Worker(new URL('./tensor-pool-worker.js', import.meta.url), { workerData: { ...this.data, index: i } });
      w.unref();
      this.workers.push(w);
    }
  }

  /**
   * A pool over these buffers (all SharedArrayBuffer-backed float32, same lengths per tensor), or null when
   * there is one core, the model is small (< minElements), or a buffer is not shared.
   */
  static create(tensors: PoolTensor[], options: { threads?: number; minElements?: number } = {}): TensorPool | null {
    const threads = Math.min(options.threads ?? availableParallelism(), 16);
    const total = tensors.reduce((a, t) => a + t.p.length, 0);
    if (threads < 2 || total < (options.minElements ?? 1 << 22)) return null;
    const ok = tensors.every((t) => [t.p, t.g, t.m, t.v].every((a) => a instanceof Float32Array && a.buffer instanceof SharedArrayBuffer && a.length === t.p.length));
    return ok ? new TensorPool(tensors, threads) : null;
  }

  private run(job: number): void {
    const c = this.data.control;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, JOB, job);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    runShare(this.data, job);
    const n = this.workers.length;
    for (let d = Atomics.load(c, DONE); d < n; d = Atomics.load(c, DONE)) Atomics.wait(c, DONE, d);
  }

  /** The global L2 norm of the gradients, equal to gradNorm() of the same buffers. */
  gradNorm(): number {
    this.run(JOB_NORM);
    let s = 0;
    for (const x of this.data.chunkSums) s += x;
    return Math.sqrt(s);
  }

  adamw(c: AdamWStepConstants): void {
    this.data.consts.set([c.b1, c.b2, c.stepSize, c.decay, c.sqrtBc2, c.eps, c.gradScale]);
    this.run(JOB_ADAMW);
  }

  close(): void {
    const c = this.data.control;
    Atomics.store(c, JOB, JOB_EXIT);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    for (const w of this.workers) void w.terminate();
  }
}
