import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { LeafTokenizer, type Encoding } from '../../src/tokenizer/index.js';
import { tokensInCharRange, type CharSpan } from '../../src/tokenizer/offsets.js';
import { fixturePath } from '../helpers/fixtures.js';

const qwen = LeafTokenizer.load(fixturePath('tokenizers', 'qwen2-bytelevel'));
const llama = LeafTokenizer.load(fixturePath('tokenizers', 'llama3-bytelevel'));
const word = LeafTokenizer.load(fixturePath('tokenizers', 'word-level'));

const QWEN_ADDED = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<tool_call>'];
const LLAMA_ADDED = [
  '<|begin_of_text|>', '<|end_of_text|>', '<|reserved_special_token_0|>', '<|start_header_id|>',
  '<|end_header_id|>', '<|eom_id|>', '<|eot_id|>', '<|python_tag|>',
];
const WORD_ADDED = ['<unk>', '<pad>', '<|im_end|>', '<|endoftext|>', '<|im_start|>'];

const ASCII = 'Hello world! The answer is 55. What is 2+2? def add(a, b): return a + b';
const MULTIBYTE = 'Café naïve résumé — 日本語のテキスト、中文。Emoji 😀😃 and 👍🏽 ok; Ångström 𝔘𝔫𝔦';
const WHITESPACE = '  a  b\t\tc\n\nd \n \t e   \r\n  f    ';

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** Spans are in range, monotone, non-overlapping, and never split a surrogate pair. */
function checkShape(text: string, enc: Encoding): void {
  assert.equal(enc.offsets.length, enc.ids.length);
  let prev = 0;
  for (const [i, [a, b]] of enc.offsets.entries()) {
    assert.ok(Number.isInteger(a) && Number.isInteger(b), `span ${i} not integral`);
    assert.ok(a <= b && b <= text.length, `span ${i} [${a}, ${b}) out of range`);
    assert.ok(a >= prev, `span ${i} [${a}, ${b}) starts before the previous end ${prev}`);
    for (const p of [a, b]) {
      if (p > 0 && p < text.length) assert.ok(!isHigh(text.charCodeAt(p - 1)), `span ${i} splits a surrogate pair at ${p}`);
    }
    prev = b;
  }
}

/** Byte-level oracle: the text up to a token's end is what the ids so far decode to, complete characters only. */
function checkPrefixDecodeOracle(t: LeafTokenizer, text: string, enc: Encoding): void {
  let start = 0;
  while (start < enc.ids.length && t.specialIds.has(enc.ids[start]!) && enc.offsets[start]![1] === 0) start++;
  for (let k = start + 1; k <= enc.ids.length; k++) {
    const decoded = t.decode(enc.ids.slice(start, k)).replace(/\uFFFD+$/u, '');
    assert.equal(text.slice(0, enc.offsets[k - 1]![1]), decoded, `prefix of ${k} tokens`);
  }
}

/** The text between spans is empty (byte-level tokenizers cover everything). */
function checkCovers(text: string, enc: Encoding): void {
  let out = '';
  for (const [a, b] of enc.offsets) out += text.slice(a, b);
  assert.equal(out, text);
}

