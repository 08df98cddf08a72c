import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import { loadModel } from '../../src/model/load.js';
import { randomModel } from '../../src/model/random-init.js';
import { saveModel } from '../../src/model/save.js';
import { asFloat } from '../../src/model/weights.js';
import { TINY } from './tiny-configs.js';

describe('saveModel writes a Hugging Face folder leaf reloads exactly', () => {
  for (const [label, make] of Object.entries(TINY)) {
    it(label, () => {
      const dir = mkdtempSync(join(tmpdir(), 'leaf-save-'));
      try {
        const src = join(dir, 'src');
        const out = join(dir, 'out');
        const model = randomModel(make(), jsKernels, Float32Array, { seed: 5, perturbAll: true });
        saveModel(model, src);
        writeFileSync(join(src, 'tokenizer.json'), '{"fake": true}');
        const back = loadModel(src, { kernels: jsKernels });
        for (const [name, p] of model.params) assert.deepEqual(back.param(name), p, name);
        saveModel(back, out, { dtype: 'BF16', companionsFrom: src });
        assert.equal(readFileSync(join(out, 'tokenizer.json'), 'utf8'), '{"fake": true}');
        const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
        assert.equal(cfg.torch_dtype, 'bfloat16');
        assert.deepEqual(cfg.architectures, make().raw.architectures);
        const bf = loadModel(out, { kernels: jsKernels });
        assert.equal(bf.weightDtype, 'bf16', 'a BF16 folder loads as bf16 by default');
        for (const [name, p] of model.params) {
          const q = asFloat(bf.param(name));
          for (let i = 0; i < p.length; i++) assert.ok(Math.abs(q[i] - p[i]) <= Math.abs(p[i]) * 2 ** -8, `${name}[${i}] bf16 rounding`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
