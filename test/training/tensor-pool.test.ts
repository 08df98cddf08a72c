import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adamwRange, gradNorm, NORM_CHUNK, type AdamWStepConstants } from '../../src/training/adamw.js';
import { sharedFloat32, TensorPool, type PoolTensor } from '../../src/training/tensor-pool.js';
import { Rng } from '../../src/util/rng.js';

describe('tensor pool (optimizer loops on worker threads)', () => {
  it('gives the same bits as the serial gradient norm and AdamW update', () => {
    const rng = new Rng(4);
    const lengths = [3 * NORM_CHUNK + 17, 5, NORM_CHUNK, 2 * NORM_CHUNK - 1];
    const make = (n: number, scale: number, abs = false) => {
      const a = sharedFloat32(n);
      for (let i = 0; i < n; i++) a[i] = scale * (abs ? Math.abs(rng.normal()) : rng.normal());
      return a;
    };
    const tensors: PoolTensor[] = lengths.map((n) => ({ p: make(n, 1), g: make(n, 0.1), m: make(n, 0.01), v: make(n, 0.001, true) }));
    const copy = tensors.map((t) => ({ p: Float32Array.from(t.p), g: Float32Array.from(t.g), m: Float32Array.from(t.m), v: Float32Array.from(t.v) }));
    const pool = TensorPool.create(tensors, { threads: 3, minElements: 0 });
    assert.ok(pool);
    try {
      const serial = gradNorm(new Map(copy.map((t, i) => [String(i), t.g])));
      assert.equal(pool.gradNorm(), serial);
      const c: AdamWStepConstants = { b1: 0.9, b2: 0.999, stepSize: 1e-3, decay: 1 - 1e-4, sqrtBc2: Math.sqrt(0.002), eps: 1e-8, gradScale: 0.7 };
      for (let step = 0; step < 3; step++) {
        pool.adamw(c);
        for (const t of copy) adamwRange(t.p, t.g, t.m, t.v, 0, t.p.length, c);
      }
      tensors.forEach((t, i) => {
        for (const k of ['p', 'm', 'v'] as const) assert.ok(Buffer.from(t[k].buffer).equals(Buffer.from(copy[i][k].buffer)), `tensor ${i} ${k}`);
      });
    } finally {
      pool.close();
    }
  });

  it('is not used for small models or unshared buffers', () => {
    const t = { p: sharedFloat32(10), g: sharedFloat32(10), m: sharedFloat32(10), v: sharedFloat32(10) };
    assert.equal(TensorPool.create([t], { threads: 2 }), null);
    assert.equal(TensorPool.create([{ ...t, g: new Float32Array(10) }], { threads: 2, minElements: 0 }), null);
  });
});
