import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LeafError } from '../../src/errors.js';
import { CheckpointFiles } from '../../src/io/checkpoint-files.js';
import { writeSafetensors, type TensorToWrite } from '../../src/io/safetensors-write.js';
import { goldenDir } from '../helpers/paths.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-ckpt-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

function tensor(name: string, n: number, seed: number): TensorToWrite {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = seed + i / 8;
  return { name, dtype: 'F32', shape: [n], data };
}

/** A sharded model folder: shard 1 holds a and b, shard 2 holds c; returns the folder. */
function sharded(edit?: (index: any, dir: string) => void): string {
  const dir = path.join(tmp, `model-${counter++}`);
  fs.mkdirSync(dir);
  writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), [tensor('a', 3, 1), tensor('b', 2, 10)], { format: 'pt' });
  writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), [tensor('c', 4, 100)], { format: 'pt' });
  const index: any = {
    metadata: { total_size: 36 },
    weight_map: { a: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' },
  };
  edit?.(index, dir);
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), typeof index === 'string' ? index : JSON.stringify(index));
  return dir;
}

function expectError(dir: string, ...parts: string[]): void {
  assert.throws(
    () => CheckpointFiles.open(dir),
    (e: unknown) => {
      assert.ok(e instanceof LeafError, `expected LeafError, got ${String(e)}`);
      for (const p of parts) assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} should contain ${JSON.stringify(p)}`);
      return true;
    },
  );
}

test('sharded folder: names, entries, reads', () => {
  const dir = sharded();
  const ck = CheckpointFiles.open(dir);
  assert.deepEqual(ck.names(), ['a', 'c', 'b']);
  assert.equal(ck.indexPath, path.join(dir, 'model.safetensors.index.json'));
  assert.equal(ck.files.length, 2);
  assert.equal(ck.entry('c').file, path.join(dir, 'model-00002-of-00002.safetensors'));
  assert.deepEqual(ck.entry('b').shape, [2]);
  assert.deepEqual(ck.readFloat32('a'), new Float32Array([1, 1.125, 1.25]));
  assert.deepEqual(ck.readFloat32('c'), new Float32Array([100, 100.125, 100.25, 100.375]));
  const into = new Float32Array(2);
  assert.equal(ck.readFloat32('b', into), into);
  assert.deepEqual(into, new Float32Array([10, 10.125]));
  assert.deepEqual(ck.metadata, { format: 'pt' });
  assert.ok(ck.has('a') && !ck.has('zz'));
  assert.throws(() => ck.readFloat32('zz'), (e: unknown) => e instanceof LeafError && e.message.includes('checkpoint has no tensor "zz"'));
  ck.close();
});

test('single-file folder, a direct file path, and single file winning over an index', () => {
  const fixture = path.join(goldenDir, 'llama-gqa-f32');
  const ck = CheckpointFiles.open(fixture);
  assert.equal(ck.indexPath, undefined);
  assert.equal(ck.names().length, 21);
  assert.equal(ck.entry('model.norm.weight').file, path.join(fixture, 'model.safetensors'));
  ck.close();
  const direct = CheckpointFiles.open(path.join(fixture, 'model.safetensors'));
  assert.equal(direct.names().length, 21);
  direct.close();
  const both = sharded((_index, dir) => writeSafetensors(path.join(dir, 'model.safetensors'), [tensor('solo', 1, 5)]));
  const b = CheckpointFiles.open(both);
  assert.deepEqual(b.names(), ['solo']);
  b.close();
});

test('missing shard', () => {
  const dir = sharded((index) => {
    index.weight_map.c = 'model-00003-of-00002.safetensors';
  });
  expectError(dir, 'model.safetensors.index.json: shard "model-00003-of-00002.safetensors" (listed for tensor "c") does not exist');
});

test('mapped tensor not in its shard', () => {
  const dir = sharded((index) => {
    index.weight_map.c = 'model-00001-of-00002.safetensors';
  });
  expectError(dir, 'tensor "c" is mapped to shard "model-00001-of-00002.safetensors"', 'has no such tensor');
  const extra = sharded((index) => {
    index.weight_map.ghost = 'model-00002-of-00002.safetensors';
  });
  expectError(extra, 'tensor "ghost"', 'model-00002-of-00002.safetensors has no such tensor');
});

test('corrupt shard: the shard file is named', () => {
  const dir = sharded((_index, d) => {
    const p = path.join(d, 'model-00002-of-00002.safetensors');
    fs.truncateSync(p, fs.statSync(p).size - 2);
  });
  expectError(dir, 'model-00002-of-00002.safetensors: tensor "c"', 'truncated');
});

test('index validation: JSON, weight_map shape, shard names', () => {
  const cases: Array<[unknown, string]> = [
    ['{"weight_map": ', 'model.safetensors.index.json: not valid JSON'],
    ['[1]', 'index must be a JSON object'],
    [{ metadata: {} }, 'missing "weight_map"'],
    [{ weight_map: ['a'] }, '"weight_map" must be an object'],
    [{ weight_map: {} }, '"weight_map" is empty'],
    [{ weight_map: { a: 3 } }, '"weight_map" entry for tensor "a" must be a shard file name'],
    [{ weight_map: { a: '../model-00001-of-00002.safetensors' } }, 'shard "../model-00001-of-00002.safetensors" must be a plain file name'],
    [{ weight_map: { a: '/etc/passwd' } }, 'must be a plain file name'],
    [{ weight_map: { a: '..' } }, 'must be a plain file name'],
    [{ weight_map: { a: '' } }, 'must be a plain file name'],
  ];
  for (const [content, msg] of cases) {
    const dir = sharded();
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), typeof content === 'string' ? content : JSON.stringify(content));
    expectError(dir, msg);
  }
});

test('folder without weights, missing folder', () => {
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  expectError(empty, `${empty}: no model.safetensors or model.safetensors.index.json`);
  expectError(path.join(tmp, 'does-not-exist'), 'cannot open checkpoint', 'ENOENT');
});

test('a failed sharded open closes the shards it had opened', () => {
  let before: number;
  try {
    before = fs.readdirSync('/proc/self/fd').length;
  } catch {
    return;
  }
  const dir = sharded((index) => {
    index.weight_map.ghost = 'model-00002-of-00002.safetensors';
  });
  for (let i = 0; i < 50; i++) assert.throws(() => CheckpointFiles.open(dir), LeafError);
  assert.equal(fs.readdirSync('/proc/self/fd').length, before);
});
