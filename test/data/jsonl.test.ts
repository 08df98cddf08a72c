import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { DEFAULT_MAX_LINE_BYTES, forEachJsonl, formatSummary, InvalidRecord, jsonlLine, readJsonl, readLines, writeJsonlAtomic } from '../../src/data/jsonl.js';
import { repoRoot } from '../helpers/paths.js';
import { LeafError } from '../../src/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-jsonl-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, content);
  return f;
}

test('well-formed file: every record kept, counts add up', () => {
  const f = file('ok.jsonl', '{"a":1}\n{"a":2}\n\n   \n{"a":3}\n');
  const r = readJsonl(f);
  assert.deepEqual(r.records, [{ a: 1 }, { a: 2 }, { a: 3 }]);
  assert.deepEqual(r.lineNumbers, [1, 2, 5]);
  assert.equal(r.lines, 5);
  assert.equal(r.blank, 2);
  assert.equal(r.kept, 3);
  assert.equal(r.skipped, 0);
  assert.equal(r.truncatedLastLine, false);
  assert.equal(r.lines, r.blank + r.kept + r.skipped);
});

test('malformed lines are skipped with file:line reasons, never silently', () => {
  const f = file(
    'bad.jsonl',
    ['{"a":1}', '{"a":', '[1,2]', '"text"', 'null', '{"a":2}', '{"b":3}'].join('\n') + '\n',
  );
  const seen: number[] = [];
  const r = readJsonl<{ a: number }>(f, {
    validate: (v) => {
      if (typeof v.a !== 'number') throw new InvalidRecord("missing field 'a'");
      return v as { a: number };
    },
    onIssue: (i) => seen.push(i.line),
  });
  assert.deepEqual(r.records, [{ a: 1 }, { a: 2 }]);
  assert.equal(r.lines, 7);
  assert.equal(r.kept, 2);
  assert.equal(r.skipped, 5);
  assert.deepEqual(seen, [2, 3, 4, 5, 7]);
  assert.deepEqual(
    r.issues.map((i) => [i.file, i.line]),
    [[f, 2], [f, 3], [f, 4], [f, 5], [f, 7]],
  );
  assert.match(r.issues[0]!.reason, /^invalid JSON/);
  assert.equal(r.issues[1]!.reason, 'not a JSON object (got an array)');
  assert.equal(r.issues[2]!.reason, 'not a JSON object (got a string)');
  assert.equal(r.issues[3]!.reason, 'not a JSON object (got null)');
  assert.equal(r.issues[4]!.reason, "missing field 'a'");
  assert.equal(formatSummary(r), `${f}: 7 lines, 2 records, 5 skipped`);
});

test('strict mode throws FILE:LINE: reason at the first bad line', () => {
  const f = file('strict.jsonl', '{"a":1}\n\n{"a":2}\n{oops}\n[]\n');
  assert.throws(
    () => readJsonl(f, { strict: true }),
    (e: unknown) => e instanceof LeafError && e.message.startsWith(`${f}:4: invalid JSON`),
  );
  assert.throws(
    () =>
      readJsonl(f, {
        strict: true,
        validate: (v) => {
          if (v.a === 2) throw new InvalidRecord('a must not be 2');
          return v;
        },
      }),
    (e: unknown) => e instanceof LeafError && e.message === `${f}:3: a must not be 2`,
  );
});

test('validator errors other than InvalidRecord propagate', () => {
  const f = file('throw.jsonl', '{"a":1}\n');
  assert.throws(
    () =>
      readJsonl(f, {
        validate: () => {
          throw new TypeError('bug');
        },
      }),
    TypeError,
  );
});

test('missing final newline: the last record is kept', () => {
  const f = file('nonl.jsonl', '{"a":1}\n{"a":2}');
  const r = readJsonl(f);
  assert.deepEqual(r.records, [{ a: 1 }, { a: 2 }]);
  assert.equal(r.lines, 2);
  assert.equal(r.truncatedLastLine, false);
});

test('truncated last line (killed writer) is reported as such', () => {
  const f = file('trunc.jsonl', '{"a":1}\n{"a":2}\n{"a":3,"b":"par');
  const r = readJsonl(f);
  assert.deepEqual(r.records, [{ a: 1 }, { a: 2 }]);
  assert.equal(r.skipped, 1);
  assert.equal(r.truncatedLastLine, true);
  assert.equal(r.issues[0]!.line, 3);
  assert.match(r.issues[0]!.reason, /^truncated last line/);
  assert.throws(() => readJsonl(f, { strict: true }), /trunc\.jsonl:3: truncated last line/);
});

test('CRLF line ends, a byte order mark and non-ASCII text', () => {
  const f = file('crlf.jsonl', '\ufeff{"q":"Größe π"}\r\n\r\n{"q":"x"}\r\n');
  const r = readJsonl(f);
  assert.deepEqual(r.records, [{ q: 'Größe π' }, { q: 'x' }]);
  assert.equal(r.blank, 1);
});

