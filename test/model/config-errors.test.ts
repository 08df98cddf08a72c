import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LeafError } from '../../src/errors.js';
import { jsKernels } from '../../src/kernels/index.js';
import { parseConfig } from '../../src/model/config.js';
import { loadModel } from '../../src/model/load.js';
import { randomModel } from '../../src/model/random-init.js';
import { saveModel } from '../../src/model/save.js';
import { writeSafetensors } from '../../src/io/safetensors-write.js';
import { TINY } from './tiny-configs.js';

const base = () => ({ ...TINY['llama-gqa-untied-bias']().raw });

function refuses(raw: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(() => parseConfig(raw, 'x/config.json'), (e: unknown) => {
    assert.ok(e instanceof LeafError, `LeafError expected, got ${e}`);
    assert.match(e.message, /^x\/config\.json: /);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

describe('config.json validation', () => {
  it('refuses another architecture, naming the field', () => refuses({ ...base(), architectures: ['GPT2LMHeadModel'] }, /architectures/));
  it('refuses a rope scaling type it does not implement', () => refuses({ ...base(), rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling\.rope_type.*yarn/));
  it('refuses an unknown llama3 rope option', () => refuses({ ...base(), rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8, mystery: 1 } }, /rope_scaling\.mystery/));
  it('refuses another activation', () => refuses({ ...base(), hidden_act: 'gelu' }, /hidden_act/));
  it('refuses MLP biases', () => refuses({ ...base(), mlp_bias: true }, /mlp_bias/));
  it('refuses Qwen2 sliding windows', () => refuses({ ...TINY['qwen2-tied']().raw, use_sliding_window: true }, /use_sliding_window/));
  it('refuses non-dividing KV heads', () => refuses({ ...base(), num_key_value_heads: 3 }, /num_key_value_heads/));
  it('refuses a missing size', () => refuses({ ...base(), hidden_size: undefined }, /hidden_size.*missing/));
  it('refuses a mismatched model_type', () => refuses({ ...base(), model_type: 'qwen2' }, /model_type/));
  it('accepts rope_scaling type default as none', () => assert.equal(parseConfig({ ...base(), rope_scaling: { rope_type: 'default' } }).ropeScaling, null));
  it('Mistral refuses to run past its sliding window', () => {
    const m = randomModel(parseConfig({ ...TINY.mistral().raw, sliding_window: 4 }), jsKernels);
    assert.throws(() => m.forward({ batch: 1, seqLen: 5, inputIds: new Int32Array(5) }), /sliding_window 4/);
    m.forward({ batch: 1, seqLen: 4, inputIds: new Int32Array(4) });
  });
});

describe('checkpoint / config agreement', () => {
  function withModel(fn: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-cfg-'));
    try {
      saveModel(randomModel(TINY['llama-gqa-untied-bias'](), jsKernels), dir);
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const tensor = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

  it('names a missing tensor', () => withModel((dir) => {
    const m = randomModel(TINY['llama-gqa-untied-bias'](), jsKernels);
    writeSafetensors(join(dir, 'model.safetensors'), m.specs.filter((s) => s.name !== 'model.layers.1.input_layernorm.weight').map((s) => tensor(s.name, s.shape)));
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), (e: unknown) => e instanceof LeafError && /model\.layers\.1\.input_layernorm\.weight is missing/.test(e.message));
  }));
  it('names num_hidden_layers when the config claims more layers than stored', () => withModel((dir) => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base(), num_hidden_layers: 3 }));
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), (e: unknown) => e instanceof LeafError && /field "num_hidden_layers" is 3 but the safetensors hold 2 layers/.test(e.message));
  }));
  it('names a tensor whose shape disagrees with the config', () => withModel((dir) => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base(), intermediate_size: 25 }));
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), (e: unknown) => e instanceof LeafError && /model\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[24,16\], config\.json implies \[25,16\]/.test(e.message));
  }));
  it('names a tensor the config does not use', () => withModel((dir) => {
    const m = randomModel(TINY['llama-gqa-untied-bias'](), jsKernels);
    const ts = m.specs.map((s) => tensor(s.name, s.shape));
    ts.push(tensor('model.layers.0.mlp.gate_proj.bias', [24]));
    writeSafetensors(join(dir, 'model.safetensors'), ts);
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), (e: unknown) => e instanceof LeafError && /gate_proj\.bias is not used/.test(e.message));
  }));
  it('names an unreadable config.json', () => withModel((dir) => {
    writeFileSync(join(dir, 'config.json'), '{ not json');
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), (e: unknown) => e instanceof LeafError && /config\.json: invalid JSON/.test(e.message));
  }));
});
