import type { FArray } from '../kernels/types.js';
import { LeafError } from '../errors.js';
import type { ModelConfig } from './config.js';

/**
 * Keys and values of every layer for decoding: [batch, capacity, kvHeads·headDim] per layer,
 * a key mask [batch, capacity] (0 = padding) and the next position id of every row.
 */
export class KVCache {
  readonly k: FArray[] = [];
  readonly v: FArray[] = [];
  readonly mask: Uint8Array;
  readonly nextPosition: Int32Array;
  /** Number of key positions filled (the same for every row; left padding keeps rows aligned). */
  length = 0;

  constructor(config: ModelConfig, readonly batch: number, readonly capacity: number, make: (n: number) => FArray) {
    const width = config.numKvHeads * config.headDim;
    for (let l = 0; l < config.numLayers; l++) {
      this.k.push(make(batch * capacity * width));
      this.v.push(make(batch * capacity * width));
    }
    this.mask = new Uint8Array(batch * capacity);
    this.nextPosition = new Int32Array(batch);
  }

  /** Checks there is room for `n` more positions. */
  reserve(n: number): void {
    if (this.length + n > this.capacity) {
      throw new LeafError(`KV cache full: ${this.length} + ${n} positions exceed its capacity ${this.capacity}`);
    }
  }
}
