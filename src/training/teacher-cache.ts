/**
 * The cached teacher: for every supervised position of every training sample, the teacher's K most
 * likely tokens with their log-probabilities (at the run's temperature) and the log of the remaining
 * probability mass, computed once and reused by every epoch (kd-batch.ts explains how the loss
 * completes the distribution and what that approximation costs). The files and what identifies them:
 * teacher-cache-file.ts. Rows are read with positional reads (the OS page cache plays the role of a
 * memory map: Node has no mmap).
 *
 * Building is resumable: rows are appended batch by batch; a killed build keeps every complete batch,
 * and a rerun with the same key truncates to the start of the first incomplete batch and continues with
 * the batch size the build began with, so the teacher sees exactly the batches of an uninterrupted
 * build and the file ends byte-identical. Another key (other teacher, data, K or temperature) starts over.
 * A cache built elsewhere (`leaf teacher-cache`, merged shards) is opened with TeacherCache.open, which
 * builds nothing and names what differs when it does not fit.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import type { FArray, Kernels } from '../kernels/types.js';
import type { CausalLM } from '../model/causal-lm.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { packBatch } from './batch.js';
import type { TeacherRows } from './kd-batch.js';
import type { Progress } from '../util/progress.js';
import type { TrainSample } from './samples.js';
import {
  CACHE_DATA, checkDataSize, finishMeta, metaMismatch, readMeta, sampleRows, samplesFingerprint, startMeta, writeMeta,
  type CacheKeyParts, type CacheMeta,
} from './teacher-cache-file.js';

export { CACHE_DATA, CACHE_META, sampleRows } from './teacher-cache-file.js';

export type TopKRows = Extract<TeacherRows, { kind: 'topk' }>;

/** Samples whose teacher rows are written, of all the samples (of the shard). */
export type TeacherCacheProgress = Progress<'teacher-cache'>;

/**
 * Top-K of teacher logits rows [rows, teacherVocab] (truncated to `vocab` columns, divided by the
 * temperature): ids by decreasing probability (ties: lower id first), their log-probabilities, and the
 * log of the remaining mass. `logits` is overwritten (scratch).
 */
export function topKFromLogits(
  kernels: Kernels, logits: FArray, rows: number, teacherVocab: number, vocab: number, temperature: number, k: number,
): TopKRows {
  const V = vocab;
  if (teacherVocab < V) throw new LeafError(`teacher vocabulary (${teacherVocab}) is smaller than the student's (${V})`);
  const K = Math.min(k, V);
  if (teacherVocab !== V) for (let r = 1; r < rows; r++) logits.copyWithin(r * V, r * teacherVocab, r * teacherVocab + V);
  const invT = 1 / temperature;
  if (invT !== 1) for (let i = 0; i < rows * V; i++) logits[i] *= invT;
  kernels.logSoftmax(logits, logits, rows, V);
  const ids = new Int32Array(rows * K), logProbs = new Float32Array(rows * K), logRest = new Float32Array(rows);
  const hv = new Float64Array(K), hi = new Int32Array(K), mask = new Uint8Array(V);
  // Min-heap on (value, −id): the root is the entry to evict first.
  const less = (a: number, b: number) => hv[a] < hv[b] || (hv[a] === hv[b] && hi[a] > hi[b]);
  const swap = (a: number, b: number) => {
    const tv = hv[a]; hv[a] = hv[b]; hv[b] = tv;
    const ti = hi[a]; hi[a] = hi[b]; hi[b] = ti;
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < K && less(l, m)) m = l;
      if (r < K && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    for (let j = 0; j < K; j++) {
      hv[j] = logits[o + j];
      hi[j] = j;
    }
    for (let j = (K >> 1) - 1; j >= 0; j--) siftDown(j);
    for (let v = K; v < V; v++) {
      const x = logits[o + v];
      if (x > hv[0]) {
        hv[0] = x;
        hi[0] = v;
        siftDown(0);
      }
    }
    const order = Array.from({ length: K }, (_, j) => j).sort((a, b) => hv[b] - hv[a] || hi[a] - hi[b]);
    for (let j = 0; j < K; j++) {
      ids[r * K + j] = hi[order[j]];
      logProbs[r * K + j] = hv[order[j]];
      mask[hi[order[j]]] = 1;
    }
    let tail = 0;
    for (let v = 0; v < V; v++) if (!mask[v]) tail += Math.exp(logits[o + v]);
    for (let j = 0; j < K; j++) mask[ids[r * K + j]] = 0;
    logRest[r] = tail > 0 ? Math.log(tail) : -Infinity;
  }
  return { kind: 'topk', k: K, ids, logProbs, logRest };
}

