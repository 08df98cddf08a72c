import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalJson, keyDigest, readStamp, removeStamp, STAMP_FORMAT, writeStamp } from '../../src/data/run-stamp.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-run-stamp-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A fresh folder holding out.bin (the output the stamp vouches for); returns the stamp's path in it. */
const fresh = (): string => {
  const dir = join(tmp, `f${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'out.bin'), 'weights');
  return join(dir, 'stamp.json');
};
const KEY = { recipe: { steps: 10, lr: 0.01 }, inputs: { 'a.jsonl': '0123abcd', 'b.jsonl': null }, code: 'ff00' };

describe('run stamp', () => {
  it('canonicalJson: equal for values that differ only in object field order (at any depth), different otherwise', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]), 'array order matters');
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
    assert.equal(canonicalJson({ a: undefined, b: 1 }), canonicalJson({ b: 1 }), 'undefined fields are dropped, as JSON drops them');
  });

  it('keyDigest: the sha256 of the canonical JSON (field order does not matter, anything else does)', () => {
    assert.match(keyDigest(KEY), /^[0-9a-f]{64}$/);
    assert.equal(keyDigest({ b: [1, { d: 2, c: 3 }], a: 'x' }), keyDigest({ a: 'x', b: [1, { c: 3, d: 2 }] }));
    assert.equal(keyDigest({ a: 1 }), createHash('sha256').update('{"a":1}').digest('hex'));
    assert.notEqual(keyDigest({ ...KEY, code: 'ff01' }), keyDigest(KEY));
    assert.notEqual(keyDigest({ a: null }), keyDigest({}));
  });

  it('matches the same key (fields in another order), with its payload', () => {
    const f = fresh();
    writeStamp(f, KEY, { modelDir: 'm', loss: 0.5 });
    assert.deepEqual(readStamp(f, KEY), { payload: { modelDir: 'm', loss: 0.5 } });
    const reordered = { code: 'ff00', inputs: { 'b.jsonl': null, 'a.jsonl': '0123abcd' }, recipe: { lr: 0.01, steps: 10 } };
    assert.deepEqual(readStamp(f, reordered, { requires: ['out.bin'] }), { payload: { modelDir: 'm', loss: 0.5 } });
    const bare = fresh();
    writeStamp(bare, 'digest-0123');
    assert.deepEqual(readStamp(bare, 'digest-0123'), { payload: undefined }, 'a stamp without payload still matches');
    assert.equal(JSON.parse(readFileSync(f, 'utf8')).stamp, STAMP_FORMAT);
  });

  it('a different key matches nothing', () => {
    const f = fresh();
    writeStamp(f, KEY, 1);
    assert.equal(readStamp(f, { ...KEY, code: 'ff01' }), null);
    assert.equal(readStamp(f, { ...KEY, inputs: { 'a.jsonl': '0123abcd' } }), null, 'an input fewer');
    assert.equal(readStamp(f, { ...KEY, recipe: { steps: 10, lr: 0.01, seed: 1 } }), null, 'a field more');
    assert.equal(readStamp(f, 'ff00'), null);
    assert.equal(readStamp(f, undefined), null);
  });

  it('a missing required file matches nothing (names relative to the stamp, or given by the payload)', () => {
    const f = fresh();
    const dir = join(f, '..');
    writeStamp(f, KEY, { model: join(dir, 'out.bin') });
    assert.ok(readStamp(f, KEY, { requires: ['out.bin'] }));
    assert.ok(readStamp<{ model: string }>(f, KEY, { requires: (p) => [p.model] }));
    assert.equal(readStamp(f, KEY, { requires: ['out.bin', 'config.json'] }), null);
    assert.equal(readStamp<{ other: string }>(f, KEY, { requires: (p) => [p.other] }), null, 'the payload lacks the path');
    rmSync(join(dir, 'out.bin'));
    assert.equal(readStamp(f, KEY, { requires: ['out.bin'] }), null);
    assert.equal(readStamp<{ model: string }>(f, KEY, { requires: (p) => [p.model] }), null);
    assert.ok(readStamp(f, KEY), 'without requires, the key alone decides');
  });

  it('a missing, torn, garbage or old-format stamp matches nothing and never throws', () => {
    const f = fresh();
    assert.equal(readStamp(f, KEY), null, 'missing');
    writeStamp(f, KEY, { a: 1 });
    const whole = readFileSync(f, 'utf8');
    for (const cut of [1, Math.floor(whole.length / 2), whole.length - 3]) {
      writeFileSync(f, whole.slice(0, cut));
      assert.equal(readStamp(f, KEY), null, `torn after ${cut} bytes`);
    }
    for (const junk of ['', '\u0000\u0001garbage', 'null', '42', '"x"', '[1,2]', '{}']) {
      writeFileSync(f, junk);
      assert.equal(readStamp(f, KEY), null, JSON.stringify(junk));
    }
    writeFileSync(f, JSON.stringify({ key: KEY, result: { a: 1 } })); // the format before stamps (demo-result.json)
    assert.equal(readStamp(f, KEY), null, 'no stamp format');
    writeFileSync(f, JSON.stringify({ stamp: STAMP_FORMAT + 1, key: KEY, payload: 1 }));
    assert.equal(readStamp(f, KEY), null, 'another stamp format');
    mkdirSync(join(f, '..', 'dir.json'));
    assert.equal(readStamp(join(f, '..', 'dir.json'), KEY), null, 'a folder where the stamp should be');
  });

  it('writes atomically: a rewrite replaces the file (the old one, held by another link, is untouched) and leaves no temporary file', () => {
    const f = fresh();
    writeStamp(f, KEY, 'first');
    const held = join(f, '..', 'held.json');
    linkSync(f, held); // an in-place rewrite would change what this link sees
    writeStamp(f, { ...KEY, code: 'ff01' }, 'second');
    assert.deepEqual(readStamp(held, KEY), { payload: 'first' });
    assert.deepEqual(readStamp(f, { ...KEY, code: 'ff01' }), { payload: 'second' });
    assert.deepEqual(readdirSync(join(f, '..')).sort(), ['held.json', 'out.bin', 'stamp.json']);
    assert.throws(() => writeStamp(join(tmp, 'no-such-folder', 'stamp.json'), KEY), /no-such-folder/);
  });

  it('removeStamp: the output then matches nothing; removing a missing stamp is fine', () => {
    const f = fresh();
    writeStamp(f, KEY);
    removeStamp(f);
    assert.equal(readStamp(f, KEY), null);
    removeStamp(f);
  });
});
