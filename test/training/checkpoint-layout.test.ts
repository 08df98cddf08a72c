/**
 * Checkpoints and saved students are Hugging Face folders laid out as transformers writes them: the
 * students here are folders transformers wrote (test/fixtures/golden, made by scripts/golden/), with a
 * word-level tokenizer added; after training, every saved folder must have the same config.json (up to
 * torch_dtype), the same tensor names and shapes, the stored dtype torch_dtype names, safetensors
 * metadata {"format": "pt"} (transformers refuses other formats), and the trainer's extra files must not
 * use a name transformers reads as weights. The safetensors headers are parsed here from the file
 * format (8-byte little-endian length, JSON), not with leaf's reader.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPretrained } from '../../src/model/pretrained.js';
import { asFloat } from '../../src/model/weights.js';
import { writeWordLevelTokenizer } from '../../src/tokenizer/index.js';
import { latestCheckpoint } from '../../src/training/checkpoint.js';
import { distill } from '../../src/training/trainer.js';
import { repoRoot } from '../helpers/paths.js';

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };

function header(file: string): { tensors: Map<string, { dtype: string; shape: number[] }>; metadata: Record<string, string> | undefined; size: number } {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const h = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Header;
  const tensors = new Map<string, { dtype: string; shape: number[] }>();
  let end = 0;
  for (const [k, v] of Object.entries(h)) {
    if (k === '__metadata__') continue;
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    tensors.set(k, { dtype: e.dtype, shape: e.shape });
    end = Math.max(end, e.data_offsets[1]);
  }
  assert.equal(buf.length, 8 + n + end, `${file}: data ends where the header says`);
  return { tensors, metadata: h.__metadata__, size: buf.length };
}

const TORCH: Record<string, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };
const WORDS = ['two', 'plus', 'three', 'is', 'five', 'four', 'minus', 'one', 'what', '?', '.', 'the', 'answer'];
const DATA = [
  { id: 'a', prompt: 'what is two plus three ?', response: 'two plus three is five . the answer is five .' },
  { id: 'b', prompt: 'what is four minus one ?', response: 'four minus one is three .' },
  { id: 'c', prompt: 'what is one plus one ?', response: 'the answer is two .' },
];

describe('saved students are transformers-shaped Hugging Face folders', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'leaf-ckpt-layout-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [fixture, dtype] of [['llama-attnbias-bf16', 'BF16'], ['mistral-gqa-f32', 'F32']] as const) {
    it(`${fixture}: checkpoints and the final model (${dtype}, the student's dtype) keep transformers' config, names, shapes and dtypes`, async () => {
      const golden = join(repoRoot, 'test', 'fixtures', 'golden', fixture);
      const student = join(dir, `${fixture}-student`);
      writeWordLevelTokenizer(student, { words: WORDS });
      for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(golden, f), join(student, f));
      const goldenConfig = JSON.parse(readFileSync(join(golden, 'config.json'), 'utf8')) as Record<string, unknown>;
      const gh = header(join(golden, 'model.safetensors'));
      assert.equal(goldenConfig.torch_dtype, TORCH[dtype]);
      assert.ok([...gh.tensors.values()].every((t) => t.dtype === dtype), 'the fixture stores what its name says');

      const s = await distill({
        student, loss: 'ce', data: DATA, out: join(dir, fixture), epochs: 2, batchSize: 2, microBatchSize: 1, lr: 1e-2, warmup: 0,
        saveEvery: 1, keepCheckpoints: 10, saveDtype: dtype, onWarning: () => {},
      });
      const ckpts = readdirSync(join(s.out, 'checkpoints')).filter((e) => e.startsWith('step-')).sort();
      assert.equal(ckpts.length, s.steps, 'one checkpoint per step (--save-every 1)');
      const last = latestCheckpoint(join(s.out, 'checkpoints'))!;
      assert.equal(last.state.step, s.steps);

      const check = (folder: string, stored: string) => {
        const cfg = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
        assert.deepEqual(cfg, { ...goldenConfig, torch_dtype: TORCH[stored] }, `${folder}/config.json`);
        const h = header(join(folder, 'model.safetensors'));
        assert.deepEqual(h.metadata, { format: 'pt' });
        assert.deepEqual([...h.tensors.keys()].sort(), [...gh.tensors.keys()].sort(), `${folder}: tensor names`);
        for (const [name, t] of gh.tensors) {
          assert.deepEqual(h.tensors.get(name)!.shape, t.shape, `${folder}: ${name} shape`);
          assert.equal(h.tensors.get(name)!.dtype, stored, `${folder}: ${name} dtype`);
        }
        // transformers reads model.safetensors (or an index / pytorch_model*.bin); nothing else here looks like weights to it.
        const files = readdirSync(folder).sort();
        assert.ok(files.every((f) => !/^(model|pytorch_model|tf_model|flax_model).*\.(safetensors|bin|h5|msgpack|json)$/.test(f) || f === 'model.safetensors'), files.join(', '));
        assert.ok(files.includes('tokenizer.json') && files.includes('tokenizer_config.json'), files.join(', '));
        const back = loadPretrained(folder);
        assert.equal(back.model.config.raw.model_type, goldenConfig.model_type);
        return back;
      };
      // A BF16 student loads, trains and is checkpointed as bf16, its float32 master weights in the optimizer state.
      const state = dtype === 'BF16' ? ['exp_avg', 'exp_avg_sq', 'master'] : ['exp_avg', 'exp_avg_sq'];
      for (const c of ckpts) {
        check(join(s.out, 'checkpoints', c), dtype);
        const opt = header(join(s.out, 'checkpoints', c, 'optimizer.safetensors'));
        assert.deepEqual([...opt.tensors.keys()].sort(), [...gh.tensors.keys()].flatMap((n) => state.map((k) => `${k}.${n}`)).sort());
        assert.ok([...opt.tensors.values()].every((t) => t.dtype === 'F32'), 'optimizer state is float32');
      }
      const final = check(s.modelDir!, dtype);
      // Trained: the final weights moved away from the fixture's.
      const init = loadPretrained(student).model;
      let moved = 0;
      for (const [name, w] of init.params) {
        const p = asFloat(w), q = asFloat(final.model.param(name));
        for (let i = 0; i < p.length; i++) moved = Math.max(moved, Math.abs(p[i] - q[i]));
      }
      assert.ok(moved > 1e-3, `largest weight change ${moved}`);
    });
  }
});