export interface TeacherCacheOptions {
  k: number;
  temperature: number;
  /** The student's vocabulary (teacher logits are truncated to it). */
  vocab: number;
  /** Samples per teacher forward while building. */
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** modelFingerprint(teacher), when the caller has computed it already. */
  teacherFingerprint?: string;
}

/** What the rows of `samples` depend on (teacher-cache-file.ts CacheKeyParts). */
export function cacheKeyParts(teacherFingerprint: string, samples: readonly TrainSample[], o: { k: number; temperature: number; vocab: number }): CacheKeyParts {
  if (!(Number.isInteger(o.k) && o.k >= 1)) throw new LeafError(`--top-k must be an integer ≥ 1, got ${o.k}`);
  return { teacher: teacherFingerprint, samples: samplesFingerprint(samples), k: Math.min(o.k, o.vocab), temperature: o.temperature, vocab: o.vocab };
}

/** Row offsets of the samples: sample i's rows are [offset[i], offset[i + 1]). */
function rowOffsets(samples: readonly TrainSample[]): Float64Array {
  const rowOffset = new Float64Array(samples.length + 1);
  for (let i = 0; i < samples.length; i++) rowOffset[i + 1] = rowOffset[i] + sampleRows(samples[i]);
  return rowOffset;
}

/** Writes the rows of samples [done, end) batch by batch (each batch starting at a multiple of batchSize). */
function buildRows(file: string, teacher: CausalLM, samples: readonly TrainSample[], rowOffset: Float64Array, meta: CacheMeta, done: number, onProgress?: (done: number, total: number) => void): void {
  const K = meta.k, rowBytes = meta.rowBytes, batchSize = meta.batchSize!;
  const fd = fs.openSync(file, 'r+');
  try {
    onProgress?.(done, samples.length);
    for (let start = done; start < samples.length; start += batchSize) {
      const batch = samples.slice(start, Math.min(samples.length, start + batchSize));
      const packed = packBatch(batch.map((s) => ({ ids: s.teacherIds ?? s.ids, responseStart: s.teacherResponseStart ?? s.responseStart, weight: 1 })));
      const out = teacher.forward({ batch: packed.batch, seqLen: packed.seqLen, inputIds: packed.inputIds, attentionMask: packed.attentionMask, logitRows: packed.logitRows });
      const top = topKFromLogits(teacher.kernels, out.logits!, packed.tokens, teacher.config.vocabSize, meta.vocab, meta.temperature, K);
      const bytes = new Uint8Array(packed.tokens * rowBytes);
      const i32 = new Int32Array(bytes.buffer), f32 = new Float32Array(bytes.buffer);
      const w = rowBytes / 4;
      for (let r = 0; r < packed.tokens; r++) {
        i32.set(top.ids.subarray(r * K, (r + 1) * K), r * w);
        f32.set(top.logProbs.subarray(r * K, (r + 1) * K), r * w + K);
        f32[r * w + 2 * K] = top.logRest[r];
      }
      fs.writeSync(fd, bytes, 0, bytes.length, rowOffset[start] * rowBytes);
      onProgress?.(start + batch.length, samples.length);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A complete cache file, open for reading. */
export class TeacherCache {
  private constructor(
    private readonly fd: number,
    readonly k: number,
    private readonly rowOffset: Float64Array,
    private readonly rowBytes: number,
    readonly built: 'reused' | 'built' | 'resumed',
    /** Mean / largest teacher probability mass outside the K cached tokens, over every row. */
    readonly meanRest: number,
    readonly maxRest: number,
  ) {}

  private static openFile(dir: string, meta: CacheMeta, rowOffset: Float64Array, how: TeacherCache['built']): TeacherCache {
    checkDataSize(dir, meta);
    return new TeacherCache(fs.openSync(join(dir, CACHE_DATA), 'r'), meta.k, rowOffset, meta.rowBytes, how, meta.meanRest!, meta.maxRest!);
  }

  /** Opens the complete cache in `dir` built for exactly these teacher, samples, K, temperature and vocabulary; builds nothing (one-line error naming what differs). */
  static open(dir: string, parts: CacheKeyParts, samples: readonly TrainSample[]): TeacherCache {
    const meta = readMeta(dir);
    const why = metaMismatch(dir, meta, parts);
    if (why !== null) throw new LeafError(why);
    return TeacherCache.openFile(dir, meta!, rowOffsets(samples), 'reused');
  }

  /** Opens the cache in `dir` when it matches, builds (or finishes building) it otherwise. */
  static openOrBuild(dir: string, teacher: CausalLM, samples: readonly TrainSample[], o: TeacherCacheOptions): TeacherCache {
    const parts = cacheKeyParts(o.teacherFingerprint ?? modelFingerprint(teacher), samples, o);
    const rowOffset = rowOffsets(samples);
    const dataFile = join(dir, CACHE_DATA);
    const old = readMeta(dir);
    const fresh = startMeta(parts, samples.length, rowOffset[samples.length], o.batchSize);
    if (old && old.key === fresh.key && old.complete && fs.existsSync(dataFile) && old.meanRest !== undefined && old.maxRest !== undefined) {
      return TeacherCache.openFile(dir, old, rowOffset, 'reused');
    }
    // Continue a partial build with the same key (with the batch size it began with), else start over.
    const resumable = old !== null && old.key === fresh.key && fs.existsSync(dataFile) && Number.isInteger(old.batchSize) && old.batchSize! >= 1;
    const meta: CacheMeta = resumable ? { ...fresh, batchSize: old!.batchSize } : fresh;
    let done = 0;
    if (resumable) {
      const size = fs.statSync(dataFile).size;
      while (done < samples.length && rowOffset[done + 1] * meta.rowBytes <= size) done++;
      done -= done % meta.batchSize!; // back to the start of the batch that was being written
      fs.truncateSync(dataFile, rowOffset[done] * meta.rowBytes);
    } else {
      fs.mkdirSync(dir, { recursive: true });
      writeMeta(dir, meta);
      fs.writeFileSync(dataFile, new Uint8Array(0));
    }
    buildRows(dataFile, teacher, samples, rowOffset, meta, done, o.onProgress);
    const rest = finishMeta(dir, meta);
    return TeacherCache.openFile(dir, { ...meta, ...rest }, rowOffset, resumable ? 'resumed' : 'built');
  }

  /** The cached rows of several samples, concatenated in the given order (packBatch's row order). */
  read(samples: readonly number[]): TopKRows {
    const K = this.k, w = this.rowBytes / 4;
    let rows = 0;
    for (const s of samples) rows += this.rowOffset[s + 1] - this.rowOffset[s];
    const bytes = new Uint8Array(rows * this.rowBytes);
    let at = 0;
    for (const s of samples) {
      const n = (this.rowOffset[s + 1] - this.rowOffset[s]) * this.rowBytes;
      let got = 0;
      while (got < n) {
        const r = fs.readSync(this.fd, bytes, at + got, n - got, this.rowOffset[s] * this.rowBytes + got);
        if (r === 0) throw new LeafError(`${CACHE_DATA}: unexpected end of file`);
        got += r;
      }
      at += n;
    }
    const i32 = new Int32Array(bytes.buffer), f32 = new Float32Array(bytes.buffer);
    const ids = new Int32Array(rows * K), logProbs = new Float32Array(rows * K), logRest = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      ids.set(i32.subarray(r * w, r * w + K), r * K);
      logProbs.set(f32.subarray(r * w + K, r * w + 2 * K), r * K);
      logRest[r] = f32[r * w + 2 * K];
    }
    return { kind: 'topk', k: K, ids, logProbs, logRest };
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
