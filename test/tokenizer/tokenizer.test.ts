import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LeafError } from '../../src/errors.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const QWEN = fixturePath('tokenizers', 'qwen2-bytelevel');
const LLAMA = fixturePath('tokenizers', 'llama3-bytelevel');
const qwen = LeafTokenizer.load(QWEN);
const llama = LeafTokenizer.load(LLAMA);

const tmp = mkdtempSync(join(tmpdir(), 'leaf-tokenizer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function folder(files: Record<string, string>): string {
  const dir = join(tmp, `t${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
const qwenJson = readFileSync(join(QWEN, 'tokenizer.json'), 'utf8');
const qwenConfig = JSON.parse(readFileSync(join(QWEN, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;

function throwsLeaf(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LeafError, `expected a LeafError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('loading', () => {
  test('special tokens and vocabulary of the fixtures', () => {
    assert.equal(qwen.bosToken, null);
    assert.deepEqual(qwen.eosToken, { content: '<|im_end|>', id: qwen.tokenToId('<|im_end|>') });
    assert.deepEqual(qwen.padToken, { content: '<|endoftext|>', id: qwen.tokenToId('<|endoftext|>') });
    assert.equal(qwen.unkToken, null);
    assert.equal(qwen.vocabSize, qwen.tokenToId('<tool_call>')! + 1);
    assert.equal(qwen.idToToken(qwen.tokenToId('Ġthe')!), 'Ġthe');
    assert.ok(qwen.specialIds.has(qwen.tokenToId('<|im_start|>')!));
    assert.ok(!qwen.specialIds.has(qwen.tokenToId('<tool_call>')!), '<tool_call> is an added token but not special');
    assert.deepEqual(llama.bosToken, { content: '<|begin_of_text|>', id: llama.tokenToId('<|begin_of_text|>') });
    // eos_token is stored as an AddedToken object in this fixture.
    assert.deepEqual(llama.eosToken, { content: '<|eot_id|>', id: llama.tokenToId('<|eot_id|>') });
    assert.ok(qwen.hasChatTemplate && llama.hasChatTemplate);
    assert.deepEqual(qwen.specialPrefixIds, []);
    assert.deepEqual(llama.specialPrefixIds, [llama.bosToken!.id]);
    assert.deepEqual(llama.specialSuffixIds, []);
  });

  test('a missing folder or tokenizer.json is a LeafError naming the file', () => {
    throwsLeaf(() => LeafTokenizer.load(join(tmp, 'nope')), /nope\/tokenizer\.json: file not found/);
    const dir = folder({ 'tokenizer_config.json': '{}' });
    throwsLeaf(() => LeafTokenizer.load(dir), new RegExp(`${dir}/tokenizer\\.json: file not found`));
  });

  test('unreadable or malformed files are LeafErrors naming the file', () => {
    const dir = folder({});
    mkdirSync(join(dir, 'tokenizer.json'));
    throwsLeaf(() => LeafTokenizer.load(dir), /tokenizer\.json: cannot read \(EISDIR\)/);
    throwsLeaf(() => LeafTokenizer.load(folder({ 'tokenizer.json': '{"model": ' })), /tokenizer\.json: invalid JSON/);
    throwsLeaf(() => LeafTokenizer.load(folder({ 'tokenizer.json': '[1, 2]' })), /tokenizer\.json: expected a JSON object/);
    throwsLeaf(() => LeafTokenizer.load(folder({ 'tokenizer.json': '{"added_tokens": []}' })), /tokenizer\.json: no "model" section/);
    throwsLeaf(
      () => LeafTokenizer.load(folder({ 'tokenizer.json': '{"model": {"type": "Mystery", "vocab": 3}}' })),
      /tokenizer\.json: unsupported tokenizer model type "Mystery"/,
    );
    throwsLeaf(
      () => LeafTokenizer.load(folder({ 'tokenizer.json': '{"model": {"type": "BPE", "vocab": {}, "merges": []}, "decoder": {"type": "Nope"}}' })),
      /tokenizer\.json: unsupported or malformed tokenizer/,
    );
    throwsLeaf(
      () => LeafTokenizer.load(folder({ 'tokenizer.json': qwenJson, 'tokenizer_config.json': '{"eos_token": ' })),
      /tokenizer_config\.json: invalid JSON/,
    );
    throwsLeaf(
      () => LeafTokenizer.load(folder({ 'tokenizer.json': qwenJson, 'tokenizer_config.json': '{"chat_template": 3}' })),
      /tokenizer_config\.json: chat_template must be a string or a list/,
    );
  });

  test('tokenizer_config.json is optional; special_tokens_map.json fills missing special tokens', () => {
    const bare = LeafTokenizer.load(folder({ 'tokenizer.json': qwenJson }));
    assert.equal(bare.eosToken, null);
    assert.equal(bare.hasChatTemplate, false);
    assert.deepEqual(bare.encode('Hello world').ids, qwen.encode('Hello world').ids);
    const withMap = LeafTokenizer.load(folder({
      'tokenizer.json': qwenJson,
      'tokenizer_config.json': JSON.stringify({ ...qwenConfig, eos_token: undefined }),
      'special_tokens_map.json': JSON.stringify({ eos_token: { content: '<|endoftext|>', lstrip: false } }),
    }));
    assert.equal(withMap.eosToken?.content, '<|endoftext|>');
  });
});

describe('encode / decode', () => {
  test('round trip (Qwen2: no clean-up of spaces)', () => {
    for (const text of ['Hello , world .', 'Café 😀 日本語', '  x\t\ny  ', '<|im_start|>a<tool_call>b<|im_end|>']) {
      assert.equal(qwen.decode(qwen.encode(text).ids), text);
    }
  });

  test('clean_up_tokenization_spaces from the config (Llama 3 fixture: true)', () => {
    const ids = llama.encode('Hello , world . Is it ?', { addSpecialTokens: false }).ids;
    assert.equal(llama.decode(ids), 'Hello, world. Is it?');
  });

  test('skipSpecialTokens drops special tokens only', () => {
    const ids = qwen.encode('<|im_start|>user\nhi<tool_call><|im_end|>').ids;
    assert.equal(qwen.decode(ids, { skipSpecialTokens: true }), 'user\nhi<tool_call>');
    assert.equal(qwen.decode(ids), '<|im_start|>user\nhi<tool_call><|im_end|>');
    assert.equal(llama.decode(llama.encode('hi').ids, { skipSpecialTokens: true }), 'hi');
    assert.equal(llama.decode(llama.encode('hi').ids), '<|begin_of_text|>hi');
  });

  test('empty and invalid ids', () => {
    assert.equal(qwen.decode([]), '');
    throwsLeaf(() => qwen.decode([1, qwen.vocabSize]), /token id \d+ is not in the vocabulary/);
    throwsLeaf(() => qwen.decode([1.5]), /token id 1\.5 is not in the vocabulary/);
    throwsLeaf(() => qwen.decode([-1]), /token id -1 is not in the vocabulary/);
  });

  test('a word-level tokenizer without an unknown token cannot encode unknown words', () => {
    const dir = fixturePath('tokenizers', 'word-level');
    const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: Record<string, unknown> };
    delete tj.model.unk_token;
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    delete cfg.unk_token;
    const t = LeafTokenizer.load(folder({ 'tokenizer.json': JSON.stringify(tj), 'tokenizer_config.json': JSON.stringify(cfg) }));
    assert.equal(t.encode('hello world').ids.length, 2);
    throwsLeaf(() => t.encode('hello zebra'), /cannot encode "zebra": not in the vocabulary/);
  });

  test('files are read from the folder given (copy works the same)', () => {
    const dir = join(tmp, 'copy');
    mkdirSync(dir);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(LLAMA, f), join(dir, f));
    const t = LeafTokenizer.load(dir);
    assert.equal(t.source, dir);
    assert.deepEqual(t.encode('Hi there').ids, llama.encode('Hi there').ids);
  });
});
