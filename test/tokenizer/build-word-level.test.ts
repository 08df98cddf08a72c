import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LeafError } from '../../src/errors.js';
import {
  buildWordLevelTokenizer,
  LeafTokenizer,
  wordLevelPieces,
  writeWordLevelTokenizer,
} from '../../src/tokenizer/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-wordlevel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const WORDS = ['the', 'answer', 'is', 'hello', 'world', 'café', '.', ',', '?', '0', '1', '2', '4', '+', '='];

function throwsLeaf(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LeafError, `expected a LeafError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('buildWordLevelTokenizer', () => {
  const dir = join(tmp, 'basic');
  const files = writeWordLevelTokenizer(dir, { words: WORDS });
  const t = LeafTokenizer.load(dir);

  test('special tokens first, then the words in order, then missing role words', () => {
    const vocab = (files.tokenizerJson.model as { vocab: Record<string, number> }).vocab;
    const byId = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
    assert.deepEqual(byId.slice(0, 5), [['<unk>', 0], ['<pad>', 1], ['<|im_end|>', 2], ['<|endoftext|>', 3], ['<|im_start|>', 4]]);
    assert.deepEqual(byId.map(([, id]) => id), byId.map((_, i) => i));
    WORDS.forEach((w, i) => assert.equal(t.tokenToId(w), 5 + i));
    assert.deepEqual(['system', 'user', 'assistant'].map((w) => t.tokenToId(w)), [20, 21, 22]);
    assert.equal(t.vocabSize, 23);
    assert.deepEqual([t.unkToken?.id, t.padToken?.id, t.eosToken?.id, t.bosToken], [0, 1, 2, null]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), files.tokenizerJson);
  });

  test('encode / decode: whitespace dropped, clean-up of spaces before punctuation', () => {
    const enc = t.encode('hello   world, the answer is 4.\n');
    assert.deepEqual(enc.ids, ['hello', 'world', ',', 'the', 'answer', 'is', '4', '.'].map((w) => t.tokenToId(w)));
    assert.equal(t.decode(enc.ids), 'hello world, the answer is 4.');
    assert.equal(t.encode('12+2=14').ids.length, 7);
    assert.deepEqual(t.encode('zebra hello').ids, [0, t.tokenToId('hello')]);
    assert.deepEqual(t.encode('zebra hello').offsets, [[0, 5], [6, 11]]);
  });

  test('the built pre-tokenizer splits as wordLevelPieces says', () => {
    for (const text of ['a1b2 c,d  e!?', 'café crème—brûlée 日本語 😀x', '\tx=(1+2)*3;\n', 'naïve e\u0301 Ω≈']) {
      const enc = t.encode(text);
      assert.deepEqual(enc.offsets.map(([a, b]) => text.slice(a, b)), wordLevelPieces(text), JSON.stringify(text));
    }
  });

  test('chat: the ChatML-like template renders and encodes without unknown tokens', () => {
    const e = t.encodeChat([{ role: 'user', content: 'the answer ?' }], { addGenerationPrompt: true });
    assert.equal(e.text, '<|im_start|>user\nthe answer ?<|im_end|>\n<|im_start|>assistant\n');
    assert.ok(!e.ids.includes(0));
    assert.deepEqual(e.contentTokens[0]!.inside, { start: 2, end: 5 });
    assert.equal(t.decode(e.ids, { skipSpecialTokens: true }), 'user the answer? assistant');
  });

  test('lowercase option', () => {
    const d = join(tmp, 'lower');
    writeWordLevelTokenizer(d, { words: WORDS, lowercase: true, chatTemplate: null });
    const lt = LeafTokenizer.load(d);
    const text = 'HELLO World CAFÉ';
    const enc = lt.encode(text);
    assert.deepEqual(enc.ids, ['hello', 'world', 'café'].map((w) => lt.tokenToId(w)));
    assert.deepEqual(enc.offsets.map(([a, b]) => text.slice(a, b)), ['HELLO', 'World', 'CAFÉ']);
    assert.equal(lt.hasChatTemplate, false);
    throwsLeaf(() => buildWordLevelTokenizer({ words: ['Hello'], lowercase: true }), /"Hello" is not lowercase/);
  });

  test('custom special tokens and template', () => {
    const f = buildWordLevelTokenizer({
      words: ['a'], unkToken: '[UNK]', padToken: '[PAD]', bosToken: '<s>', eosToken: '</s>', extraSpecialTokens: [], chatTemplate: '{{ messages[0].content }}',
    });
    assert.deepEqual((f.tokenizerJson.model as { vocab: object }).vocab, { '[UNK]': 0, '[PAD]': 1, '<s>': 2, '</s>': 3, a: 4 });
    assert.equal(f.tokenizerConfig.bos_token, '<s>');
    assert.equal(f.tokenizerConfig.chat_template, '{{ messages[0].content }}');
  });

  test('invalid vocabularies are LeafErrors', () => {
    throwsLeaf(() => buildWordLevelTokenizer({ words: ['a', 'a'] }), /duplicate word "a"/);
    throwsLeaf(() => buildWordLevelTokenizer({ words: ['<pad>'] }), /duplicate word "<pad>"/);
    throwsLeaf(() => buildWordLevelTokenizer({ words: ['hello,'] }), /"hello," is not a single piece/);
    throwsLeaf(() => buildWordLevelTokenizer({ words: ['12'] }), /"12" is not a single piece/);
    throwsLeaf(() => buildWordLevelTokenizer({ words: ['a b'] }), /"a b" is not a single piece/);
    throwsLeaf(() => buildWordLevelTokenizer({ words: [''] }), /empty or non-string word/);
    throwsLeaf(() => buildWordLevelTokenizer({ words: [], unkToken: 'a b' }), /special token "a b"/);
  });
});

test('the committed word-level fixture is what the builder makes', () => {
  const dir = fixturePath('tokenizers', 'word-level');
  const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const words = Object.entries(tj.model.vocab).sort((a, b) => a[1] - b[1]).slice(5).map(([w]) => w);
  const built = buildWordLevelTokenizer({ words });
  assert.deepEqual(tj, built.tokenizerJson);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')), built.tokenizerConfig);
});
