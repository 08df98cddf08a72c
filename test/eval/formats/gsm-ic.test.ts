import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectFileFormat, loadProblems } from '../../../src/eval/formats/index.js';
import { insertedSpan } from '../../../src/eval/formats/inserted-span.js';
import { loadMiningData } from '../../../src/method/input.js';
import { fixturePath } from '../../helpers/fixtures.js';

const gsmIc = fixturePath('eval', 'gsm-ic-2step.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-gsm-ic-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** The inserted sentence of each fixture record, written out by hand. */
const INSERTED = [
  "Twenty years ago, the age of Mary's father was 8 more than Mary's age.",
  "The shoe size of Ada's mother is 8.",
  '"The barn is 300 feet long," said Tom.',
  "Liam's sister is 9 years old!",
  "Sam's teacher owns 3 cats.",
  "A box of Mia's uncle holds 6 cups.",
];

test('GSM-IC release records (a JSON array): prompt = new_question, bare answer, the distractor span is the inserted sentence', () => {
  assert.equal(detectFileFormat(gsmIc), 'gsm-ic');
  const r = loadProblems(gsmIc);
  assert.equal(r.format, 'gsm-ic');
  assert.equal(r.skipped, 0, JSON.stringify(r.issues));
  assert.deepEqual(r.problems.map((p) => p.answer), ['24', '14', '2400', '60', '25', '24']);
  assert.deepEqual(r.problems.map((p) => p.id), [0, 1, 2, 3, 4, 5].map((i) => `gsm-ic/${i}`));
  r.problems.forEach((p, i) => {
    assert.equal(p.task, 'math');
    assert.equal(p.distractorSpans?.length, 1, p.id);
    const [s, e] = p.distractorSpans![0]!;
    assert.equal(p.prompt.slice(s, e), INSERTED[i], p.id);
  });
  const m = r.problems[2]!.metadata!;
  assert.deepEqual(
    [m.n_steps, m.role, m.number, m.role_label, m.number_label, m.sentence_label],
    [2, 'the barn', '300', 'nonoverlap', 'out_range', 'off_topic'],
  );
  assert.match(String(m.original_question), /^A farm has 1,200 hens\./);
  assert.equal(m.sentence_template, '"The barn is {number} feet long," said Tom.');
});

test('insertedSpan: whitespace changes elsewhere do not move it; ambiguous shifts land on sentence boundaries; a non-insertion covers the change', () => {
  const span = (o: string, e: string) => {
    const s = insertedSpan(o, e);
    return s === null ? null : [e.slice(s.start, s.end), s.exact];
  };
  assert.deepEqual(span('A has 3 apples. B has 2. How many?', 'A has 3 apples. Bob has 5 pens. B has 2. How many?'), ['Bob has 5 pens.', true]);
  assert.deepEqual(span('x.\n\nHow many?', 'x. Extra 4. \tHow many?'), ['Extra 4.', true]);
  assert.deepEqual(span('One 1. Two 2.', 'One 1. Two 2. One 1.'), ['One 1.', true]);
  assert.deepEqual(span('Same text.', 'Same  text.'), null);
  assert.deepEqual(span('Tom has 3 cats. How many?', 'Tom has 4 cats. Ann has 9 hats. How many?'), ['4 cats. Ann has 9 hats.', false]);
});

test('GSM-IC as JSONL, and GSM8K_validation.jsonl (bare answers) are read', () => {
  const records = JSON.parse(fs.readFileSync(gsmIc, 'utf8')) as object[];
  const jl = path.join(tmp, 'gsm-ic.jsonl');
  fs.writeFileSync(jl, records.map((x) => JSON.stringify(x)).join('\n') + '\n');
  assert.deepEqual(loadProblems(jl).problems.map((p) => p.distractorSpans), loadProblems(gsmIc).problems.map((p) => p.distractorSpans));
  const v = loadProblems(fixturePath('eval', 'gsm8k-validation-bare.jsonl'));
  assert.equal(v.format, 'gsm8k');
  assert.equal(v.skipped, 0, JSON.stringify(v.issues));
  assert.deepEqual(v.problems.map((p) => [p.answer, p.solution, p.metadata?.n_steps]), [['24', undefined, 2], ['2400', undefined, 2], ['14', undefined, 1]]);
  const bad = path.join(tmp, 'bad.jsonl');
  fs.writeFileSync(bad, '{"question": "q?", "answer": "about 3"}\n');
  assert.match(loadProblems(bad).issues[0]!.reason, /no final '#### <answer>' line and is not a bare number/);
});

test("mining reads a GSM-IC JSON array: each problem keeps its distractor span and passes its bare answer through", () => {
  const d = loadMiningData(gsmIc);
  assert.equal(d.skipped.length, 0, d.skipped.join('\n'));
  assert.equal(d.problems.length, 6);
  assert.deepEqual(d.problems.map((m) => m.passthrough), ['24', '14', '2400', '60', '25', '24'].map((answer) => ({ answer })));
  assert.deepEqual(d.problems.map((m) => m.line), [2, 14, 26, 38, 50, 62]);
  d.problems.forEach((m, i) => {
    const [s, e] = m.problem.distractorSpans![0]!;
    assert.equal(m.problem.prompt.slice(s, e), INSERTED[i]);
    assert.deepEqual(m.truth, [{ start: s, end: e }]);
  });
  const code = path.join(tmp, 'he.jsonl');
  fs.writeFileSync(code, '{"task_id": "HumanEval/0", "prompt": "def f():\\n", "entry_point": "f", "test": "def check(c): pass", "canonical_solution": "  return 1"}\n');
  assert.throws(() => loadMiningData(code), /he\.jsonl: a humaneval file; leaf mine reads leaf's format or a math benchmark/);
});
