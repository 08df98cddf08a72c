import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { jsKernels, nativeKernelsOrNull } from '../../src/kernels/index.js';
import type { FArray, Kernels } from '../../src/kernels/types.js';
import { backward, zeroGrads } from '../../src/model/backward.js';
import type { FloatArrayType } from '../../src/model/causal-lm.js';
import { generate } from '../../src/model/generate.js';
import { loadModel } from '../../src/model/load.js';
import { meanCrossEntropy, shiftedTargets } from '../../src/model/loss.js';
import { goldenDir } from '../helpers/paths.js';
import { readGolden, relError } from './golden-data.js';

// Tolerances (stated by the engine issue): logits ≤ 1e-4 relative, gradients ≤ 1e-3 relative, greedy tokens identical.
// The float64 TypeScript path must match the float64 reference to ≤ 1e-9 (it computes the same thing in the same precision).
const F32 = { logits: 1e-4, loss: 1e-5, grad: 1e-3 };
const F64 = { logits: 1e-9, loss: 1e-9, grad: 1e-9 };

// Every set the suite expects (test/fixtures/golden/README.md says where each comes from): three
// external reference sets and the project's own four (scripts/golden/make_golden.py). A missing or
// an unlisted folder fails the suite instead of silently testing fewer sets.
const EXPECTED_SETS = [
  'llama-gqa-f32',
  'llama3-rope-tied-f16',
  'qwen2-tied-bias-bf16',
  'mistral-gqa-f32',
  'llama-attnbias-bf16',
  'qwen2-long-f16',
  'llama-sharded-f32',
] as const;
const present = existsSync(goldenDir)
  ? readdirSync(goldenDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  : [];
const folders = EXPECTED_SETS.filter((n) => existsSync(join(goldenDir, n, 'golden.json'))).map((n) => join(goldenDir, n));

const native = nativeKernelsOrNull();
const paths: Array<{ label: string; kernels: Kernels | null; floatType: FloatArrayType; tol: typeof F32 }> = [
  { label: 'js/float64', kernels: jsKernels, floatType: Float64Array, tol: F64 },
  { label: 'js/float32', kernels: jsKernels, floatType: Float32Array, tol: F32 },
  { label: 'native/float32', kernels: native, floatType: Float32Array, tol: F32 },
];

describe('golden outputs of transformers (test/fixtures/golden)', () => {
  it('has every expected fixture set, and no unlisted one', () => {
    const missing = EXPECTED_SETS.filter((n) => !existsSync(join(goldenDir, n, 'golden.json')));
    assert.deepEqual(missing, [], `missing golden sets in ${goldenDir}`);
    const unlisted = present.filter((n) => !(EXPECTED_SETS as readonly string[]).includes(n));
    assert.deepEqual(unlisted, [], 'golden sets not in EXPECTED_SETS');
  });
  for (const folder of folders) {
    for (const path of paths) {
      describe(`${basename(folder)} on ${path.label}`, { skip: path.kernels ? false : 'native addon not built' }, () => {
        const g = readGolden(folder);
        const model = path.kernels ? loadModel(g.dir, { kernels: path.kernels, floatType: path.floatType }) : null;
        const V = model ? model.config.vocabSize : 0;
        const hid = model ? model.config.hiddenSize : 0;
        const valid = (i: number, width: number) => g.attentionMask[Math.floor(i / width)] === 1;

        it('logits match at every real position', () => {
          const m = model!;
          const out = m.forward({ batch: g.batch, seqLen: g.seqLen, inputIds: g.inputIds, attentionMask: g.attentionMask, positionIds: g.positionIds });
          const err = relError(out.logits!, g.logits, (i) => valid(i, V));
          assert.ok(err <= path.tol.logits, `logits relative error ${err.toExponential(3)} > ${path.tol.logits}`);
        });

        it('default position ids equal the golden ones (cumsum of the mask, padding at 1)', () => {
          const m = model!;
          const out = m.forward({ batch: g.batch, seqLen: g.seqLen, inputIds: g.inputIds, attentionMask: g.attentionMask });
          const err = relError(out.logits!, g.logits, (i) => valid(i, V));
          assert.ok(err <= path.tol.logits, `logits relative error ${err.toExponential(3)}`);
        });

        it('loss, d loss / d inputs_embeds and parameter gradients match', () => {
          const m = model!;
          const embeds = m.embed(g.inputIds);
          const out = m.forward({
            batch: g.batch, seqLen: g.seqLen, inputIds: g.inputIds, inputsEmbeds: undefined,
            attentionMask: g.attentionMask, positionIds: g.positionIds, saveForBackward: true,
          });
          const targets = shiftedTargets(g.inputIds, g.attentionMask, g.batch, g.seqLen);
          const { loss } = meanCrossEntropy(m.kernels, out.logits!, targets, V, true);
          assert.ok(Math.abs(loss - g.loss) / Math.abs(g.loss) <= path.tol.loss, `loss ${loss} vs ${g.loss}`);
          const grads = zeroGrads(m);
          const dEmb = backward(m, out.tape!, out.logits!, { inputGrad: true, paramGrads: grads }) as FArray;
          const errE = relError(dEmb, g.gradInputsEmbeds);
          assert.ok(errE <= path.tol.grad, `inputs_embeds gradient relative error ${errE.toExponential(3)}`);
          for (let i = 0; i < dEmb.length; i++) if (!valid(i, hid)) assert.equal(dEmb[i], 0, 'padded positions get zero gradient');
          assert.ok(g.gradParams.size >= 3);
          for (const [name, ref] of g.gradParams) {
            const err = relError(grads.get(name)!, ref);
            assert.ok(err <= path.tol.grad, `${name} gradient relative error ${err.toExponential(3)}`);
          }
          // Same forward from inputs_embeds instead of ids.
          const out2 = m.forward({ batch: g.batch, seqLen: g.seqLen, inputsEmbeds: embeds, attentionMask: g.attentionMask, positionIds: g.positionIds });
          assert.ok(relError(out2.logits!, g.logits, (i) => valid(i, V)) <= path.tol.logits);
        });

        it('greedy continuation is identical', () => {
          const m = model!;
          const res = generate(m, [g.greedyPrompt], { maxNewTokens: g.greedyNew.length, eosTokenIds: [] });
          assert.deepEqual(res.tokens[0], g.greedyNew);
        });

        it('left-padded batched greedy decoding with a KV cache equals unbatched decoding', () => {
          const m = model!;
          const row1 = Array.from(g.inputIds.subarray(g.seqLen, 2 * g.seqLen)).filter((_, t) => g.attentionMask[g.seqLen + t] === 1);
          const both = generate(m, [g.greedyPrompt, row1], { maxNewTokens: 5, eosTokenIds: [] });
          const alone = generate(m, [row1], { maxNewTokens: 5, eosTokenIds: [] });
          assert.deepEqual(both.tokens[0], g.greedyNew.slice(0, 5));
          assert.deepEqual(both.tokens[1], alone.tokens[0]);
        });
      });
    }
  }
});
