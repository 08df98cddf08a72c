/**
 * The teacher cache's files and what identifies them (teacher-cache.ts builds and reads them):
 * - `teacher-cache.bin`: rows in sample order, each row [K int32 token ids][K float32 log-probs]
 *   [float32 log remaining mass] (8K + 4 bytes);
 * - `teacher-cache.json` (CacheMeta): what the rows were computed from — the key, a hash of the
 *   teacher's fingerprint, of the samples' teacher inputs, K, the temperature and the vocabulary (each
 *   also kept on its own, so a mismatch can be named) — and whether the file is complete.
 * One function writes the finished meta, for a build and for `leaf merge` of built shards alike.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { TrainSample } from './samples.js';

export const CACHE_VERSION = 1;
export const CACHE_DATA = 'teacher-cache.bin';
export const CACHE_META = 'teacher-cache.json';

export interface CacheMeta {
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
  /** The teacher's weights fingerprint and the samples' teacher-input digest (the key's parts). */
  teacher?: string;
  samplesDigest?: string;
  complete: boolean;
  /** Mean and largest teacher probability mass outside the top K, over all rows (when complete). */
  meanRest?: number;
  maxRest?: number;
}

/** What the rows depend on: the key's parts. */
export interface CacheKeyParts {
  teacher: string;
  samples: string;
  k: number;
  temperature: number;
  vocab: number;
}

/** Teacher inputs of the samples (what the cached rows depend on). */
export function samplesFingerprint(samples: readonly TrainSample[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    const ids = Int32Array.from(s.teacherIds ?? s.ids);
    h.update(new Uint8Array(ids.buffer));
    h.update(`|${s.teacherResponseStart ?? s.responseStart}|${s.ids.length - s.responseStart};`);
  }
  return h.digest('hex');
}

export function cacheKey(p: CacheKeyParts): string {
  return createHash('sha256')
    .update(JSON.stringify({ version: CACHE_VERSION, teacher: p.teacher, samples: p.samples, k: p.k, temperature: p.temperature, vocab: p.vocab }))
    .digest('hex');
}

/** Number of supervised rows of a sample. */
export function sampleRows(s: TrainSample): number {
  return s.ids.length - s.responseStart;
}

/** The meta of a cache being built (not complete). */
export function startMeta(p: CacheKeyParts, samples: number, rows: number, batchSize: number): CacheMeta {
  return {
    version: CACHE_VERSION, key: cacheKey(p), k: p.k, vocab: p.vocab, temperature: p.temperature, rowBytes: 8 * p.k + 4,
    samples, rows, batchSize, teacher: p.teacher.slice(0, 16), samplesDigest: p.samples.slice(0, 16), complete: false,
  };
}

/** DIR/teacher-cache.json, or null when missing or unreadable. */
export function readMeta(dir: string): CacheMeta | null {
  try {
    return JSON.parse(fs.readFileSync(join(dir, CACHE_META), 'utf8')) as CacheMeta;
  } catch {
    return null;
  }
}

export function writeMeta(dir: string, meta: CacheMeta): void {
  writeFileAtomicSync(join(dir, CACHE_META), JSON.stringify(meta, null, 2) + '\n');
}

/** Marks the cache in `dir` complete, with the rest-mass statistics of its data file; returns them. */
export function finishMeta(dir: string, meta: CacheMeta): { meanRest: number; maxRest: number } {
  const rest = restStats(join(dir, CACHE_DATA), meta.k, meta.rowBytes);
  writeMeta(dir, { ...meta, complete: true, ...rest });
  return rest;
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

/**
 * Why the complete cache in `dir` cannot serve `want` (one line naming the file and what differs), or
 * null when it can.
 */
export function metaMismatch(dir: string, meta: CacheMeta | null, want: CacheKeyParts): string | null {
  const file = join(dir, CACHE_META);
  if (meta === null) return `${file}: missing or unreadable (is ${dir} a teacher cache built by leaf teacher-cache or leaf distill?)`;
  if (meta.version !== CACHE_VERSION) return `${file}: version ${meta.version}, this leaf reads version ${CACHE_VERSION}; rebuild it`;
  if (!meta.complete) return `${file}: the cache is not complete (resume its build with leaf teacher-cache --resume)`;
  const differs = (what: string, was: unknown, now: unknown) => `${file}: built with ${what} ${String(was)}, this run has ${String(now)}`;
  if (meta.teacher !== undefined && meta.teacher !== want.teacher.slice(0, 16)) return differs('another teacher: weights', meta.teacher, want.teacher.slice(0, 16));
  if (meta.vocab !== want.vocab) return differs('a student vocabulary of', meta.vocab, want.vocab);
  if (meta.k !== want.k) return differs('--top-k', meta.k, want.k);
  if (meta.temperature !== want.temperature) return differs('--temperature', meta.temperature, want.temperature);
  if (meta.samplesDigest !== undefined && meta.samplesDigest !== want.samples.slice(0, 16)) {
    return `${file}: built from other samples (digest ${meta.samplesDigest}, this run's ${want.samples.slice(0, 16)}): other --data, --counterfactuals, --max-length, --cf-weight or tokenizer`;
  }
  if (meta.key !== cacheKey(want)) return `${file}: built from another teacher or other samples (key differs); rebuild it with this run's teacher and data`;
  return null;
}

/** The data file's size must be the meta's rows × row bytes. */
export function checkDataSize(dir: string, meta: CacheMeta): void {
  const file = join(dir, CACHE_DATA);
  const size = fs.existsSync(file) ? fs.statSync(file).size : -1;
  if (size !== meta.rows * meta.rowBytes) throw new LeafError(`${file}: ${size < 0 ? 'missing' : `${size} bytes`}, expected ${meta.rows * meta.rowBytes} (${meta.rows} rows); rebuild the teacher cache`);
}
