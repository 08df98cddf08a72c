/**
 * Checks a checkpoint can be loaded before anything large is allocated, and that what was loaded is
 * finite, each failure a one-line LeafError naming the config field or the tensor:
 * - the layer count of config.json against the layers the safetensors hold (a config claiming
 *   `num_hidden_layers: 1e9` is refused before the 1e9 layers' tensor list is made);
 * - the weights' size, computed from the config, against the memory the process can have;
 * - every weight finite (no NaN or ±Inf), one pass over each tensor as it is loaded.
 */
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import type { CheckpointFiles } from '../io/checkpoint-files.js';
import type { FArray } from '../kernels/types.js';
import type { ModelConfig } from './config.js';

const LAYER = /^model\.layers\.(\d+)\./;

/** Number of values of the tensors the config implies (as paramSpecs, without listing them). */
export function impliedParameters(c: ModelConfig): number {
  const h = c.hiddenSize, q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim, i = c.intermediateSize;
  const perLayer = 2 * h + q * h + 2 * kv * h + h * q + 3 * i * h + (c.qkvBias ? q + 2 * kv : 0) + (c.oBias ? h : 0);
  return c.vocabSize * h * (c.tieWordEmbeddings ? 1 : 2) + c.numLayers * perLayer + h;
}

/** Bytes the process can still allocate: MemAvailable (or free memory), capped by a cgroup limit. */
export function availableMemory(): number {
  let available = freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: free memory it is
  }
  const limit = process.constrainedMemory?.() ?? 0;
  if (limit > 0 && limit < totalmem()) available = Math.min(available, Math.max(0, limit - process.memoryUsage().rss));
  return available;
}

const gib = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses a config the checkpoint cannot satisfy or the machine cannot hold, from the safetensors
 * headers and the config alone: num_hidden_layers must match the layers stored, and the weights at
 * `bytesPerValue` must fit in `available` bytes.
 */
export function checkConfigFits(dir: string, c: ModelConfig, files: CheckpointFiles, bytesPerValue: number, available = availableMemory()): void {
  let stored = 0;
  for (const name of files.names()) {
    const m = LAYER.exec(name);
    if (m) stored = Math.max(stored, Number(m[1]) + 1);
  }
  if (c.numLayers !== stored) {
    throw new LeafError(`${join(dir, 'config.json')}: field "num_hidden_layers" is ${c.numLayers} but the safetensors hold ${stored} layers`);
  }
  const bytes = impliedParameters(c) * bytesPerValue;
  if (bytes > available) {
    throw new LeafError(
      `${dir}: the weights need ${gib(bytes)} in memory (config.json: ${c.numLayers} layers, hidden_size ${c.hiddenSize}, intermediate_size ${c.intermediateSize}, vocab_size ${c.vocabSize}) but only ${gib(available)} is available`,
    );
  }
}

/** How many values of `x` are NaN or ±Inf, and the index of the first (−1 when none). */
export function nonFinite(x: FArray): { count: number; first: number } {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i] * 0; // NaN exactly when some value is not finite
  if (acc === 0) return { count: 0, first: -1 };
  let count = 0, first = -1;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      count++;
      if (first < 0) first = i;
    }
  }
  return { count, first };
}

/** A LeafError when tensor `name` (read from `file`) holds a NaN or an infinity. */
export function checkFinite(file: string, name: string, x: FArray): void {
  const bad = nonFinite(x);
  if (bad.count > 0) {
    throw new LeafError(`${file}: tensor ${name} has ${bad.count} non-finite values (NaN or ±Inf; the first at index ${bad.first}, ${x[bad.first]})`);
  }
}
