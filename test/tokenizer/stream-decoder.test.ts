import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeafTokenizer, StreamDecoder } from '../../src/tokenizer/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const qwen = LeafTokenizer.load(fixturePath('tokenizers', 'qwen2-bytelevel'));
const llama = LeafTokenizer.load(fixturePath('tokenizers', 'llama3-bytelevel'));
const word = LeafTokenizer.load(fixturePath('tokenizers', 'word-level'));

const TEXTS = [
  'Hello world! The answer is 55.',
  'Café naïve 日本語のテキスト、中文。😀😃 👍🏽 𝔘𝔫𝔦',
  '  a  b\t\tc\n\nd  ',
  '<|im_start|>user\nhi 😀<|im_end|>\n<|begin_of_text|>x <|eot_id|>',
  'wait , what ? it is n\'t clean .',
];

function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

describe('streaming decoder', () => {
  for (const [name, t] of [['qwen2', qwen], ['llama3', llama], ['word-level', word]] as const) {
    for (const skip of [false, true]) {
      test(`${name}${skip ? ', skipping special tokens' : ''}: deltas add up to decode(), never a broken character`, () => {
        for (const text of TEXTS) {
          const ids = t.encode(text).ids;
          const sd = t.createStreamDecoder({ skipSpecialTokens: skip });
          let out = '';
          for (const id of ids) {
            const delta = sd.push(id);
            assert.ok(!delta.includes('\uFFFD'), `delta with U+FFFD for ${JSON.stringify(text)}`);
            assert.ok(wellFormed(delta));
            out += delta;
          }
          out += sd.flush();
          assert.equal(out, t.decode(ids, { skipSpecialTokens: skip }), JSON.stringify(text));
          assert.equal(sd.text, out);
          assert.deepEqual(sd.tokenIds, ids);
        }
      });
    }
  }

  test('an emoji split over several byte-level tokens comes out once it is complete', () => {
    const ids = qwen.encode('😀👍🏽', { addSpecialTokens: false }).ids;
    assert.ok(ids.length > 2, 'the fixture splits these emoji');
    const sd = qwen.createStreamDecoder();
    const deltas = ids.map((id) => sd.push(id));
    assert.equal(deltas.join(''), '😀👍🏽');
    assert.ok(deltas.some((d) => d === ''), 'some tokens complete no character');
  });

  test('flush returns an unfinished character as U+FFFD, as decode() does', () => {
    const ids = qwen.encode('😀', { addSpecialTokens: false }).ids;
    const sd = qwen.createStreamDecoder();
    assert.equal(sd.pushAll(ids.slice(0, -1)), '');
    assert.equal(sd.flush(), qwen.decode(ids.slice(0, -1)));
  });

  test('works with any decode function', () => {
    const parts = ['a', 'b', '\uFFFD', 'c'];
    let n = 0;
    const sd = new StreamDecoder((ids) => ids.map((i) => parts[i]).join(''));
    assert.equal(sd.push(n++), 'a');
    assert.equal(sd.push(n++), 'b');
    assert.equal(sd.push(n++), '');
    assert.equal(sd.push(n++), '\uFFFDc');
  });
});

test('SentencePiece-style decoder (leading space stripped at the start only, byte fallback)', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const t of ['▁', 'a', 'b', '▁a', '▁b', 'ab', '▁ab']) vocab[t] = Object.keys(vocab).length;
  const sp = new LeafTokenizer({
    source: 'sp',
    tokenizerJson: {
      added_tokens: [{ id: 0, content: '<unk>', special: true }, { id: 1, content: '<s>', special: true }, { id: 2, content: '</s>', special: true }],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: null,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: { type: 'BPE', unk_token: '<unk>', byte_fallback: true, vocab, merges: ['▁ a', '▁ b', 'a b', '▁a b'] },
    },
    tokenizerConfig: {},
    chatTemplates: { default: null, named: {} },
  });
  for (const text of ['ab ab  b a', 'a é 日本 😀 b', ' a']) {
    const ids = sp.encode(text).ids;
    const sd = sp.createStreamDecoder();
    let out = '';
    for (const id of ids) {
      const d = sd.push(id);
      assert.ok(!d.includes('\uFFFD') && wellFormed(d));
      out += d;
    }
    out += sd.flush();
    assert.equal(out, sp.decode(ids));
    assert.equal(out, text);
  }
});
