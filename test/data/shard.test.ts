import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interleaveIds, parseShard, takeShard } from '../../src/data/shard.js';

test('--shard i/n: position mod n; every item in exactly one shard; interleaving the shards gives the input order back', () => {
  const items = Array.from({ length: 11 }, (_, i) => `id${i}`);
  const shards = [0, 1, 2, 3].map((i) => takeShard(items, parseShard(`${i}/4`)));
  assert.deepEqual(shards[1], ['id1', 'id5', 'id9']);
  assert.deepEqual(shards.flat().sort(), [...items].sort());
  assert.deepEqual(interleaveIds(shards.map((ids, index) => ({ shard: { index, count: 4 }, problems: items.length, ids }))), items);
  assert.deepEqual(takeShard(items, undefined), items);
  assert.deepEqual(takeShard(['a'], parseShard('3/4')), []);
  for (const bad of ['4/4', '1/0', 'x', '1/2/3', '-1/2']) assert.throws(() => parseShard(bad), /--shard/, bad);
});

test('--shard auto: Kubernetes JOB_COMPLETION_INDEX with --shard-count; Slurm array id minus its minimum, of its task count', () => {
  assert.deepEqual(parseShard('auto', { JOB_COMPLETION_INDEX: '2' }, 5), { index: 2, count: 5 });
  assert.throws(() => parseShard('auto', { JOB_COMPLETION_INDEX: '2' }), /needs --shard-count n/);
  assert.throws(() => parseShard('auto', { JOB_COMPLETION_INDEX: '5' }, 5), /JOB_COMPLETION_INDEX: shard index 5 is not in 0\.\.4/);
  assert.deepEqual(parseShard('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 3, count: 4 });
  assert.deepEqual(parseShard('auto', { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 2, count: 4 });
  assert.throws(() => parseShard('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '9', SLURM_ARRAY_TASK_COUNT: '5', SLURM_ARRAY_TASK_STEP: '2' }), /SLURM_ARRAY_TASK_STEP is 2/);
  assert.throws(() => parseShard('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '9', SLURM_ARRAY_TASK_COUNT: '3' }), /contiguous array/);
  assert.throws(() => parseShard('auto', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }, 3), /--shard-count 3 but the Slurm array has 2 tasks/);
  assert.throws(() => parseShard('auto', {}), /neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
});
