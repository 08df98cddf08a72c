import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitResponse } from '../../src/method/segments.js';

/** Start offsets of whitespace-separated words (a stand-in tokenizer: one token per word). */
const wordStarts = (t: string) => [...t.matchAll(/\S+/g)].map((m) => m.index);

describe('response segmentation', () => {
  it('k = 2 at the line boundary nearest half the tokens', () => {
    const t = 'a b c\nd e\nf g h i\nj';
    // 10 words; line boundaries after "c\n" (3 before), "e\n" (5), "i\n" (9). Target 5 → after "e\n".
    assert.deepEqual(splitResponse(t, 2, wordStarts(t)), [0, 10, t.length]);
  });
  it('sentence boundaries: right after the mark, the space starts the next segment', () => {
    const t = 'One two three. Four five six. Seven eight nine ten.';
    // 10 words; sentence boundaries at 14 (3 before) and 29 (6 before); target 5 → 29 (|6−5| < |3−5|).
    assert.deepEqual(splitResponse(t, 2, wordStarts(t)), [0, 29, t.length]);
    assert.equal(t.slice(29, 30), ' ');
  });
  it('k = 3 minimises the total distance to 1/3 and 2/3 of the tokens', () => {
    const t = 'a b.\nc d e.\nf g h i.\nj k l';
    // 12 words; line starts after "b.\n" (2 before), "e.\n" (5), "i.\n" (9); sentence ends before each \n
    // (same counts). Targets 4 and 8 → boundaries with 5 and 9 before (cost 1 + 1), the earlier of each tie.
    const b = splitResponse(t, 3, wordStarts(t))!;
    assert.equal(b.length, 4);
    assert.deepEqual(b.map((x) => wordStarts(t).filter((s) => s < x).length), [0, 5, 9, 12]);
    assert.equal(t.slice(b[1] - 1, b[1] + 1), '.\n'); // the earlier of the two boundaries with 5 before
  });
  it('falls back to word boundaries, and gives up when there are fewer than k words', () => {
    const t = 'alpha beta gamma delta';
    assert.deepEqual(splitResponse(t, 2, wordStarts(t)), [0, 10, t.length]);
    assert.equal(splitResponse('single', 2, [0]), null);
    assert.equal(splitResponse('one\n\n\n', 2, [0]), null);
  });
  it('segments are contiguous, cover the text, and are never blank', () => {
    const t = '\n\nFirst.\n\n\nSecond part here.\nThird!  Fourth?\n';
    for (const k of [2, 3, 4]) {
      const b = splitResponse(t, k, wordStarts(t))!;
      assert.equal(b[0], 0);
      assert.equal(b[b.length - 1], t.length);
      for (let j = 1; j < b.length; j++) assert.match(t.slice(b[j - 1], b[j]), /\S/);
    }
  });
});