describe('token offsets: byte-level BPE (Qwen2-style and Llama 3-style fixtures)', () => {
  for (const [name, t] of [['qwen2', qwen], ['llama3', llama]] as const) {
    for (const [label, text] of [['ASCII', ASCII], ['multi-byte', MULTIBYTE], ['whitespace', WHITESPACE]] as const) {
      test(`${name}: ${label} text — shape, full coverage, prefix-decode oracle`, () => {
        const enc = t.encode(text, { addSpecialTokens: false });
        assert.ok(enc.ids.length > 0);
        assert.equal(enc.exactOffsets, true);
        checkShape(text, enc);
        checkCovers(text, enc);
        checkPrefixDecodeOracle(t, text, enc);
      });
    }
  }

  test('a character split across tokens belongs to the token holding its last byte', () => {
    // The fixtures' merges cut CJK characters and emoji inside their UTF-8 bytes.
    const text = '日本語のテキスト 😀👍🏽';
    const enc = qwen.encode(text, { addSpecialTokens: false });
    const empties = enc.offsets.filter(([a, b]) => a === b);
    assert.ok(empties.length > 0, 'the fixture should split some character across tokens');
    // Every empty-span token is followed (eventually) by the token completing that character, which starts at the same place.
    for (let i = 0; i < enc.offsets.length; i++) {
      const [a, b] = enc.offsets[i]!;
      if (a !== b) continue;
      let j = i + 1;
      while (enc.offsets[j]![0] === enc.offsets[j]![1]) j++;
      assert.equal(enc.offsets[j]![0], a);
      // Up to token i the ids decode to the text before the character plus an unfinished one;
      // with token j the character is complete.
      assert.equal(qwen.decode(enc.ids.slice(0, i + 1)).replace(/\uFFFD+$/u, ''), text.slice(0, a));
      assert.ok(qwen.decode(enc.ids.slice(0, i + 1)).endsWith('\uFFFD'));
      assert.equal(qwen.decode(enc.ids.slice(0, j + 1)), text.slice(0, enc.offsets[j]![1]));
    }
    // The emoji (a surrogate pair) is spanned whole by one token.
    const at = text.indexOf('😀');
    assert.ok(enc.offsets.some(([a, b]) => a <= at && b >= at + 2));
  });

  test('every added token gets the exact span of its text', () => {
    for (const [t, added] of [[qwen, QWEN_ADDED], [llama, LLAMA_ADDED]] as const) {
      for (const tok of added) {
        for (const text of [`a${tok}b`, ` ${tok} `, `${tok}${tok}`, `x\n${tok}\ny`, tok, `日${tok}😀`]) {
          const enc = t.encode(text, { addSpecialTokens: false });
          checkShape(text, enc);
          checkCovers(text, enc);
          const id = t.tokenToId(tok)!;
          const hits = enc.ids.flatMap((x, i) => (x === id ? [i] : []));
          let from = 0;
          const expected: number[] = [];
          for (let p = text.indexOf(tok); p >= 0; p = text.indexOf(tok, from)) {
            expected.push(p);
            from = p + tok.length;
          }
          assert.equal(hits.length, expected.length, `${tok} in ${JSON.stringify(text)}`);
          hits.forEach((i, n) => assert.deepEqual(enc.offsets[i], [expected[n]!, expected[n]! + tok.length]));
        }
      }
    }
  });

  test('a chat-formatted text: special tokens and contents line up', () => {
    const text = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nCafé? 😀<|im_end|>\n';
    const enc = qwen.encode(text, { addSpecialTokens: false });
    checkShape(text, enc);
    checkCovers(text, enc);
    checkPrefixDecodeOracle(qwen, text, enc);
  });

  test('Llama 3: BOS from the post-processor has an empty span at 0; text specials keep theirs', () => {
    const text = 'Hi <|eot_id|>';
    const enc = llama.encode(text);
    const bos = llama.tokenToId('<|begin_of_text|>')!;
    assert.equal(enc.ids[0], bos);
    assert.deepEqual(enc.offsets[0], [0, 0]);
    const plain = llama.encode(text, { addSpecialTokens: false });
    assert.deepEqual(enc.ids.slice(1), plain.ids);
    assert.deepEqual(enc.offsets.slice(1), plain.offsets);
    assert.deepEqual(enc.offsets.at(-1), [3, 13]);
    // BOS written in the text is a text token with its own span.
    const withBos = llama.encode('<|begin_of_text|>Hi', { addSpecialTokens: false });
    assert.deepEqual(withBos.offsets[0], [0, 17]);
    // Qwen2 adds nothing.
    assert.deepEqual(qwen.encode(text).ids, qwen.encode(text, { addSpecialTokens: false }).ids);
  });

  test('NFC normalizer (Qwen2): decomposed input maps back to its original characters', () => {
    const text = 'Cafe\u0301 nai\u0308ve';
    const enc = qwen.encode(text, { addSpecialTokens: false });
    assert.equal(enc.exactOffsets, true);
    checkShape(text, enc);
    checkCovers(text, enc);
    assert.equal(qwen.decode(enc.ids), text.normalize('NFC'));
    assert.deepEqual(enc.ids, qwen.encode(text.normalize('NFC'), { addSpecialTokens: false }).ids);
    // No span cuts between a letter and its combining mark.
    for (const [a, b] of enc.offsets) {
      for (const p of [a, b]) if (p < text.length) assert.ok(!/\p{M}/u.test(text[p]!), `boundary before a combining mark at ${p}`);
    }
  });

  test('empty text', () => {
    assert.deepEqual(qwen.encode(''), { ids: [], offsets: [], exactOffsets: true });
    const l = llama.encode('');
    assert.deepEqual(l.offsets, [[0, 0]]);
  });

  test('speed: ~5k tokens encode with offsets in well under a second', () => {
    const para = `${ASCII}\n${MULTIBYTE}\n${WHITESPACE}<|im_start|>user\n`;
    const perPara = qwen.encode(para, { addSpecialTokens: false }).ids.length;
    const text = para.repeat(Math.ceil(5000 / perPara) + 1);
    qwen.encode(text); // warm
    const t0 = performance.now();
    const enc = qwen.encode(text, { addSpecialTokens: false });
    const ms = performance.now() - t0;
    assert.ok(enc.ids.length >= 5000);
    checkShape(text, enc);
    checkCovers(text, enc);
    assert.ok(ms < 1000, `encode took ${ms.toFixed(0)} ms`);
  });
});

