import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateSplit } from '../../src/demo/arith/index.js';
import { foldsDistractor } from '../../src/demo/evaluate.js';
import { chatSample, createTinyLlama, hasTinyModel, saveTinyModel, trainCe, writeArithTokenizer } from '../../src/demo/tiny-models.js';
import { loadPretrained } from '../../src/model/pretrained.js';
import { assertProgress } from '../helpers/progress.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-tiny-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('demo tiny models', () => {
  const tok = writeArithTokenizer(join(tmp, 'tok'));
  const recs = generateSplit('train', 8, 3);

  test('chat sample: user turn = prompt, supervised = the response tokens and the end-of-turn token', () => {
    const r = recs[0];
    const s = chatSample(tok, r.prompt, r.response);
    const resp = tok.encode(r.response, { addSpecialTokens: false }).ids;
    assert.deepEqual(s.ids.slice(s.responseStart), [...resp, tok.tokenToId('<|im_end|>')]);
    const prompt = tok.encodeChat([{ role: 'user', content: r.prompt }], { addGenerationPrompt: true }).ids;
    assert.deepEqual(s.ids.slice(0, s.responseStart), prompt, 'the context is exactly what generation sees');
  });

  test('trainCe lowers the loss; save, reload and recipe check', () => {
    const model = createTinyLlama(tok, { hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 32 }, 1);
    const batch = recs.map((r) => chatSample(tok, r.prompt, r.response));
    const log = trainCe(model, () => batch, { steps: 80, lr: 1e-2, warmup: 2 });
    assert.ok(log[79].loss < 0.5 * log[0].loss, `${log[0].loss} → ${log[79].loss}`);
    assertProgress(log, 'train');
    const dir = join(tmp, 'm');
    saveTinyModel(model, dir, join(tmp, 'tok'), { v: 1 });
    assert.ok(hasTinyModel(dir, { v: 1 }));
    assert.ok(!hasTinyModel(dir, { v: 2 }));
    const recipe = { name: 'teacher', recipe: { steps: 80, lr: 1e-2 }, format: 1 };
    saveTinyModel(model, dir, join(tmp, 'tok'), recipe);
    assert.ok(hasTinyModel(dir, { format: 1, recipe: { lr: 1e-2, steps: 80 }, name: 'teacher' }), 'the same recipe, fields in another order');
    assert.ok(!hasTinyModel(dir, { v: 1 }), 'saved again: the new recipe only');
    const stamp = join(dir, 'leaf-recipe.json');
    const saved = readFileSync(stamp, 'utf8');
    writeFileSync(stamp, JSON.stringify(recipe, null, 2) + '\n'); // the format before stamps: the bare recipe
    assert.ok(!hasTinyModel(dir, recipe), 'an old leaf-recipe.json retrains');
    writeFileSync(stamp, saved.slice(0, saved.length >> 1));
    assert.ok(!hasTinyModel(dir, recipe), 'torn');
    writeFileSync(stamp, saved);
    renameSync(join(dir, 'model.safetensors'), join(tmp, 'weights'));
    assert.ok(!hasTinyModel(dir, recipe), 'weights gone');
    renameSync(join(tmp, 'weights'), join(dir, 'model.safetensors'));
    assert.ok(hasTinyModel(dir, recipe));
    const p = loadPretrained(dir);
    assert.equal(p.model.config.architecture, 'LlamaForCausalLM');
    assert.deepEqual(p.eosTokenIds, [tok.tokenToId('<|im_end|>')]);
    assert.equal(p.model.numParameters(), model.numParameters());
  });

  test('foldsDistractor: a distractor number used where the reference has another operand (hand-made cases)', () => {
    const r = { ...recs[0], response: '5 + 3 = 8. 8 - 2 = 6. \\boxed{6}', distractors: [{ start: 0, end: 21, text: 'The park has 7 trees.' }] };
    assert.equal(foldsDistractor('5 + 7 = 12. 12 - 2 = 10. \\boxed{10}', r), true);
    assert.equal(foldsDistractor('5 + 3 = 8. 8 - 7 = 1. \\boxed{1}', r), true);
    assert.equal(foldsDistractor('5 + 3 = 8. 8 - 3 = 5. \\boxed{5}', r), false, 'wrong, but no distractor number');
    assert.equal(foldsDistractor('5 + 3 = 8. 8 - 2 = 6. \\boxed{6}', { ...r, distractors: [{ start: 0, end: 20, text: 'The park has 2 trees.' }] }), false, 'same number as the reference operand');
  });
});
