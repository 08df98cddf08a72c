import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { doneKeys, RecordLog } from '../../src/data/record-log.js';
import { InvalidRecord } from '../../src/data/jsonl.js';
import { LeafError } from '../../src/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-reclog-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

interface Rec {
  id: string;
  score: number;
  text: string;
}

const ALL: Rec[] = Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, score: i * 0.25, text: `résumé ${'x'.repeat(i)}\n#${i}` }));

/** A job that processes every record whose key is not done yet, appending as it goes. */
function runJob(file: string, opts: { resume?: boolean; stopAfter?: number }): RecordLog<Rec> {
  const log = RecordLog.open<Rec>(file, { resume: opts.resume ?? false });
  const done = doneKeys(log.existing, (r) => r.id);
  let n = 0;
  for (const r of ALL) {
    if (done.has(r.id)) continue;
    if (opts.stopAfter !== undefined && n >= opts.stopAfter) break;
    log.append(r);
    n++;
  }
  log.close();
  return log;
}

test('records are appended one line each', () => {
  const f = path.join(tmp, 'plain.jsonl');
  const log = runJob(f, {});
  assert.equal(log.count, ALL.length);
  const lines = fs.readFileSync(f, 'utf8').split('\n');
  assert.equal(lines.length, ALL.length + 1);
  assert.equal(lines.at(-1), '');
  assert.deepEqual(lines.slice(0, -1).map((l) => JSON.parse(l) as Rec), ALL);
});

test('kill mid-record, resume: partial line removed, appending continues, file equals an uninterrupted run', () => {
  const whole = path.join(tmp, 'whole.jsonl');
  runJob(whole, {});

  const f = path.join(tmp, 'killed.jsonl');
  runJob(f, { stopAfter: 3 });
  // Simulate a kill in the middle of writing record 4: half its line, no newline.
  const next = `${JSON.stringify(ALL[3])}\n`;
  fs.appendFileSync(f, next.slice(0, Math.floor(next.length / 2)));
  const sizeBefore = fs.statSync(f).size;

  const log = RecordLog.open<Rec>(f, { resume: true });
  assert.deepEqual(log.existing, ALL.slice(0, 3));
  assert.deepEqual(log.droppedTail, { line: 4, bytes: Math.floor(next.length / 2) });
  assert.equal(fs.statSync(f).size, sizeBefore - Math.floor(next.length / 2));
  const done = doneKeys(log.existing, (r) => r.id);
  for (const r of ALL) if (!done.has(r.id)) log.append(r);
  assert.equal(log.count, ALL.length);
  log.close();

  assert.ok(fs.readFileSync(f).equals(fs.readFileSync(whole)), 'resumed file is byte-equal to the uninterrupted one');
});

test('several interruptions in a row still give the same file', () => {
  const whole = path.join(tmp, 'whole2.jsonl');
  runJob(whole, {});
  const f = path.join(tmp, 'multi.jsonl');
  runJob(f, { stopAfter: 2 });
  fs.appendFileSync(f, '{"id":"p2","sco');
  runJob(f, { resume: true, stopAfter: 1 });
  fs.appendFileSync(f, '{');
  runJob(f, { resume: true, stopAfter: 2 });
  const last = runJob(f, { resume: true });
  assert.equal(last.droppedTail, null);
  assert.equal(last.existing.length, 5);
  assert.ok(fs.readFileSync(f).equals(fs.readFileSync(whole)));
});

test('resume with nothing left to do, of a missing file, of an empty file', () => {
  const whole = path.join(tmp, 'done.jsonl');
  runJob(whole, {});
  const before = fs.readFileSync(whole);
  const log = runJob(whole, { resume: true });
  assert.equal(log.existing.length, ALL.length);
  assert.ok(fs.readFileSync(whole).equals(before));

  const fresh = path.join(tmp, 'fresh.jsonl');
  const l2 = RecordLog.open<Rec>(fresh, { resume: true });
  assert.deepEqual(l2.existing, []);
  assert.equal(l2.droppedTail, null);
  l2.append(ALL[0]!);
  l2.close();
  assert.equal(fs.readFileSync(fresh, 'utf8'), `${JSON.stringify(ALL[0])}\n`);

  const empty = path.join(tmp, 'empty.jsonl');
  fs.writeFileSync(empty, '');
  const l3 = RecordLog.open<Rec>(empty, {});
  l3.close();
});

