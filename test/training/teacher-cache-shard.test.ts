/**
 * `leaf teacher-cache` as a library call: shards merged = one build, byte for byte (every file of the
 * folder), for several shard counts and batch sizes; `distill --teacher-cache` on the built (or merged)
 * folder trains exactly as distill building its cache inline (same per-step losses, same final weights,
 * same checkpoint); a cache that does not fit the run is refused in one line naming what differs.
 * (The kill-and-resume recipe with processes is in test/cli/shard-merge.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readShardSet } from '../../src/data/merge-shards.js';
import { distill } from '../../src/training/trainer.js';
import { CACHE_META } from '../../src/training/teacher-cache-file.js';
import { mergeTeacherCacheShards } from '../../src/training/teacher-cache-merge.js';
import { buildTeacherCache, type TeacherCacheRunOptions } from '../../src/training/teacher-cache-run.js';
import type { TeacherCacheProgress } from '../../src/training/teacher-cache.js';
import { assertProgress } from '../helpers/progress.js';
import { CF_RECORDS, TRAIN_RECORDS, writeJsonl, writeTinyModel } from '../helpers/tiny-distill.js';

const files = (d: string) => readdirSync(d).filter((f) => f !== 'leaf.lock' && f !== 'shard.json').sort();
const metricsOf = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>).map((m) => [m.step, m.loss, m.kd_original, m.kd_counterfactual]);
const weightsOf = (out: string) => readFileSync(join(out, 'model', 'model.safetensors'));

describe('teacher cache built on its own, sharded and merged', () => {
  let dir = '';
  let base: TeacherCacheRunOptions;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-cache-shards-'));
    const teacher = writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 5, std: 0.5 });
    const student = writeTinyModel(join(dir, 'student'), { hidden: 32, layers: 1, seed: 7, std: 0.3 });
    const more = Array.from({ length: 7 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + ${2 * i}?`, response: `${i} + ${2 * i} = ${3 * i}.${' So it is.'.repeat(i % 3)}` }));
    const data = writeJsonl(join(dir, 'train.jsonl'), [...TRAIN_RECORDS, ...more]);
    const cfs = writeJsonl(join(dir, 'cf.jsonl'), CF_RECORDS);
    base = { teacher, student, data, counterfactuals: cfs, out: '', topK: 8, temperature: 1.5, microBatchSize: 2, onWarning: () => {} };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const build = (out: string, extra: Partial<TeacherCacheRunOptions> = {}) => buildTeacherCache({ ...base, out: join(dir, out), ...extra });
  const merge = (out: string, shards: string[]) => mergeTeacherCacheShards(readShardSet(shards.map((s) => join(dir, s))), join(dir, out));
  const sameFolder = (a: string, b: string) => {
    assert.deepEqual(files(join(dir, a)), files(join(dir, b)));
    for (const f of files(join(dir, a))) assert.ok(readFileSync(join(dir, a, f)).equals(readFileSync(join(dir, b, f))), `${a}/${f} differs from ${b}/${f}`);
  };

  for (const [n, batch] of [[2, 2], [3, 2], [3, 3], [9, 2]] as const) {
    it(`${n} shards at --micro-batch-size ${batch}, merged in any order = one build, byte for byte`, async () => {
      const single = await build(`single-${batch}`, { microBatchSize: batch, resume: true }); // built once per batch size, reused after
      assert.equal(single.samples, 15, 'the 13 train records and 2 usable counterfactuals');
      let shared = 0;
      for (let i = 0; i < n; i++) {
        const events: TeacherCacheProgress[] = [];
        const s = await build(`s${n}-${batch}-${i}`, { microBatchSize: batch, shard: { index: i, count: n }, onProgress: (p) => events.push({ ...p }) });
        assert.equal(assertProgress(events, 'teacher-cache').at(-1)!.total, s.folderSamples);
        shared += s.folderSamples;
      }
      assert.equal(shared, single.samples);
      const m = merge(`merged-${n}-${batch}`, Array.from({ length: n }, (_, i) => `s${n}-${batch}-${n - 1 - i}`));
      assert.equal(m.rows, single.rows);
      sameFolder(`merged-${n}-${batch}`, `single-${batch}`);
    });
  }

  it('why the partition is over whole teacher forwards: a sample\'s rows depend on its batch mates (batch 3 vs batch 2: other bytes, same rows)', () => {
    const a = readFileSync(join(dir, 'single-2', 'teacher-cache.bin')), b = readFileSync(join(dir, 'single-3', 'teacher-cache.bin'));
    assert.equal(a.length, b.length);
    assert.ok(!a.equals(b), 'batched forwards gave the same bytes at another batch composition: the blocks would not be needed');
  });

  it('merge refuses shards of a build with other settings and an unfinished shard, in one line each', async () => {
    await build('k4-0', { topK: 4, shard: { index: 0, count: 2 } });
    await build('s2-2-1-copy', { shard: { index: 1, count: 2 } });
    assert.throws(() => merge('x1', ['k4-0', 's2-2-1-copy']), /^LeafError: .*s2-2-1-copy: a shard of a different run \(its topK differs from .*k4-0's\)$/);
    const meta = join(dir, 's2-2-1-copy', CACHE_META);
    writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, 'utf8')), complete: false }));
    assert.throws(() => merge('x2', ['s2-2-0', 's2-2-1-copy']), /s2-2-1-copy: shard 1\/2 has not finished \(teacher-cache\.json missing or complete: false\); resume it/);
  });

  const distillArgs = (out: string, extra: Record<string, unknown> = {}) => ({
    student: base.student as string, teacher: base.teacher as string, data: base.data, counterfactuals: base.counterfactuals, out: join(dir, out),
    topK: 8, temperature: 1.5, epochs: 2, batchSize: 4, microBatchSize: 2, lr: 1e-3, warmup: 1, checkpointInterval: 0, onWarning: () => {}, ...extra,
  });

  it('distill --teacher-cache (one build, or merged shards) trains exactly as distill building its cache inline', async () => {
    const inline = await distill(distillArgs('d-inline', { teacherLogits: 'cache' }));
    assert.equal(inline.teacherCache, 'built');
    for (const cache of ['single-2', 'merged-3-2']) {
      const s = await distill(distillArgs(`d-${cache}`, { teacherCache: join(dir, cache) }));
      assert.equal(s.teacherCache, 'reused');
      assert.deepEqual(metricsOf(join(dir, `d-${cache}`)), metricsOf(join(dir, 'd-inline')));
      assert.ok(weightsOf(join(dir, `d-${cache}`)).equals(weightsOf(join(dir, 'd-inline'))), `${cache}: other final weights`);
      assert.equal(readFileSync(join(dir, `d-${cache}`, 'run.json'), 'utf8'), readFileSync(join(dir, 'd-inline', 'run.json'), 'utf8'));
      assert.deepEqual(readdirSync(join(dir, `d-${cache}`)).filter((f) => f.startsWith('teacher-cache')), [], 'nothing built in the run folder');
    }
    assert.ok(readFileSync(join(dir, 'd-inline', 'teacher-cache.bin')).equals(readFileSync(join(dir, 'single-2', 'teacher-cache.bin'))), 'the inline cache has the same bytes');
  });

  it('distill refuses a cache that does not fit the run, in one line naming what differs', async () => {
    const refused = async (extra: Record<string, unknown>, re: RegExp) => {
      await assert.rejects(() => distill(distillArgs(`r-${Math.random().toString(36).slice(2)}`, { teacherCache: join(dir, 'single-2'), ...extra })), (e: Error) => {
        assert.match(e.message, re);
        assert.equal(e.message.split('\n').length, 1);
        return true;
      });
    };
    await refused({ topK: 16 }, /single-2\/teacher-cache\.json: built with --top-k 8, this run has 16$/);
    await refused({ temperature: 1 }, /built with --temperature 1\.5, this run has 1$/);
    await refused({ teacher: writeTinyModel(join(dir, 'teacher2'), { hidden: 32, layers: 2, seed: 6, std: 0.5 }) }, /built with another teacher: weights [0-9a-f]{16}, this run has [0-9a-f]{16}$/);
    await refused({ counterfactuals: null }, /built from other samples \(digest [0-9a-f]{16}, this run's [0-9a-f]{16}\): other --data, --counterfactuals/);
    await refused({ teacherCache: join(dir, 'nowhere') }, /nowhere\/teacher-cache\.json: missing or unreadable/);
    await refused({ teacherCache: join(dir, 's2-2-1-copy') }, /the cache is not complete/);
    await refused({ teacherLogits: 'online' }, /--teacher-cache needs --teacher-logits cache/);
  });
});
