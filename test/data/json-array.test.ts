import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { forEachJsonArray, forEachRecord, isJsonArrayFile, splitJsonArray } from '../../src/data/json-array.js';
import { InvalidRecord, type JsonObject } from '../../src/data/jsonl.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-json-array-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string | Buffer): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

test('splitJsonArray: elements with the line they start on; brackets, commas and escaped quotes inside strings are text', () => {
  const text = '\n [ {"a": "x,]}[{", "b": [1, 2]},\n  {"q": "say \\"hi\\", ok]"} ,\n\n 3, "s" ]\n';
  const els = splitJsonArray(text, 'f.json');
  assert.deepEqual(els, [
    { text: '{"a": "x,]}[{", "b": [1, 2]}', line: 2 },
    { text: '{"q": "say \\"hi\\", ok]"}', line: 3 },
    { text: '3', line: 5 },
    { text: '"s"', line: 5 },
  ]);
  assert.deepEqual(splitJsonArray('[]', 'f.json'), []);
  assert.throws(() => splitJsonArray('[{"a": 1},\n{"a": 2}', 'f.json'), /^LeafError: f\.json:2: the JSON array is not closed/);
  assert.throws(() => splitJsonArray('[{"a": 1}]\n{"b": 2}', 'f.json'), /f\.json:1: text after the closing '\]'/);
  assert.throws(() => splitJsonArray('[{"a": 1},,{"a": 2}]', 'f.json'), /f\.json:1: empty element/);
});

test('forEachRecord reads a JSON array like JSONL: bad elements skipped with their line, the summary counts every element', () => {
  const f = write('a.json', '\ufeff[\n{"id": 1},\n[1],\n{"id": 2, "bad": true},\n{"id": 3}\n]\n');
  assert.equal(isJsonArrayFile(f), true);
  const kept: Array<[unknown, number]> = [];
  const s = forEachRecord<JsonObject>(f, {
    validate: (r) => {
      if (r.bad) throw new InvalidRecord('bad record');
      return r;
    },
  }, (r, line) => kept.push([r.id, line]));
  assert.deepEqual(kept, [[1, 2], [3, 5]]);
  assert.equal(s.lines, 4);
  assert.equal(s.kept, 2);
  assert.equal(s.skipped, 2);
  assert.deepEqual(s.issues.map((i) => `${i.line}: ${i.reason}`), ['3: element 2: not a JSON object (got an array)', '4: element 3: bad record']);
  assert.throws(() => forEachRecord(f, { strict: true, validate: (r) => { if (r.bad) throw new InvalidRecord('bad record'); return r; } }, () => undefined), /a\.json:3: element 2: not a JSON object/);
  const limited = forEachRecord(f, { limit: 1 }, () => undefined);
  assert.equal(limited.kept, 1);
  assert.equal(limited.stoppedAtLimit, true);
});

test('JSONL files still go to the line reader; a first line starting with [ makes an array file', () => {
  const jl = write('b.jsonl', '{"id": 1}\n{"id": 2}\n');
  assert.equal(isJsonArrayFile(jl), false);
  assert.equal(forEachRecord(jl, {}, () => undefined).kept, 2);
  assert.equal(isJsonArrayFile(write('c.json', '  \n\t[{"id": 1}]')), true);
  assert.equal(isJsonArrayFile(write('empty.json', '')), false);
});

test('an array file above the size bound is a one-line error that says to convert it', () => {
  const f = write('big.json', `[${Array.from({ length: 100 }, (_, i) => `{"id": ${i}}`).join(',')}]`);
  assert.throws(() => forEachJsonArray(f, { maxBytes: 512 }, () => undefined), /big\.json: a JSON array file of 0 MiB; arrays are read whole, up to 0 MiB — convert it to JSONL/);
  assert.equal(forEachJsonArray(f, {}, () => undefined).kept, 100);
  assert.throws(() => forEachJsonArray(write('bad-utf8.json', Buffer.from([0x5b, 0xff, 0x5d])), {}, () => undefined), /bad-utf8\.json: invalid UTF-8/);
});
