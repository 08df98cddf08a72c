import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  agree, arithDetokenize, arithVocabulary, DISTRACTOR_TEMPLATES, SINGULAR, generateSplit, OP_TEMPLATES, splitOfKey, SPLITS, type ArithRecord,
} from '../../src/demo/arith/index.js';
import { writeArithTokenizer } from '../../src/demo/tiny-models.js';
import { judgeMath } from '../../src/eval/math/index.js';
import { loadProblems } from '../../src/eval/formats/index.js';
import { writeFileAtomicSync } from '../../src/io/atomic.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-arith-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const splits: Record<string, ArithRecord[]> = {};
for (const s of SPLITS) splits[s] = generateSplit(s, 300, 42);
const all = Object.values(splits).flat();

/** Recomputes the answer from the prompt's own sentences: the start quantity, then each operation sentence's verb and number. */
function solveFromText(prompt: string, distractors: { start: number; end: number }[]): number {
  let text = '';
  let at = 0;
  for (const d of distractors) {
    text += prompt.slice(at, d.start);
    at = d.end;
  }
  text += prompt.slice(at);
  const sentences = text.split(/(?<=[.?])\s+/).filter((s) => s.trim() !== '');
  const start = /^\w+ has (\d+) \w+\.$/.exec(sentences[0]!);
  assert.ok(start, `start sentence: ${sentences[0]}`);
  let x = Number(start[1]);
  for (const s of sentences.slice(1, -1)) {
    const op = OP_TEMPLATES.find((t) => new RegExp('^' + t.text.replace(/\{b\}/, '(\\d+)').replace(/\{[A-Za-z0-9]+\}/g, '\\w+').replace(/\./g, '\\.') + '$').test(s));
    assert.ok(op, `operation sentence: ${s}`);
    const b = Number(/(\d+)/.exec(s)![1]);
    x = op.sign === '+' ? x + b : x - b;
  }
  assert.match(sentences[sentences.length - 1]!, /^How many \w+ does \w+ have now\?$/);
  return x;
}

