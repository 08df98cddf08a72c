import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdamW, clipGradNorm } from '../../src/training/adamw.js';
import { cosineWithWarmup } from '../../src/training/schedule.js';

describe('AdamW', () => {
  it('three steps equal a float64 re-computation of torch.optim.AdamW', () => {
    const p0 = [0.5, -1.25, 2];
    const params = new Map([['w', Float64Array.from(p0)]]);
    const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8 });
    const gs = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.1, 0.2]];
    // Reference, written out step by step (torch's algorithm).
    const p = [...p0], m = [0, 0, 0], v = [0, 0, 0];
    gs.forEach((g, k) => {
      const t = k + 1;
      for (let i = 0; i < 3; i++) {
        p[i] *= 1 - 0.1 * 0.01;
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
        const mh = m[i] / (1 - 0.9 ** t), vh = v[i] / (1 - 0.99 ** t);
        p[i] -= (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
      }
      opt.update(new Map([['w', Float64Array.from(g)]]), 0.1);
    });
    const w = params.get('w')!;
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(w[i] - p[i]) < 1e-12, `${w[i]} vs ${p[i]}`);
    assert.equal(opt.step, 3);
  });
  it('clips the global norm', () => {
    const g = new Map([['a', Float64Array.from([3, 0])], ['b', Float64Array.from([4])]]);
    assert.equal(clipGradNorm(g, 1), 5);
    assert.ok(Math.abs(Math.hypot(...g.get('a')!, ...g.get('b')!) - 1) < 1e-6);
  });
});

describe('cosine schedule with warm-up', () => {
  it('rises linearly, peaks, decays to zero', () => {
    assert.equal(cosineWithWarmup(0, 100, 5, 1e-5), 0);
    assert.ok(Math.abs(cosineWithWarmup(2, 100, 5, 1e-5) - 4e-6) < 1e-18);
    assert.equal(cosineWithWarmup(5, 100, 5, 1e-5), 1e-5);
    assert.ok(Math.abs(cosineWithWarmup(52.5, 100, 5, 1e-5) - 5e-6) < 1e-15);
    assert.ok(cosineWithWarmup(100, 100, 5, 1e-5) < 1e-20);
  });
});
