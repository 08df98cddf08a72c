import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minMax } from '../../src/method/normalize.js';
import { inputSaliency } from '../../src/method/saliency.js';
import { scoreUnit } from '../../src/method/score.js';
import { transferScores } from '../../src/method/transfer.js';
import { encodeUnit } from '../../src/method/units.js';
import { sameTokenizer } from '../../src/model/pretrained.js';
import { tinyPretrained } from '../helpers/tiny-mining.js';

const span = (start: number, end: number) => ({ start, end });

/** Brute force, character by character: a character's score is the mean of the source tokens holding it. */
function bruteForce(from: Array<{ start: number; end: number }>, scores: number[], to: Array<{ start: number; end: number }>, n: number): number[] {
  const held = (c: number) => from.map((t, i) => ((t.start <= c && c < t.end) || (t.start === t.end && t.start === c) ? scores[i] : null)).filter((x): x is number => x !== null);
  const direct = (c: number) => {
    const h = held(c);
    return h.length ? h.reduce((a, b) => a + b, 0) / h.length : null;
  };
  // A character no token holds (dropped whitespace) takes the nearest held one's score, left first.
  const value = (c: number) => {
    for (let d = 0; d < n; d++) {
      const l = c - d >= 0 ? direct(c - d) : null;
      if (l !== null) return l;
      const r = c + d < n ? direct(c + d) : null;
      if (r !== null) return r;
    }
    return null;
  };
  return to.map((t) => {
    const chars = t.end > t.start ? Array.from({ length: t.end - t.start }, (_, i) => t.start + i) : [t.start];
    const vs = chars.map(value).filter((x): x is number => x !== null);
    return vs.reduce((a, b) => a + b, 0) / vs.length;
  });
}

describe('teacher → student score transfer through character spans', () => {
  it('hand example: copy, split, length-weighted merge', () => {
    // from: [0,3)=1, [3,5)=2, [5,9)=4; to: [0,2) → 1; [2,6) → (1+2+2+4)/4; [6,9) → 4.
    assert.deepEqual(transferScores([span(0, 3), span(3, 5), span(5, 9)], [1, 2, 4], [span(0, 2), span(2, 6), span(6, 9)], 9), [1, 2.25, 4]);
    assert.deepEqual(transferScores([span(0, 3), span(3, 5)], [1, 2], [span(0, 3), span(3, 5)], 5), [1, 2]);
    // An empty source span (partial character at 2) shares that character with the token holding it.
    assert.deepEqual(transferScores([span(0, 2), span(2, 2), span(2, 4)], [1, 3, 5], [span(0, 2), span(2, 3), span(3, 4)], 4), [1, 4, 5]);
    // Characters no source token holds (a dropped space at 1) take the nearest held character's score.
    assert.deepEqual(transferScores([span(0, 1), span(2, 3)], [1, 7], [span(0, 2), span(1, 3)], 3), [1, 4]);
  });

  it('between real tokenizations (byte-level Qwen2, byte-level Llama 3, word-level) of multi-byte text', async () => {
    const { LeafTokenizer } = await import('../../src/tokenizer/index.js');
    const { tokenizerDir } = await import('../helpers/tiny-mining.js');
    const text = 'Ana has 12 apples 🍎🍏 and café crêpes (cafe\u0301); 数学很难！  spaces\tand\nlines 👩‍👩‍👧.';
    const toks = ['qwen2-bytelevel', 'llama3-bytelevel', 'word-level'].map((d) => LeafTokenizer.load(tokenizerDir(d)));
    for (const a of toks) for (const b of toks) {
      const ta = a.encode(text, { addSpecialTokens: false }).offsets.map(([s, e]) => span(s, e));
      const tb = b.encode(text, { addSpecialTokens: false }).offsets.map(([s, e]) => span(s, e));
      const scores = ta.map((_, i) => Math.sin(i + 1) + 2);
      const got = transferScores(ta, scores, tb, text.length);
      const want = bruteForce(ta, scores, tb, text.length);
      got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-12, `${a.source} → ${b.source}, token ${i}: ${x} vs ${want[i]}`));
      if (a === b) {
        // A token that shares no character with another keeps its score exactly.
        ta.forEach((t, i) => {
          const alone = t.end > t.start && !ta.some((u, j) => j !== i && u.start === u.end && t.start <= u.start && u.start < t.end);
          if (alone) assert.ok(Math.abs(got[i] - scores[i]) < 1e-14);
        });
      }
    }
  });

  for (const [sName, tName] of [['qwen2-bytelevel', 'word-level'], ['word-level', 'llama3-bytelevel']] as const) it(`scoreUnit carries the teacher gradient onto the student tokens when the tokenizers differ (${sName} ← ${tName})`, () => {
    const student = tinyPretrained(sName, 11);
    const teacher = tinyPretrained(tName, 12);
    assert.equal(sameTokenizer(student.tokenizer, teacher.tokenizer), false);
    const prompt = 'A café sells 12 crêpes 🍎 daily; 数学 distractor here.';
    const response = 'It sells \\boxed{12}.';
    const r = scoreUnit(student, teacher, prompt, response, { level: 'instruction' }, { method: 'gradient', rule: { kind: 'quantile', q: 0.1 }, seed: 1, batchSize: 4 }, 'x');
    const sEnc = encodeUnit(student, prompt, response, { level: 'instruction' });
    const tEnc = encodeUnit(teacher, prompt, response, { level: 'instruction' });
    assert.notDeepEqual(sEnc.tokens.map((t) => [t.start, t.end]), tEnc.tokens.map((t) => [t.start, t.end]));
    const sNorm = inputSaliency(student.model, sEnc.ids, sEnc.positions, sEnc.lossPositions).norms;
    const tNorm = inputSaliency(teacher.model, tEnc.ids, tEnc.positions, tEnc.lossPositions).norms;
    const wantT = minMax(bruteForce(tEnc.tokens, tNorm, sEnc.tokens, prompt.length));
    const wantS = minMax(sNorm);
    assert.deepEqual(r.tokens, sEnc.tokens);
    r.teacher!.forEach((x, i) => assert.ok(Math.abs(x - wantT[i]) < 1e-12, `teacher ${i}`));
    r.student!.forEach((x, i) => assert.ok(Math.abs(x - wantS[i]) < 1e-12, `student ${i}`));
    const d = minMax(wantT.map((x, i) => x - wantS[i]));
    r.diff.forEach((x, i) => assert.ok(Math.abs(x - d[i]) < 1e-12, `diff ${i}`));
    // Same tokenizer: the teacher's norms are used as they are.
    const teacher2 = tinyPretrained(sName, 12);
    const r2 = scoreUnit(student, teacher2, prompt, response, { level: 'instruction' }, { method: 'gradient', rule: { kind: 'quantile', q: 0.1 }, seed: 1, batchSize: 4 }, 'x');
    const t2 = inputSaliency(teacher2.model, sEnc.ids, sEnc.positions, sEnc.lossPositions).norms;
    minMax(t2).forEach((x, i) => assert.ok(Math.abs(r2.teacher![i] - x) < 1e-12));
  });
});
