import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerPrompt, orderGenerationCache } from '../../src/method/generations.js';
import { mine } from '../../src/method/mine.js';
import { encodeUnit } from '../../src/method/units.js';
import { generate } from '../../src/model/generate.js';
import type { Pretrained } from '../../src/model/pretrained.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';
import { tinyPretrained, tokenizerDir } from '../helpers/tiny-mining.js';

/** The Qwen2 byte-level fixture tokenizer with its chat template removed (the plain format). */
function withoutTemplate(dir: string): LeafTokenizer {
  const src = tokenizerDir('qwen2-bytelevel');
  copyFileSync(join(src, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  const cfg = JSON.parse(readFileSync(join(src, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  delete cfg.chat_template;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
  const tok = LeafTokenizer.load(dir);
  assert.equal(tok.hasChatTemplate, false);
  return tok;
}

describe('generation prompts are the scoring rendering of the conversation up to the answer', () => {
  let dir = '';
  let plain: Pretrained, chat: Pretrained;
  const prompt = 'Tom has 3 apples and buys 4 more.\nHow many?';
  const response = 'He adds.\n\nSo the answer is 7.';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-gen-prompt-'));
    chat = tinyPretrained('qwen2-bytelevel', 5);
    const tok = withoutTemplate(dir);
    plain = { ...tinyPretrained('qwen2-bytelevel', 6), dir, tokenizer: tok, eosTokenIds: [tok.eosToken!.id] };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const which of ['plain', 'chat'] as const) {
    it(`${which === 'plain' ? 'no chat template' : 'chat template'}: the same text and token ids as the scored conversation before the response`, () => {
      const p = which === 'plain' ? plain : chat;
      // Instruction level: everything before the first loss token (the response's first token).
      const u = encodeUnit(p, prompt, response, { level: 'instruction' });
      const conv = p.tokenizer.encodeChat([{ role: 'user', content: prompt }, { role: 'assistant', content: response }]);
      const asstStart = conv.contentSpans[1][0];
      const a = answerPrompt(p, prompt, null);
      assert.equal(a.text, conv.text.slice(0, asstStart));
      if (which === 'plain') assert.equal(a.text, `${prompt}\n\n`); // not the bare prompt
      assert.deepEqual(a.ids, u.ids.slice(0, u.lossPositions[0]));
      assert.deepEqual(a.prefixIds, []);
      // Response level, segment 2: the earlier segment is the assistant prefix the model continues.
      const segStart = response.indexOf('\n\nSo') + 2;
      const r = encodeUnit(p, prompt, response, { level: 'response', segStart, segEnd: response.length, last: true });
      const b = answerPrompt(p, prompt, response.slice(0, segStart));
      assert.equal(b.text, conv.text.slice(0, asstStart + segStart));
      assert.deepEqual(b.ids, r.ids.slice(0, r.lossPositions[0]));
      assert.deepEqual(b.ids.slice(b.ids.length - b.prefixIds.length), b.prefixIds);
      assert.ok(p.tokenizer.decode(b.prefixIds).endsWith(response.slice(0, segStart)));
    });
  }

  it('leaf mine asks a model without a chat template the plain rendering (selection answers recomputed)', async () => {
    const data = join(dir, 'in.jsonl');
    writeFileSync(data, JSON.stringify({ id: 'a', prompt, response, answer: '7' }) + '\n');
    await mine({ teacher: plain, student: plain, data, out: join(dir, 'out'), maxNewTokens: 4, fsync: false });
    const gens = readFileSync(join(dir, 'out', 'generations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { response: string });
    assert.equal(gens.length, 2);
    const ids = plain.tokenizer.encode(`${prompt}\n\n`).ids;
    const want = plain.tokenizer.decode(generate(plain.model, [ids], { maxNewTokens: 4, eosTokenIds: plain.eosTokenIds }).tokens[0], { skipSpecialTokens: true });
    const bare = plain.tokenizer.decode(generate(plain.model, [plain.tokenizer.encode(prompt).ids], { maxNewTokens: 4, eosTokenIds: plain.eosTokenIds }).tokens[0], { skipSpecialTokens: true });
    assert.notEqual(want, bare, 'the test needs the two renderings to give different answers');
    for (const g of gens) assert.equal(g.response, want);
  });

  it('a cached answer is used only by the same model asked the same ids: another checkpoint decodes anew, with a warning', async () => {
    const data = join(dir, 'in2.jsonl');
    writeFileSync(data, JSON.stringify({ id: 'a', prompt, response, answer: '7' }) + '\n');
    const out = join(dir, 'out2');
    const first = await mine({ teacher: chat, student: chat, data, out, maxNewTokens: 4, fsync: false });
    assert.deepEqual(first.generated, { student: 1, teacher: 1 });
    const gens = () => readFileSync(join(out, 'generations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { model: string; asked: string });
    const cached = gens();
    assert.equal(cached.length, 2);
    for (const g of cached) assert.match(g.asked, /^[0-9a-f]{16}$/);
    // The same models again: nothing decoded, no warning.
    const warnings: string[] = [];
    const again = await mine({ teacher: chat, student: chat, data, out, maxNewTokens: 4, fsync: false, overwrite: true, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(again.generated, { student: 0, teacher: 0 });
    assert.equal(warnings.length, 0, warnings.join("\n"));
    // Another student checkpoint with the same tokenizer: its answers are decoded, the teacher's selection answer reused.
    const other = tinyPretrained('qwen2-bytelevel', 7);
    const swapped = await mine({ teacher: chat, student: other, data, out, maxNewTokens: 4, fsync: false, overwrite: true, onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /generations\.jsonl: cached answers from another model or another rendering of the prompt .* are not used and are decoded again/);
    assert.equal(swapped.staleCachedAnswers, 1, 'the student\'s selection answer');
    const now = gens() as Array<{ model: string; stage: string; asked: string }>;
    const select = (model: string) => now.filter((g) => g.model === model && g.stage === 'select');
    assert.equal(select('teacher').length, 1, 'the teacher was not asked again');
    assert.equal(select('student').length, 2, 'the other student answered the selection prompt itself');
    assert.notEqual(select('student')[1].asked, select('student')[0].asked);
    assert.equal(swapped.generated.student, now.filter((g) => g.model === 'student').length - 1);
    assert.equal(swapped.generated.teacher, now.filter((g) => g.model === 'teacher').length - 1);
    // Back to the first student: its own answer is still there and used; nothing it needs is stale.
    const back = await mine({ teacher: chat, student: chat, data, out, maxNewTokens: 4, fsync: false, overwrite: true, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(back.generated, { student: 0, teacher: 0 });
    assert.equal(back.staleCachedAnswers, 0);
    assert.equal(warnings.length, 1);
  });
});

describe('orderGenerationCache', () => {
  it('input order, answers of a problem in the order asked, other problems after as they were; unchanged files untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-gen-order-'));
    try {
      const f = join(dir, 'g.jsonl');
      const rec = (source_id: string, model: string, stage: string) => JSON.stringify({ model, stage, source_id, prompt: 'é ✓' });
      const lines = [rec('p1', 'student', 'select'), rec('p2', 'student', 'select'), rec('zz', 'student', 'select'), rec('p1', 'teacher', 'select'),
        rec('p2', 'teacher', 'select'), rec('p1', 'student', 'verify'), rec('old', 'teacher', 'select'), rec('p1', 'teacher', 'verify')];
      writeFileSync(f, lines.join('\n') + '\n');
      const order = new Map([['p1', 0], ['p2', 1]]);
      assert.equal(orderGenerationCache(f, order), true);
      const want = [0, 3, 5, 7, 1, 4, 2, 6].map((i) => lines[i]);
      assert.equal(readFileSync(f, 'utf8'), want.join('\n') + '\n');
      assert.equal(orderGenerationCache(f, order), false);
      // A partial last line (an interrupted run) is not reordered.
      writeFileSync(f, lines.join('\n') + '\n{"source_id":"p');
      assert.equal(orderGenerationCache(f, order), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