test('invalid UTF-8 is a skipped line, not replacement characters', () => {
  const f = file('utf8.jsonl', Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"a":3}\n')]));
  const r = readJsonl(f);
  assert.deepEqual(r.records, [{ a: 1 }, { a: 3 }]);
  assert.equal(r.issues[0]!.line, 2);
  assert.match(r.issues[0]!.reason, /UTF-8/);
});

test('lines spanning read chunks (tiny buffer) and multi-byte characters split across chunks', () => {
  const recs = Array.from({ length: 50 }, (_, i) => ({ i, s: 'é'.repeat(i % 7), t: '€𝄞'.repeat(i % 3) }));
  const f = file('chunks.jsonl', recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  for (const chunk of [1, 2, 3, 7, 64]) {
    const r = readJsonl(f, { chunkBytes: chunk });
    assert.deepEqual(r.records, recs, `chunk ${chunk}`);
    assert.equal(r.lines, 50);
  }
  const lines = [...readLines(f, 5)];
  assert.equal(lines.length, 50);
  assert.ok(lines.every((l) => l.terminated));
});

test('validator sees 1-based line and 0-based index among non-blank lines', () => {
  const f = file('idx.jsonl', '{"a":1}\n\n{"a":2}\nbad\n{"a":3}\n');
  const where: [number, number][] = [];
  readJsonl(f, {
    validate: (v, w) => {
      where.push([w.line, w.index]);
      return v;
    },
  });
  assert.deepEqual(where, [[1, 0], [3, 1], [5, 3]]);
});

test('limit stops after that many records; forEachJsonl streams', () => {
  const f = file('limit.jsonl', '{"a":1}\n{"a":2}\n{"a":3}\n');
  const r = readJsonl(f, { limit: 2 });
  assert.equal(r.kept, 2);
  assert.equal(r.stoppedAtLimit, true);
  const got: number[] = [];
  const s = forEachJsonl<{ a: number }>(f, {}, (rec, line) => got.push(rec.a * 10 + line));
  assert.deepEqual(got, [11, 22, 33]);
  assert.equal(s.kept, 3);
});

test('empty file and missing file', () => {
  const f = file('empty.jsonl', '');
  const r = readJsonl(f);
  assert.equal(r.lines, 0);
  assert.equal(r.kept, 0);
  const missing = path.join(tmp, 'nope.jsonl');
  assert.throws(() => readJsonl(missing), (e: unknown) => e instanceof LeafError && e.message.startsWith(`${missing}: cannot read file`));
});

test('writeJsonlAtomic round-trips; jsonlLine refuses non-objects', () => {
  const f = path.join(tmp, 'out.jsonl');
  const recs = [{ a: 'line\nbreak', b: [1, 2] }, { c: null }];
  writeJsonlAtomic(f, recs);
  assert.equal(fs.readFileSync(f, 'utf8'), '{"a":"line\\nbreak","b":[1,2]}\n{"c":null}\n');
  assert.deepEqual(readJsonl(f).records, recs);
  assert.throws(() => jsonlLine([1]), LeafError);
  assert.throws(() => jsonlLine('x'), LeafError);
});

test('a line over the cap stops reading with FILE:LINE, wherever the chunk boundaries fall', () => {
  const long = 'x'.repeat(300);
  const f = file('long.jsonl', `{"a":1}\n{"a":2}\n{"s":"${long}"}\n{"a":4}\n`);
  for (const chunkBytes of [7, 64, 1 << 20]) {
    assert.throws(() => readJsonl(f, { chunkBytes, maxLineBytes: 100 }), (e: unknown) =>
      e instanceof LeafError && e.message === `${f}:3: line longer than 100 bytes (the cap on one input line; raise it with --max-line-bytes)`);
    assert.equal(readJsonl(f, { chunkBytes, maxLineBytes: 400 }).kept, 4); // raising the cap reads it
  }
  // An unterminated last line over the cap is the same error (it is counted as line 3 too).
  const g = file('long-last.jsonl', `{"a":1}\n{"a":2}\n{"s":"${long}"}`);
  assert.throws(() => readJsonl(g, { chunkBytes: 16, maxLineBytes: 100 }), /long-last\.jsonl:3: line longer than 100 bytes/);
});

test('an endless line (/dev/zero) stops at the default cap in bounded memory', { skip: !fs.existsSync('/dev/zero') }, () => {
  // A child process, so that its peak RSS is its own: reading /dev/zero must stop at the cap (64 MiB).
  const mod = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'data', 'jsonl.js')).href;
  const script = `import { readJsonl } from ${JSON.stringify(mod)};
    try { readJsonl('/dev/zero'); console.log('no error'); } catch (e) { console.log(e.message); }
    console.log(process.resourceUsage().maxRSS);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const [message, maxRssKiB] = r.stdout.trim().split('\n');
  assert.equal(message, `/dev/zero:1: line longer than ${DEFAULT_MAX_LINE_BYTES} bytes (the cap on one input line; raise it with --max-line-bytes)`);
  // Node itself is ~50 MB; the cap is 64 MiB plus one 4 MiB read buffer. Unbounded reading grew to 20 GB.
  assert.ok(Number(maxRssKiB) < 300 * 1024, `peak RSS ${maxRssKiB} KiB`);
});