describe('token offsets: word-level (leaf demo tokenizer)', () => {
  test('words and punctuation get their own spans; whitespace is a gap', () => {
    const text = '  hello,  world!\n\tthe sum\tis 42 ';
    const enc = word.encode(text);
    checkShape(text, enc);
    assert.equal(enc.exactOffsets, true);
    const pieces = enc.offsets.map(([a, b]) => text.slice(a, b));
    assert.deepEqual(pieces, ['hello', ',', 'world', '!', 'the', 'sum', 'is', '4', '2']);
    enc.ids.forEach((id, i) => assert.equal(word.idToToken(id), pieces[i]));
    // Gaps are whitespace only.
    let prev = 0;
    for (const [a, b] of enc.offsets) {
      assert.match(text.slice(prev, a), /^\s*$/u);
      prev = b;
    }
  });

  test('unknown words (multi-byte too) span the word they replace', () => {
    const text = 'Bonjour café, 日本語のテキスト 😀 👍🏽!';
    const enc = word.encode(text);
    checkShape(text, enc);
    const unk = word.tokenToId('<unk>')!;
    const pieces = enc.offsets.map(([a, b]) => text.slice(a, b));
    assert.deepEqual(pieces, ['Bonjour', 'café', ',', '日本語のテキスト', '😀', '👍', '🏽', '!']);
    assert.deepEqual(enc.ids.map((id) => id === unk), [true, false, false, true, false, true, true, false]);
  });

  test('special tokens in the text', () => {
    for (const tok of WORD_ADDED) {
      const text = `hello ${tok}world${tok}`;
      const enc = word.encode(text);
      checkShape(text, enc);
      const id = word.tokenToId(tok)!;
      const spans = enc.ids.flatMap((x, i) => (x === id ? [enc.offsets[i]!] : []));
      assert.deepEqual(spans, [[6, 6 + tok.length], [11 + tok.length, 11 + 2 * tok.length]]);
    }
  });
});

describe('token offsets: SentencePiece-style BPE (Llama 2 / Mistral layout, built in the test)', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const merges = ['▁ h', '▁h e', 'l l', '▁he ll', '▁hell o', '▁ w', '▁w o', '▁wo r', '▁wor l', '▁worl d'];
  for (const t of ['▁', 'a', 'b', 'c', 'd', 'e', 'h', 'l', 'o', 'r', 'w', '▁h', '▁he', 'll', '▁hell', '▁hello', '▁w', '▁wo', '▁wor', '▁worl', '▁world']) {
    vocab[t] = Object.keys(vocab).length;
  }
  const sp = new LeafTokenizer({
    source: 'sentencepiece-test',
    tokenizerJson: {
      added_tokens: [
        { id: 0, content: '<unk>', special: true }, { id: 1, content: '<s>', special: true }, { id: 2, content: '</s>', special: true },
      ],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [],
        special_tokens: {},
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: { type: 'BPE', unk_token: '<unk>', byte_fallback: true, fuse_unk: true, vocab, merges },
    },
    tokenizerConfig: { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', add_bos_token: true, add_eos_token: false, tokenizer_class: 'LlamaTokenizerFast' },
    chatTemplates: { default: null, named: {} },
  });

  test('the prepended ▁ is in no span; later ▁ are the spaces before words', () => {
    const text = 'hello world';
    const enc = sp.encode(text);
    assert.equal(enc.ids[0], 1);
    assert.deepEqual(enc.offsets, [[0, 0], [0, 5], [5, 11]]);
    assert.equal(sp.decode(enc.ids, { skipSpecialTokens: true }), text);
  });

  test('byte-fallback tokens follow the character rule', () => {
    const text = 'hé 日😀';
    const enc = sp.encode(text, { addSpecialTokens: false });
    assert.equal(enc.exactOffsets, true);
    checkShape(text, enc);
    const pieces = enc.offsets.map(([a, b]) => text.slice(a, b));
    assert.deepEqual(pieces, ['h', '', 'é', ' ', '', '', '日', '', '', '', '😀']);
    assert.equal(sp.decode(enc.ids), text);
  });
});

