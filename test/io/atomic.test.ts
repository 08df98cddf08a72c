import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LeafError } from '../../src/errors.js';
import { writeAllSync, writeFileAtomicSync } from '../../src/io/atomic.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-atomic-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const leftovers = () => fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'));

test('writes strings, bytes and streamed content; replaces existing files', () => {
  const file = path.join(tmp, 'out.txt');
  writeFileAtomicSync(file, 'héllo\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'héllo\n');
  writeFileAtomicSync(file, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
  writeFileAtomicSync(file, (fd) => {
    writeAllSync(fd, Buffer.from('a'));
    writeAllSync(fd, Buffer.from('bc'));
  });
  assert.equal(fs.readFileSync(file, 'utf8'), 'abc');
  assert.deepEqual(leftovers(), []);
});

test('keeps the permission bits of the file it replaces', { skip: process.platform === 'win32' }, () => {
  const file = path.join(tmp, 'mode.txt');
  fs.writeFileSync(file, 'x');
  fs.chmodSync(file, 0o600);
  writeFileAtomicSync(file, 'y');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

test('a failing callback leaves the old file intact and no temporary file', () => {
  const file = path.join(tmp, 'keep.txt');
  writeFileAtomicSync(file, 'old');
  const boom = new Error('boom');
  assert.throws(
    () =>
      writeFileAtomicSync(file, (fd) => {
        writeAllSync(fd, Buffer.from('partial new content'));
        throw boom;
      }),
    (e: unknown) => e === boom,
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'old');
  assert.deepEqual(leftovers(), []);
});

test('filesystem failures are LeafErrors naming the file', () => {
  const file = path.join(tmp, 'no-such-dir', 'x.txt');
  assert.throws(
    () => writeFileAtomicSync(file, 'x'),
    (e: unknown) => e instanceof LeafError && e.message.startsWith(`${file}: cannot write file:`) && e.message.includes('ENOENT'),
  );
  const dirTarget = path.join(tmp, 'a-dir');
  fs.mkdirSync(dirTarget);
  assert.throws(() => writeFileAtomicSync(dirTarget, 'x'), (e: unknown) => e instanceof LeafError && e.message.startsWith(`${dirTarget}: `));
  assert.deepEqual(leftovers(), []);
});