describe('distracted arithmetic', () => {
  test('distractor spans are exact: each names an inserted sentence, and removing them gives the clean prompt', () => {
    let withDistractors = 0;
    for (const r of all) {
      for (const d of r.distractors) {
        assert.equal(r.prompt.slice(d.start, d.end), d.text, r.id);
        assert.ok(DISTRACTOR_TEMPLATES.some((t) => new RegExp('^' + t.text.replace(/\{c\}/, '\\d+').replace(/\{[A-Za-z0-9]+\}/g, '\\w+').replace(/\./g, '\\.') + '$').test(d.text)), d.text);
        assert.match(d.text, /\d/, 'every inserted sentence carries a number');
      }
      for (let i = 1; i < r.distractors.length; i++) assert.ok(r.distractors[i]!.start > r.distractors[i - 1]!.end, 'ordered, disjoint');
      let clean = '';
      let at = 0;
      for (const d of r.distractors) {
        clean += r.prompt.slice(at, d.start);
        at = d.end + 1; // the space after the sentence
      }
      clean += r.prompt.slice(at);
      assert.equal(clean, r.metadata.clean_prompt, r.id);
      if (r.distractors.length > 0) withDistractors++;
      assert.ok(r.distractors.length <= 3);
    }
    assert.ok(withDistractors > all.length / 2, `${withDistractors} of ${all.length} problems have distractors`);
  });

  test('answers are right: recomputed from the prompt text, and the worked solution ends in \\boxed{answer}', () => {
    for (const r of all) {
      assert.equal(String(solveFromText(r.prompt, r.distractors)), r.answer, r.id);
      assert.ok(r.response.endsWith(`\\boxed{${r.answer}}`), r.response);
      assert.ok(judgeMath(r.response, r.answer).correct, r.response);
      // Every step of the worked solution is correct arithmetic, chained.
      const steps = [...r.response.matchAll(/(\d+) ([+-]) (\d+) = (\d+)\./g)];
      assert.equal(steps.length, r.metadata.steps);
      assert.ok(steps.length >= 2 && steps.length <= 4);
      for (const [i, m] of steps.entries()) {
        const [x, op, b, y] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
        assert.equal(op === '+' ? x + b : x - b, y, m[0]);
        if (i > 0) assert.equal(x, Number(steps[i - 1]![4]));
      }
      assert.equal(steps[steps.length - 1]![4], r.answer);
    }
  });

  test('splits share no template-and-numbers combination, and keys hash to their split', () => {
    const keys = SPLITS.map((s) => new Set(splits[s]!.map((r) => r.metadata.key)));
    for (const [i, s] of SPLITS.entries()) {
      assert.equal(keys[i]!.size, splits[s]!.length, `${s}: keys unique within the split`);
      for (const r of splits[s]!) assert.equal(splitOfKey(r.metadata.key), s);
      for (let j = i + 1; j < SPLITS.length; j++) for (const k of keys[i]!) assert.ok(!keys[j]!.has(k), `${k} in ${s} and ${SPLITS[j]}`);
    }
    // The key is the template ids and numbers of the arithmetic: recompute it from the text.
    for (const r of all.slice(0, 50)) {
      const nums = r.response.match(/(\d+) [+-] (\d+) =/g)!.map((m) => m.split(' ')[2]);
      assert.deepEqual(r.metadata.key.split(' ').slice(1).map((t) => t.replace(/^[a-z]+[+-]/, '')), nums);
    }
  });

  test('deterministic for a seed, different for another', () => {
    assert.deepEqual(generateSplit('test', 300, 42), splits.test);
    const other = generateSplit('test', 50, 43);
    assert.notDeepEqual(other.map((r) => r.prompt), splits.test!.slice(0, 50).map((r) => r.prompt));
  });

  test('number agreement: a noun counted by 1 is singular, by any other number plural', () => {
    assert.equal(agree('Tom has 1 apples. Ann buys 1 more cards. Max is 1 years old. A bus has 1 seats.'),
      'Tom has 1 apple. Ann buys 1 more card. Max is 1 year old. A bus has 1 seat.');
    assert.equal(agree('The store opens at 1 am. 7 - 1 = 6. Tom has 11 apples.'), 'The store opens at 1 am. 7 - 1 = 6. Tom has 11 apples.');
    let ones = 0;
    for (const r of all) {
      for (const [, n, noun] of r.prompt.matchAll(/\b(\d+) (?:more )?([a-z]+)\b/g)) {
        const plural = noun in SINGULAR;
        const singular = Object.values(SINGULAR).includes(noun);
        if (!plural && !singular) continue;
        if (n === '1') ones++;
        assert.ok(n === '1' ? singular : plural, `${n} ${noun} in ${r.prompt}`);
      }
    }
    assert.ok(ones > 20, `only ${ones} nouns counted by 1: the check saw too few`);
  });

  test('settings: no distractors, a fixed count, vague sentences without numbers', () => {
    for (const r of generateSplit('train', 40, 1, { minDistractors: 0, maxDistractors: 0 })) {
      assert.equal(r.distractors.length, 0);
      assert.equal(r.prompt, r.metadata.clean_prompt);
    }
    for (const r of generateSplit('train', 40, 1, { minDistractors: 2, maxDistractors: 2, vagueTopics: ['same', 'other'] })) {
      assert.equal(r.distractors.length, 2);
      for (const d of r.distractors) assert.doesNotMatch(d.text, /\d/);
    }
  });

  test('mining input format: leaf loads every record as a math problem', () => {
    const file = join(tmp, 'train.jsonl');
    writeFileAtomicSync(file, splits.train!.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const loaded = loadProblems(file, { strict: true });
    assert.equal(loaded.problems.length, 300);
    assert.equal(loaded.problems[0]!.format, 'leaf');
    assert.equal(loaded.problems[0]!.task, 'math');
    assert.equal(loaded.problems[0]!.response, splits.train![0]!.response);
  });

  test('the word-level tokenizer covers every text, and arithDetokenize undoes its lossy decoding', () => {
    const tok = writeArithTokenizer(join(tmp, 'tok'));
    const unk = tok.unkToken!.id;
    assert.equal(new Set(arithVocabulary()).size, arithVocabulary().length);
    for (const r of all.slice(0, 200)) {
      for (const text of [r.prompt, r.response]) {
        const ids = tok.encode(text, { addSpecialTokens: false }).ids;
        assert.ok(!ids.includes(unk), `unknown piece in ${text}`);
        const decoded = tok.decode(ids);
        assert.equal(arithDetokenize(decoded), text);
      }
    }
    assert.notEqual(tok.decode(tok.encode('\\boxed{17}').ids), '\\boxed{17}', 'plain decoding is lossy (why arithDetokenize exists)');
  });
});
