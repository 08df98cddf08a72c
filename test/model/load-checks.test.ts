import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LeafError } from '../../src/errors.js';
import { CheckpointFiles } from '../../src/io/checkpoint-files.js';
import { jsKernels } from '../../src/kernels/index.js';
import { checkConfigFits, impliedParameters } from '../../src/model/config-checks.js';
import { parseConfig } from '../../src/model/config.js';
import { generate } from '../../src/model/generate.js';
import { loadModel } from '../../src/model/load.js';
import { paramSpecs, numel } from '../../src/model/params.js';
import { randomModel } from '../../src/model/random-init.js';
import { saveModel } from '../../src/model/save.js';
import { repoRoot } from '../helpers/paths.js';
import { TINY } from './tiny-configs.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-load-checks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const leaf = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, LEAF_KERNELS: 'js' } });
let n = 0;
function saved(edit?: (m: ReturnType<typeof randomModel>) => void): string {
  const dir = join(tmp, `m${n++}`);
  const m = randomModel(TINY['llama-gqa-untied-bias'](), jsKernels, Float32Array, { seed: 3 });
  edit?.(m);
  saveModel(m, dir);
  return dir;
}
function editConfig(dir: string, patch: Record<string, unknown>): void {
  const f = join(dir, 'config.json');
  writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), ...patch }));
}
const oneLine = (re: RegExp) => (e: unknown) => e instanceof LeafError && !e.message.includes('\n') && re.test(e.message);

describe('config values and sizes are checked before anything large is allocated', () => {
  it('rms_norm_eps and rope_theta must be finite and > 0', () => {
    for (const [field, v] of [['rms_norm_eps', -1], ['rms_norm_eps', 0], ['rope_theta', 0], ['rope_theta', -5]] as const) {
      assert.throws(() => parseConfig({ ...TINY['qwen2-tied']().raw, [field]: v }, 'x/config.json'),
        oneLine(new RegExp(`^x/config\\.json: field "${field}" must be a finite number > 0, got ${v}$`)));
    }
  });

  it('num_hidden_layers: 1e9 is refused at once, naming the field (it was a V8 heap abort after 70 s)', () => {
    const dir = saved();
    editConfig(dir, { num_hidden_layers: 1e9 });
    const t0 = Date.now();
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), oneLine(/config\.json: field "num_hidden_layers" is 1000000000 but the safetensors hold 2 layers$/));
    assert.ok(Date.now() - t0 < 5000);
    const r = leaf('inspect', dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^leaf: .*num_hidden_layers" is 1000000000 but the safetensors hold 2 layers\n$/);
  });

  it('weights larger than the memory available are refused from the headers (a sparse 1 TiB checkpoint)', () => {
    const config = parseConfig({ ...TINY['qwen2-tied']().raw, vocab_size: 2 ** 25, hidden_size: 8192, num_attention_heads: 64, num_key_value_heads: 8, intermediate_size: 8192, num_hidden_layers: 1 });
    const specs = paramSpecs(config);
    assert.equal(impliedParameters(config), specs.reduce((a, s) => a + numel(s.shape), 0));
    const dir = join(tmp, 'huge');
    const header: Record<string, unknown> = {};
    let off = 0;
    for (const s of specs) {
      header[s.name] = { dtype: 'F32', shape: s.shape, data_offsets: [off, off + 4 * numel(s.shape)] };
      off += 4 * numel(s.shape);
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    rmSync(dir, { recursive: true, force: true });
    saveModel(randomModel(TINY['qwen2-tied'](), jsKernels), dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config.raw));
    const fd = openSync(join(dir, 'model.safetensors'), 'w');
    writeSync(fd, len);
    writeSync(fd, json);
    ftruncateSync(fd, 8 + json.length + off); // sparse: no disk used
    closeSync(fd);
    assert.throws(() => loadModel(dir, { kernels: jsKernels }), oneLine(/: the weights need 1025\.3 GiB in memory \(config\.json: 1 layers, hidden_size 8192, intermediate_size 8192, vocab_size 33554432\) but only [\d.]+ GiB is available$/));
    // The same check with the available memory given: a tiny checkpoint passes with room and fails without.
    const small = saved();
    const files = CheckpointFiles.open(small);
    try {
      const c = TINY['llama-gqa-untied-bias']();
      const need = impliedParameters(c) * 4;
      checkConfigFits(small, c, files, 4, need);
      assert.throws(() => checkConfigFits(small, c, files, 4, need - 1), oneLine(/the weights need 0\.0 GiB/));
    } finally {
      files.close();
    }
  });
});

describe('non-finite weights and logits are errors, never silent empty output', () => {
  it('a NaN or Inf weight is refused at load, naming the tensor; inspect lists it and exits 1', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const dir = saved((m) => {
        m.param('model.layers.1.mlp.up_proj.weight')[7] = bad;
      });
      assert.throws(() => loadModel(dir, { kernels: jsKernels }),
        oneLine(/model\.safetensors: tensor model\.layers\.1\.mlp\.up_proj\.weight has 1 non-finite values \(NaN or ±Inf; the first at index 7, (NaN|-?Infinity)\)$/));
      const r = leaf('inspect', dir);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /non-finite weights\s+model\.layers\.1\.mlp\.up_proj\.weight \(1 NaN\/Inf\)/);
      assert.match(r.stderr, /^leaf: .*1 tensors hold NaN or ±Inf values \(first: model\.layers\.1\.mlp\.up_proj\.weight\)/);
    }
    const ok = leaf('inspect', saved(), '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).nonFinite, []);
    assert.equal(JSON.parse(leaf('inspect', saved(), '--json', '--headers-only').stdout).nonFinite, null);
  });

  it('logits that become non-finite while decoding are an error (finite weights that overflow)', () => {
    const m = randomModel(TINY['llama-gqa-untied-bias'](), jsKernels, Float32Array, { seed: 3 });
    const before = generate(m, [[1, 2, 3]], { maxNewTokens: 3 });
    assert.equal(before.tokens[0].length, 3);
    m.param('lm_head.weight').fill(3e38); // finite, but the logits overflow to ±Inf / NaN
    assert.throws(() => generate(m, [[1, 2, 3], [4, 5]], { maxNewTokens: 3 }),
      oneLine(/^generate: the logits for new token 1 of prompt 1 are not finite \(\d+ of 23 are NaN or ±Inf\)/));
  });
});
