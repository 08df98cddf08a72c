/**
 * The cached teacher: for every supervised position of every training sample, the teacher's K most
 * likely tokens with their log-probabilities (at the run's temperature) and the log of the remaining
 * probability mass, computed once and reused by every epoch (kd-batch.ts explains how the loss
 * completes the distribution and what that approximation costs).
 *
 * Files, in the run's output folder:
 * - `teacher-cache.bin`: rows in sample order, each row [K int32 token ids][K float32 log-probs]
 *   [float32 log remaining mass] (8K + 4 bytes); read with positional reads (the OS page cache plays the
 *   role of a memory map: Node has no mmap);
 * - `teacher-cache.json`: what the rows were computed from (a fingerprint of the teacher's weights and
 *   config, of the teacher inputs, K, the temperature, the vocabulary) and whether the file is complete.
 *
 * Building is resumable: rows are appended batch by batch; a killed build keeps every complete batch,
 * and a rerun with the same key truncates to the start of the first incomplete batch and continues with
 * the batch size the build began with, so the teacher sees exactly the batches of an uninterrupted
 * build and the file ends byte-identical. Another key (other teacher, data, K or temperature) starts over.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { FArray, Kernels } from '../kernels/types.js';
import type { CausalLM } from '../model/causal-lm.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { packBatch } from './batch.js';
import type { TeacherRows } from './kd-batch.js';
import type { TrainSample } from './samples.js';

const VERSION = 1;
export const CACHE_DATA = 'teacher-cache.bin';
export const CACHE_META = 'teacher-cache.json';

export type TopKRows = Extract<TeacherRows, { kind: 'topk' }>;

interface CacheMeta {
  version: number;
  key: string;
  k: number;
  vocab: number;
  temperature: number;
  rowBytes: number;
  samples: number;
  rows: number;
  /** Samples per teacher forward: batches always start at multiples of it, so a resumed build forms
   * the same batches (the same padding and GEMM shapes, hence the same bytes) as an uninterrupted one. */
  batchSize?: number;
  complete: boolean;
  /** Mean and largest teacher probability mass outside the top K, over all rows (when complete). */
  meanRest?: number;
  maxRest?: number;
}


/** Teacher inputs of the samples (what the cached rows depend on). */
function samplesFingerprint(samples: readonly TrainSample[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    const ids = Int32Array.from(s.teacherIds ?? s.ids);
    h.update(new Uint8Array(ids.buffer));
    h.update(`|${s.teacherResponseStart ?? s.responseStart}|${s.ids.length - s.responseStart};`);
  }
  return h.digest('hex');
}

/** Number of supervised rows of a sample. */
export function sampleRows(s: TrainSample): number {
  return s.ids.length - s.responseStart;
}

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