describe('tokens of a character range', () => {
  const offsets: CharSpan[] = [[0, 0], [0, 3], [3, 3], [3, 6], [7, 9], [9, 12], [12, 12]];
  test('inside and overlapping', () => {
    assert.deepEqual(tokensInCharRange(offsets, [0, 6]), { inside: { start: 0, end: 4 }, overlapping: { start: 0, end: 4 } });
    assert.deepEqual(tokensInCharRange(offsets, [1, 8]), { inside: { start: 2, end: 4 }, overlapping: { start: 1, end: 5 } });
    assert.deepEqual(tokensInCharRange(offsets, [3, 9]), { inside: { start: 2, end: 5 }, overlapping: { start: 2, end: 5 } });
    assert.deepEqual(tokensInCharRange(offsets, [6, 7]), { inside: { start: 4, end: 4 }, overlapping: { start: 4, end: 4 } });
    assert.deepEqual(tokensInCharRange(offsets, [8, 12]), { inside: { start: 5, end: 6 }, overlapping: { start: 4, end: 6 } });
    assert.deepEqual(tokensInCharRange(offsets, [0, 12]), { inside: { start: 0, end: 6 }, overlapping: { start: 0, end: 6 } });
  });
  test('empty ranges select nothing, at the right place', () => {
    assert.deepEqual(tokensInCharRange(offsets, [12, 12]), { inside: { start: 6, end: 6 }, overlapping: { start: 6, end: 6 } });
    assert.deepEqual(tokensInCharRange(offsets, [4, 4]).inside.end - tokensInCharRange(offsets, [4, 4]).inside.start, 0);
  });
});

describe('token offsets: other layouts and the fallback', () => {
  const qwenFiles = (): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } => ({
    tokenizerJson: JSON.parse(readFileSync(fixturePath('tokenizers', 'qwen2-bytelevel', 'tokenizer.json'), 'utf8')) as Record<string, unknown>,
    tokenizerConfig: {},
  });

  test('added tokens with lstrip / rstrip: the stripped whitespace is a gap', () => {
    const f = qwenFiles();
    for (const a of f.tokenizerJson.added_tokens as Array<Record<string, unknown>>) {
      if (a.content === '<tool_call>') a.lstrip = a.rstrip = true;
    }
    const t = new LeafTokenizer({ source: 'strip-test', ...f, chatTemplates: { default: null, named: {} } });
    const text = 'a  <tool_call>  b';
    const enc = t.encode(text);
    assert.equal(enc.exactOffsets, true);
    assert.deepEqual(enc.offsets.map(([s, e]) => text.slice(s, e)), ['a', '<tool_call>', 'b']);
    assert.deepEqual(enc.offsets, [[0, 1], [3, 14], [16, 17]]);
  });

  test('BPE with an unknown token (no byte fallback): unknown tokens cover what they replace', () => {
    const t = new LeafTokenizer({
      source: 'unk-test',
      tokenizerJson: {
        added_tokens: [{ id: 0, content: '<unk>', special: true }],
        normalizer: null,
        pre_tokenizer: { type: 'WhitespaceSplit' },
        post_processor: null,
        decoder: null,
        model: { type: 'BPE', unk_token: '<unk>', vocab: { '<unk>': 0, a: 1, b: 2, c: 3, ab: 4 }, merges: ['a b'] },
      },
      tokenizerConfig: {},
      chatTemplates: { default: null, named: {} },
    });
    const text = 'abxc yz a ab😀';
    const enc = t.encode(text);
    assert.deepEqual(enc.ids, [4, 0, 3, 0, 0, 1, 4, 0]);
    assert.deepEqual(enc.offsets.map(([s, e]) => text.slice(s, e)), ['ab', 'x', 'c', 'y', 'z', 'a', 'ab', '😀']);
    checkShape(text, enc);
  });

  test('an unmodelled normalizer: unmatched tokens share the text up to the next added token (exactOffsets false)', () => {
    const f = qwenFiles();
    f.tokenizerJson.normalizer = { type: 'Replace', pattern: { String: 'a' }, content: 'o' };
    const t = new LeafTokenizer({ source: 'fallback-test', ...f, chatTemplates: { default: null, named: {} } });
    const text = 'cat and hat<|im_end|> dog';
    const enc = t.encode(text);
    assert.equal(enc.exactOffsets, false);
    checkShape(text, enc);
    const end = t.tokenToId('<|im_end|>')!;
    const i = enc.ids.indexOf(end);
    assert.deepEqual(enc.offsets[i], [11, 21]);
    assert.deepEqual(enc.offsets.slice(i + 1).map(([s, e]) => text.slice(s, e)).join(''), ' dog');
    assert.equal(enc.offsets[0]![0], 0);
    assert.equal(enc.offsets[i - 1]![1], 11);
  });
});

test('lone surrogates in the text: spans stay well-formed', () => {
  const text = 'a\uD800b\uDC00c 😀';
  const enc = qwen.encode(text);
  let prev = 0;
  let covered = '';
  for (const [a, b] of enc.offsets) {
    assert.ok(a >= prev && b >= a);
    covered += text.slice(a, b);
    prev = b;
  }
  assert.equal(covered, text);
});
