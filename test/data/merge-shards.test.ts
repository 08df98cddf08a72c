/**
 * leaf merge's shard check (data/merge-shards.ts readShardSet): shards of one run merge even when they
 * found the same inputs at different paths (the content digests beside the paths agree); a different
 * digest, setting or path without a digest is another run, named in one line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readShardSet } from '../../src/data/merge-shards.js';
import { writeShardFile } from '../../src/data/shard.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-merge-shards-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const IDS = ['p0', 'p1', 'p2', 'p3', 'p4'];

/** A shard folder holding run.json with `identity` (and the shard) and its shard.json. */
function shard(name: string, index: number, identity: Record<string, unknown>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ identity: { ...identity, shard: { index, count: 2 } } }));
  writeShardFile(dir, { index, count: 2 }, IDS);
  return dir;
}

const mine = (root: string, o: Record<string, unknown> = {}) => ({
  method: 'gradient', data: `${root}/train.jsonl`, data_sha256: 'aaaa', student: `${root}/student`, student_weights: 's1',
  teacher: `${root}/teacher`, teacher_weights: 't1', ...o,
});

describe('leaf merge: which shards belong to one run', () => {
  test('the same inputs at different paths (digests agree) merge; the identity kept is the first shard\'s', () => {
    const set = readShardSet([shard('m0', 0, mine('/mnt/a')), shard('m1', 1, mine('/scratch/b'))]);
    assert.deepEqual(set.order, IDS);
    assert.equal(set.identity.data, '/mnt/a/train.jsonl');
    // eval: the model's path beside its weights fingerprint; teacher-cache: the models' paths beside the cache key.
    readShardSet([shard('e0', 0, { model: '/a/m', model_identity: 'f', data: '/a/d', data_sha256: 'd' }), shard('e1', 1, { model: '/b/m', model_identity: 'f', data: '/b/d', data_sha256: 'd' })]);
    readShardSet([shard('c0', 0, { teacher: '/a/t', student: '/a/s', cache: { teacher: 'x', samples: 'y' } }), shard('c1', 1, { teacher: '/b/t', student: '/b/s', cache: { teacher: 'x', samples: 'y' } })]);
  });

  test('another digest, another setting, or another path with no digest beside it is another run', () => {
    const other = (name: string, a: Record<string, unknown>, b: Record<string, unknown>, key: string) => {
      assert.throws(() => readShardSet([shard(`${name}0`, 0, a), shard(`${name}1`, 1, b)]),
        (e: Error) => e.message === `${join(tmp, `${name}1`)}: a shard of a different run (its ${key} differs from ${join(tmp, `${name}0`)}'s)`);
    };
    other('d', mine('/a'), mine('/a', { data_sha256: 'bbbb' }), 'data_sha256');
    other('w', mine('/a'), mine('/b', { teacher_weights: 't2' }), 'teacher_weights');
    other('s', mine('/a'), mine('/a', { method: 'random' }), 'method');
    other('n', { data: '/a/d', q: 1 }, { data: '/b/d', q: 1 }, 'data');
    other('h', mine('/a', { data_sha256: null }), mine('/b', { data_sha256: null }), 'data');
  });
});