/** Mean and largest remaining mass exp(logRest) over the rows of a cache file (one sequential read). */
function restStats(file: string, k: number, rowBytes: number): { meanRest: number; maxRest: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const rowsPerChunk = Math.max(1, Math.floor((4 << 20) / rowBytes));
    const buf = new Uint8Array(rowsPerChunk * rowBytes);
    const f32 = new Float32Array(buf.buffer);
    let sum = 0, max = 0, rows = 0, pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      const whole = Math.floor(n / rowBytes);
      for (let r = 0; r < whole; r++) {
        const rest = Math.exp(f32[(r * rowBytes) / 4 + 2 * k]);
        sum += rest;
        if (rest > max) max = rest;
      }
      rows += whole;
      pos += whole * rowBytes;
      if (n < buf.length || whole === 0) break;
    }
    return { meanRest: rows ? sum / rows : 0, maxRest: max };
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

  /** Opens the cache in `dir` when it matches, builds (or finishes building) it otherwise. */
  static openOrBuild(dir: string, teacher: CausalLM, samples: readonly TrainSample[], o: TeacherCacheOptions): TeacherCache {
    const K = Math.min(o.k, o.vocab);
    if (!(Number.isInteger(o.k) && o.k >= 1)) throw new LeafError(`--top-k must be an integer ≥ 1, got ${o.k}`);
    const key = createHash('sha256')
      .update(JSON.stringify({ version: VERSION, teacher: o.teacherFingerprint ?? modelFingerprint(teacher), samples: samplesFingerprint(samples), k: K, temperature: o.temperature, vocab: o.vocab }))
      .digest('hex');
    const rowBytes = 8 * K + 4;
    const rowOffset = new Float64Array(samples.length + 1);
    for (let i = 0; i < samples.length; i++) rowOffset[i + 1] = rowOffset[i] + sampleRows(samples[i]);
    const totalRows = rowOffset[samples.length];
    const metaFile = join(dir, CACHE_META), dataFile = join(dir, CACHE_DATA);
    const meta: CacheMeta = { version: VERSION, key, k: K, vocab: o.vocab, temperature: o.temperature, rowBytes, samples: samples.length, rows: totalRows, complete: false };
    let old: CacheMeta | null = null;
    try {
      old = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as CacheMeta;
    } catch {
      old = null;
    }
    const open = (how: 'reused' | 'built' | 'resumed', rest: { meanRest: number; maxRest: number }) => {
      const fd = fs.openSync(dataFile, 'r');
      const size = fs.fstatSync(fd).size;
      if (size !== totalRows * rowBytes) {
        fs.closeSync(fd);
        throw new LeafError(`${dataFile}: ${size} bytes, expected ${totalRows * rowBytes} (${totalRows} rows); delete it to rebuild the teacher cache`);
      }
      return new TeacherCache(fd, K, rowOffset, rowBytes, how, rest.meanRest, rest.maxRest);
    };
    if (old && old.key === key && old.complete && fs.existsSync(dataFile) && old.meanRest !== undefined && old.maxRest !== undefined) {
      return open('reused', { meanRest: old.meanRest, maxRest: old.maxRest });
    }

    // Continue a partial build with the same key, else start over.
    let done = 0;
    let how: 'built' | 'resumed' = 'built';
    const resumable = old !== null && old.key === key && fs.existsSync(dataFile) && Number.isInteger(old.batchSize) && old.batchSize! >= 1;
    const batchSize = resumable ? old!.batchSize! : o.batchSize;
    meta.batchSize = batchSize;
    if (resumable) {
      const size = fs.statSync(dataFile).size;
      while (done < samples.length && rowOffset[done + 1] * rowBytes <= size) done++;
      done -= done % batchSize; // back to the start of the batch that was being written
      fs.truncateSync(dataFile, rowOffset[done] * rowBytes);
      how = 'resumed';
    } else {
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomicSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
      fs.writeFileSync(dataFile, new Uint8Array(0));
    }
    const fd = fs.openSync(dataFile, 'r+');
    try {
      const V = teacher.config.vocabSize;
      o.onProgress?.(done, samples.length);
      for (let start = done; start < samples.length; start += batchSize) {
        const batch = samples.slice(start, Math.min(samples.length, start + batchSize));
        const packed = packBatch(batch.map((s) => ({ ids: s.teacherIds ?? s.ids, responseStart: s.teacherResponseStart ?? s.responseStart, weight: 1 })));
        const out = teacher.forward({ batch: packed.batch, seqLen: packed.seqLen, inputIds: packed.inputIds, attentionMask: packed.attentionMask, logitRows: packed.logitRows });
        const top = topKFromLogits(teacher.kernels, out.logits!, packed.tokens, V, o.vocab, o.temperature, K);
        const bytes = new Uint8Array(packed.tokens * rowBytes);
        const i32 = new Int32Array(bytes.buffer), f32 = new Float32Array(bytes.buffer);
        const w = rowBytes / 4;
        for (let r = 0; r < packed.tokens; r++) {
          i32.set(top.ids.subarray(r * K, (r + 1) * K), r * w);
          f32.set(top.logProbs.subarray(r * K, (r + 1) * K), r * w + K);
          f32[r * w + 2 * K] = top.logRest[r];
        }
        fs.writeSync(fd, bytes, 0, bytes.length, rowOffset[start] * rowBytes);
        o.onProgress?.(start + batch.length, samples.length);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const rest = restStats(dataFile, K, rowBytes);
    writeFileAtomicSync(metaFile, JSON.stringify({ ...meta, complete: true, ...rest }, null, 2) + '\n');
    return open(how, rest);
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
