import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadMiningData } from '../../src/method/input.js';
import { encodeUnit } from '../../src/method/units.js';
import { LeafTokenizer, writeWordLevelTokenizer } from '../../src/tokenizer/index.js';
import { repoRoot } from '../helpers/paths.js';
import { tinyPretrained } from '../helpers/tiny-mining.js';

describe('units under other chat templates', () => {
  it('Llama 3 template (trims contents): tokens still map into the prompt as given', () => {
    const p = tinyPretrained('llama3-bytelevel', 1);
    const prompt = '  Ana has 12 apples 🍎.\n  How many?  ';
    const response = ' She has \\boxed{12}. ';
    const u = encodeUnit(p, prompt, response, { level: 'instruction' });
    assert.equal(u.text, prompt);
    for (const t of u.tokens) assert.equal(prompt.slice(t.start, t.end), t.text);
    assert.equal(u.tokens.map((t) => t.text).join(''), prompt.trim());
    const full = p.tokenizer.encodeChat([{ role: 'user', content: prompt }, { role: 'assistant', content: response }]);
    // The loss: the (trimmed) response's tokens and <|eot_id|>.
    const decoded = p.tokenizer.decode(u.lossPositions.map((i) => full.ids[i]));
    assert.equal(decoded, `${response.trim()}<|eot_id|>`);
    const r = encodeUnit(p, prompt, response, { level: 'response', segStart: response.indexOf('\\'), segEnd: response.length, last: true });
    assert.equal(r.text, ' She has ');
    assert.equal(r.tokens.map((t) => t.text).join(''), 'She has ');
  });

  it('no chat template: the plain format, loss on the response only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-plain-'));
    try {
      writeWordLevelTokenizer(dir, { words: ['what', 'is', 'two', 'it', 'four', '?', '.'], chatTemplate: null });
      const tok = LeafTokenizer.load(dir);
      assert.equal(tok.hasChatTemplate, false);
      const base = tinyPretrained('word-level', 2);
      const p = { ...base, tokenizer: tok, eosTokenIds: [tok.eosToken!.id] };
      const u = encodeUnit(p, 'what is two ?', 'it is four .', { level: 'instruction' });
      assert.deepEqual(u.tokens.map((t) => t.text), ['what', 'is', 'two', '?']);
      assert.deepEqual(u.lossPositions.map((i) => tok.decode([u.ids[i]])), ['it', 'is', 'four', '.']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mining input', () => {
  const fixture = join(repoRoot, 'test', 'fixtures', 'eval', 'leaf-mining.jsonl');
  it('passes the judging fields through as written, code and math', () => {
    const d = loadMiningData(fixture);
    assert.deepEqual(d.problems.map((p) => p.problem.id), ['m1', 'm2', 'c1', 'c2', 'c3']);
    assert.deepEqual(d.problems[1].passthrough, { answer: 1024 });
    assert.deepEqual(d.problems[2].passthrough, { tests: 'def check(candidate):\n    assert candidate(2) == 6\n', entry_point: 'triple' });
    assert.deepEqual(d.problems[4].passthrough, { tests: [{ input: '4\n', output: '8\n' }] });
    assert.equal(d.problems[0].problem.response, '12 * 11 = 132, so the answer is \\boxed{132}.');
  });
  it('--task skips the other task with its line number; duplicates and bad lines are reported; strict stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-input-'));
    try {
      const f = join(dir, 'in.jsonl');
      writeFileSync(f, ['{"id":"a","prompt":"x","answer":"1"}', '{"id":"b","prompt":"y","tests":["assert f()"]}', '', '{"id":"a","prompt":"z","answer":"2"}', '{"id":"c","prompt":"w"}'].join('\n') + '\n');
      const d = loadMiningData(f, { task: 'math' });
      assert.deepEqual(d.problems.map((p) => p.problem.id), ['a']);
      assert.deepEqual(d.skipped, [
        `${f}:2: a code problem, but --task is math`,
        `${f}:4: duplicate id 'a' (first on line 1)`,
        `${f}:5: needs 'answer' (math) or 'tests' (code)`,
      ]);
      assert.throws(() => loadMiningData(f, { strict: true }), new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: duplicate id 'a'`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
