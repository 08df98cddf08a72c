import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { goldenDir, repoRoot } from '../helpers/paths.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const golden = (name: string) => join(goldenDir, name);

function leaf(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, LEAF_KERNELS: 'js' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('leaf inspect', () => {
  it('describes a checkpoint', () => {
    const r = leaf('inspect', golden('qwen2-tied-bias-bf16'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /architecture\s+Qwen2ForCausalLM/);
    assert.match(r.out, /heads \/ kv heads \/ head dim\s+6 \/ 2 \/ 8/);
    assert.match(r.out, /dtypes on disk\s+BF16: \d+ tensors/);
    assert.match(r.out, /embeddings\s+tied/);
  });
  it('--json gives the parameter count', () => {
    const r = leaf('inspect', golden('llama-gqa-f32'), '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    // 97·32 embed + 2 layers · (32 + 32·32 + 2·16·32 + 32·32 + 32 + 3·64·32) + 32 + 97·32 lm_head
    assert.equal(j.parameters, 97 * 32 * 2 + 2 * (32 + 32 * 32 + 2 * 16 * 32 + 32 * 32 + 32 + 3 * 64 * 32) + 32);
    assert.equal(j.float32Bytes, j.parameters * 4);
    assert.equal(j.architecture, 'LlamaForCausalLM');
  });
  it('a truncated safetensors file is one line naming the file, exit 1, no stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-cli-'));
    try {
      copyFileSync(join(golden('llama-gqa-f32'), 'config.json'), join(dir, 'config.json'));
      copyFileSync(join(golden('llama-gqa-f32'), 'model.safetensors'), join(dir, 'model.safetensors'));
      truncateSync(join(dir, 'model.safetensors'), statSync(join(dir, 'model.safetensors')).size - 100);
      const r = leaf('inspect', dir);
      assert.equal(r.code, 1);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.match(r.err, /^leaf: .*model\.safetensors/);
      assert.doesNotMatch(r.err, /\bat .*\.js:\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a checkpoint that cannot be loaded (a tensor missing for config.json) is an error, with the loader\'s message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-cli-'));
    try {
      const cfg = JSON.parse(readFileSync(join(golden('llama-gqa-f32'), 'config.json'), 'utf8')) as { num_hidden_layers: number };
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: cfg.num_hidden_layers + 1 }));
      copyFileSync(join(golden('llama-gqa-f32'), 'model.safetensors'), join(dir, 'model.safetensors'));
      for (const cmd of [['inspect', dir], ['inspect', dir, '--json']]) {
        const r = leaf(...cmd);
        assert.equal(r.code, 1, cmd.join(' '));
        assert.equal(r.out, '');
        assert.equal(r.err.trim(), `leaf: ${dir}/config.json: field "num_hidden_layers" is ${cfg.num_hidden_layers + 1} but the safetensors hold ${cfg.num_hidden_layers} layers`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a missing folder is one line', () => {
    const r = leaf('inspect', '/nonexistent/model');
    assert.equal(r.code, 1);
    assert.match(r.err, /^leaf: \/nonexistent\/model\/config\.json: cannot read/);
  });
});
