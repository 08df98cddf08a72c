import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { candidateSpans, cutSpans, type ScoredToken } from '../../src/method/spans.js';
import { isProtectedToken } from '../../src/method/normalize.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';
import { Rng } from '../../src/util/rng.js';
import { repoRoot } from '../helpers/paths.js';

const cut = (text: string, start: number, end: number) => cutSpans(text, [{ start, end }]);
const at = (text: string, piece: string) => {
  const i = text.indexOf(piece);
  assert.ok(i >= 0, piece);
  return [i, i + piece.length] as const;
};

describe('cutting spans out of text (hand-checked)', () => {
  const cases: Array<[string, string, string, string]> = [
    // text, span text, pruned, removed text
    ['a word here', 'word', 'a here', 'word '],
    ['a word here', ' word', 'a here', ' word'],
    ['Word here', 'Word', 'here', 'Word '],
    ['a word', 'word', 'a', ' word'],
    ['a word', ' word', 'a', ' word'],
    ['a word.', 'word', 'a.', ' word'],
    ['    return x', ' return', '    x', ' return'],
    ['    return x', 'return', '    x', 'return '],
    ['a\nword here', 'word', 'a\nhere', 'word '],
    ['x=12,', '12', 'x=,', '12'],
    ['costs 12 dollars', '12', 'costs dollars', '12 '],
    ['costs 12 dollars', '2', 'costs 1 dollars', '2'],
    ['数学很难 but fun', '很', '数学难 but fun', '很'],
    ['(word here', 'word', '( here', 'word'],
  ];
  for (const [text, span, pruned, removed] of cases) {
    it(`${JSON.stringify(text)} − ${JSON.stringify(span)} → ${JSON.stringify(pruned)}`, () => {
      const [s, e] = at(text, span);
      const r = cut(text, s, e);
      assert.equal(r.text, pruned);
      assert.equal(r.removed.length, 1);
      assert.equal(r.removed[0].text, removed);
      assert.equal(text.slice(r.removed[0].start, r.removed[0].end), removed);
    });
  }
  it('line breaks inside a span stay (no lines joined), and trailing whitespace stays', () => {
    const t = 'First.\n\nNext one';
    const r = cut(t, 5, 12); // ".\n\nNext"
    assert.equal(r.text, 'First\n\none');
    assert.deepEqual(r.removed.map((x) => x.text), ['.', 'Next ']);
    assert.equal(cut('a b   \n', 2, 6).text, 'a \n'); // "b" and the spaces after it; the line break stays
  });
  it('whole grapheme clusters: combining accents and emoji sequences are never split', () => {
    const t = 'cafe\u0301 au lait';
    assert.equal(cut(t, 0, 4).text, 'au lait'); // "cafe" widened over U+0301, then its space
    const e = 'I 👍🏽 this';
    const [s] = at(e, '👍');
    const r = cut(e, s, s + 2); // the thumb without its skin-tone modifier
    assert.equal(r.removed[0].text.includes('🏽'), true);
    assert.equal(r.text, 'I this');
  });
  it('collective: several spans, merged where their cuts touch', () => {
    const t = 'a b c d';
    const r = cutSpans(t, [{ start: 0, end: 1 }, { start: 2, end: 3 }, { start: 6, end: 7 }]);
    assert.equal(r.text, 'c');
    assert.deepEqual(r.removed.map((x) => [x.start, x.end]), [[0, 4], [5, 7]]);
  });
  it('spans: maximal runs of consecutive candidate tokens', () => {
    const text = 'ab cd ef gh';
    const tokens: ScoredToken[] = [[0, 2], [2, 5], [5, 8], [8, 11]].map(([s, e]) => ({ text: text.slice(s, e), start: s, end: e }));
    assert.deepEqual(candidateSpans(text, tokens, [3, 0, 1]), [
      { start: 0, end: 5, text: 'ab cd', tokens: [0, 2] },
      { start: 8, end: 11, text: ' gh', tokens: [3, 4] },
    ]);
    assert.deepEqual(candidateSpans(text, tokens, []), []);
  });
});

describe('cutting is exact on real tokenizations of multi-byte and whitespace-heavy prompts', () => {
  const dirs = ['qwen2-bytelevel', 'llama3-bytelevel', 'word-level'].map((d) => join(repoRoot, 'test', 'fixtures', 'tokenizers', d));
  const prompts = [
    'Ana has 12 apples 🍎 and buys 7 more. Her café sells naïve crêpes (cafe\u0301). 数学很难，但是很有趣！ How many now?',
    '  leading and   multiple   spaces\t\ttabs\n\n\n  indented line   \n\ttrailing  ',
    'def f(x):\n    """Return x² + 1 — ünïcödé 👩‍👩‍👧 family."""\n    return x ** 2 + 1\n',
    'Emoji 🇫🇷🇩🇪 flags, \\frac{1}{2} and a \\ lone backslash, Ω≈ç√∫ 𝔘𝔫𝔦 surrogates.',
  ];
  const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const dir of dirs) {
    const tok = LeafTokenizer.load(dir);
    it(dir.split('/').pop()!, () => {
      const rng = new Rng(5);
      for (const text of prompts) {
        const enc = tok.encode(text, { addSpecialTokens: false });
        const tokens: ScoredToken[] = enc.offsets.map(([s, e]) => ({ text: text.slice(s, e), start: s, end: e }));
        const boundaries = new Set([...seg.segment(text)].map((x) => x.index).concat([text.length]));
        for (let trial = 0; trial < 40; trial++) {
          const p = [0.1, 0.3, 0.7][trial % 3];
          const flagged = tokens.map((_, i) => i).filter((i) => !isProtectedToken(tokens[i].text) && rng.next() < p);
          const spans = candidateSpans(text, tokens, flagged);
          for (const group of [...spans.map((s) => [s]), spans]) {
            const r = cutSpans(text, group);
            // Exact: the pruned text is the original without the removed ranges, in order.
            let rebuilt = '', pos = 0;
            for (const x of r.removed) {
              assert.ok(x.start >= pos && x.end > x.start);
              assert.equal(text.slice(x.start, x.end), x.text);
              rebuilt += text.slice(pos, x.start);
              pos = x.end;
            }
            assert.equal(rebuilt + text.slice(pos), r.text);
            // Never a line break removed; cuts on grapheme boundaries.
            for (const x of r.removed) {
              assert.doesNotMatch(x.text, /[\n\r]/);
              assert.ok(boundaries.has(x.start) && boundaries.has(x.end), `cut inside a grapheme: ${JSON.stringify(x)}`);
            }
            assert.equal(r.text.split('\n').length, text.split('\n').length);
            // Every non-whitespace character of a flagged token is removed.
            for (const s of group) {
              for (let c = s.start; c < s.end; c++) {
                if (/\s/.test(text[c])) continue;
                assert.ok(r.removed.some((x) => x.start <= c && c < x.end), `char ${c} of a span kept`);
              }
            }
            // Removed non-whitespace characters belong to the spans or to graphemes they touch.
            for (const x of r.removed) {
              for (let c = x.start; c < x.end; c++) {
                if (/\s/.test(text[c])) continue;
                const inSpan = group.some((s) => s.start <= c && c < s.end);
                const sameCluster = group.some((s) => [...seg.segment(text)].some((g) => g.index <= c && c < g.index + g.segment.length && g.index < s.end && s.start < g.index + g.segment.length));
                assert.ok(inSpan || sameCluster, `char ${c} (${JSON.stringify(text[c])}) removed but not flagged`);
              }
            }
          }
        }
      }
    });
  }
});