test('a file holding only a partial first line resumes to empty', () => {
  const f = path.join(tmp, 'onlypartial.jsonl');
  fs.writeFileSync(f, '{"id":"p0",');
  const log = RecordLog.open<Rec>(f, { resume: true });
  assert.deepEqual(log.existing, []);
  assert.deepEqual(log.droppedTail, { line: 1, bytes: 11 });
  assert.equal(fs.statSync(f).size, 0);
  log.close();
});

test('without resume a non-empty file is refused unless overwrite', () => {
  const f = path.join(tmp, 'exists.jsonl');
  fs.writeFileSync(f, '{"id":"old"}\n');
  assert.throws(
    () => RecordLog.open(f),
    (e: unknown) => e instanceof LeafError && e.message.startsWith(f) && /--resume/.test(e.message) && /remove the file/.test(e.message),
  );
  assert.equal(fs.readFileSync(f, 'utf8'), '{"id":"old"}\n');
  const log = RecordLog.open(f, { overwrite: true });
  log.append({ id: 'new' });
  log.close();
  assert.equal(fs.readFileSync(f, 'utf8'), '{"id":"new"}\n');
});

test('a corrupt complete line fails the resume with FILE:LINE (nothing is dropped silently)', () => {
  const f = path.join(tmp, 'corrupt.jsonl');
  fs.writeFileSync(f, '{"id":"a"}\nnot json\n{"id":"b"}\n');
  assert.throws(() => RecordLog.open(f, { resume: true }), (e: unknown) => e instanceof LeafError && e.message.startsWith(`${f}:2: invalid JSON`));
  const g = path.join(tmp, 'invalid.jsonl');
  fs.writeFileSync(g, '{"id":"a"}\n{"x":1}\n');
  assert.throws(
    () =>
      RecordLog.open(g, {
        resume: true,
        validate: (v) => {
          if (typeof v.id !== 'string') throw new InvalidRecord("missing field 'id'");
          return v;
        },
      }),
    (e: unknown) => e instanceof LeafError && e.message === `${g}:2: missing field 'id'`,
  );
});

test('append after close and non-object records are errors; fsync off still writes', () => {
  const f = path.join(tmp, 'closed.jsonl');
  const log = RecordLog.open<unknown>(f, { fsync: false });
  assert.throws(() => log.append([1, 2]), LeafError);
  log.append({ ok: true });
  log.close();
  log.close();
  assert.throws(() => log.append({ x: 1 }), /closed/);
  assert.equal(fs.readFileSync(f, 'utf8'), '{"ok":true}\n');
});

test('a folder as output is refused with a LeafError', () => {
  assert.throws(() => RecordLog.open(tmp), (e: unknown) => e instanceof LeafError && /not a regular file/.test(e.message));
});

test('a real SIGKILL during a run: resume finds only whole records and finishes the job', async () => {
  const { spawn } = await import('node:child_process');
  const moduleUrl = new URL('../../src/data/record-log.js', import.meta.url).href;
  const f = path.join(tmp, 'sigkill.jsonl');
  const total = 50_000;
  const script = `
    import { RecordLog } from ${JSON.stringify(moduleUrl)};
    const log = RecordLog.open(${JSON.stringify(f)}, { resume: true, fsync: false });
    const pad = 'y'.repeat(1000);
    for (let i = log.count; i < ${total}; i++) log.append({ id: i, pad });
    log.close();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  // Kill once the file has some records in it.
  await new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      let size = 0;
      try {
        size = fs.statSync(f).size;
      } catch {
        // not created yet
      }
      if (size > 200_000 || Date.now() - t0 > 20_000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 2);
    child.on('error', reject);
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const log = RecordLog.open<{ id: number; pad: string }>(f, { resume: true, fsync: false });
  assert.ok(log.existing.length > 0 && log.existing.length <= total, `killed after ${log.existing.length} records`);
  log.existing.forEach((r, i) => assert.equal(r.id, i));
  for (let i = log.count; i < total; i++) log.append({ id: i, pad: 'y'.repeat(1000) });
  log.close();
  const lines = fs.readFileSync(f, 'utf8').split('\n');
  assert.equal(lines.length, total + 1);
  assert.equal(JSON.parse(lines[total - 1]!).id, total - 1);
});
