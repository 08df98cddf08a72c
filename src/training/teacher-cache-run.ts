/**
 * `leaf teacher-cache`: the teacher's top-K cache built on its own (teacher-cache.ts), from the same
 * samples `leaf distill` trains on — built by distill's own phases (distill-setup.ts loadModels and
 * loadData) from the same data flags — into a resumable run folder that `leaf distill --teacher-cache`
 * reads. With `--shard i/n` each process builds one part (data/shard.ts) and `leaf merge` joins them
 * (teacher-cache-merge.ts) into the folder one build would have written, byte for byte.
 *
 * Partition: the teacher's forwards are the unit. The samples, in distill's order, are cut into
 * blocks of --micro-batch-size (the build's batch: block b = samples [b·B, (b+1)·B)); block b belongs
 * to shard b mod n. So every shard runs exactly the teacher forwards the single build runs, and a
 * cached row never depends on which shard computed it (batched forwards pad, so a sample's rows carry
 * float rounding of its batch mates: partitioning samples one by one would change bytes).
 *
 * Folder: run.json (identity: models, input digests, settings, the cache's key parts; a shard adds
 * `shard`), shard.json (sharded runs), samples.jsonl (per sample of the folder: id, kind, rows, in
 * row order), teacher-cache.bin and teacher-cache.json.
 */
import { resolve } from 'node:path';
import { fileDigest, RunFolder } from '../data/run-folder.js';
import type { ShardedRunControl } from '../data/run-control.js';
import { takeShard, writeShardFile, type Shard, SHARD_FILE } from '../data/shard.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { Kernels } from '../kernels/types.js';
import type { Pretrained } from '../model/pretrained.js';
import { intAtLeast, option, resolveSpec, type ResolvedOf } from '../util/option-spec.js';
import { DISTILL_SPEC, resolveOptions, type DistillOptions, type RecordInput } from './distill-options.js';
import { loadData, loadModels } from './distill-setup.js';
import type { TrainSample } from './samples.js';
import { cacheKeyParts, TeacherCache, type TeacherCacheProgress } from './teacher-cache.js';
import { CACHE_DATA, CACHE_META, sampleRows, type CacheKeyParts } from './teacher-cache-file.js';

export const SAMPLES_FILE = 'samples.jsonl';

/** The build's tunable options (the sample-shaping ones are distill's own). */
export const TEACHER_CACHE_SPEC = {
  topK: DISTILL_SPEC.topK,
  temperature: DISTILL_SPEC.temperature,
  cfWeight: DISTILL_SPEC.cfWeight,
  maxLength: DISTILL_SPEC.maxLength,
  microBatchSize: option<number>({
    flag: '--micro-batch-size <b>', kind: 'int', default: 2, rule: intAtLeast(1),
    help: "samples per teacher forward; leaf distill's --micro-batch-size gives the bytes its own build would write",
  }),
  dtype: DISTILL_SPEC.dtype,
};

export type TeacherCacheSettings = ResolvedOf<typeof TEACHER_CACHE_SPEC>;

export interface TeacherCacheRunOptions extends Partial<TeacherCacheSettings>, ShardedRunControl {
  teacher: string | Pretrained;
  /** The student the cache is for: its tokenizer renders the samples, its vocabulary bounds the rows. */
  student: string | Pretrained;
  data: RecordInput;
  counterfactuals?: RecordInput | null;
  out: string;
  kernels?: Kernels;
  onProgress?: (p: TeacherCacheProgress) => void;
  onWarning?: (message: string) => void;
}

export interface TeacherCacheRunSummary {
  out: string;
  /** Samples and rows of the whole input, and of this folder (its shard). */
  samples: number;
  folderSamples: number;
  rows: number;
  k: number;
  built: TeacherCache['built'];
  meanRest: number;
  maxRest: number;
  shard: Shard | null;
}

/** Blocks of `size` consecutive sample indices (the build's teacher forwards). */
export function sampleBlocks(count: number, size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < count; i += size) out.push(Array.from({ length: Math.min(size, count - i) }, (_, j) => i + j));
  return out;
}

const inputPath = (x: RecordInput | null | undefined) => (x == null ? null : typeof x === 'string' ? resolve(x) : '<records>');
const inputDigest = (x: RecordInput | null | undefined) => (typeof x === 'string' ? fileDigest(x) : null);

/** OUT/run.json's identity: what the rows are made of (a resume must match it; merge compares it across shards). */
function identityOf(o: TeacherCacheRunOptions, c: TeacherCacheSettings, m: { teacher: Pretrained; student: Pretrained }, parts: CacheKeyParts, samples: number): Record<string, unknown> {
  return {
    teacher: resolve(m.teacher.dir), student: resolve(m.student.dir),
    data: inputPath(o.data), data_sha256: inputDigest(o.data),
    counterfactuals: inputPath(o.counterfactuals), counterfactuals_sha256: inputDigest(o.counterfactuals),
    ...c, strict: o.strict === true, samples, cache: parts,
    ...(o.shard ? { shard: o.shard } : {}),
  };
}

const samplesJsonl = (samples: readonly TrainSample[]) => samples.map((s) => JSON.stringify({ id: s.id, kind: s.kind, rows: sampleRows(s) }) + '\n').join('');

/** Builds (or resumes, or reuses) the cache of the options' shard in a locked run folder; see the module comment. An error rejects the promise. */
export async function buildTeacherCache(o: TeacherCacheRunOptions): Promise<TeacherCacheRunSummary> {
  const warn = o.onWarning ?? ((m: string) => process.stderr.write(`leaf: warning: ${m}\n`));
  const c = resolveSpec(TEACHER_CACHE_SPEC, o);
  const d: DistillOptions = {
    student: o.student, teacher: o.teacher, data: o.data, counterfactuals: o.counterfactuals ?? null, out: o.out, strict: o.strict === true, kernels: o.kernels,
    topK: c.topK, temperature: c.temperature, cfWeight: c.cfWeight, maxLength: c.maxLength, microBatchSize: c.microBatchSize, batchSize: c.microBatchSize, dtype: c.dtype, teacherLogits: 'cache',
  };
  const s = resolveOptions(d);
  const models = loadModels(d, s, warn);
  const teacher = models.teacher!;
  const { samples } = loadData(d, s, models, warn);
  const vocab = models.student.model.config.vocabSize;
  const parts = cacheKeyParts(models.teacherFingerprint!, samples, { k: c.topK, temperature: c.temperature, vocab });
  const blocks = sampleBlocks(samples.length, c.microBatchSize);
  const mine = takeShard(blocks, o.shard).flat().map((i) => samples[i]!);
  const out = resolve(o.out);
  const folder = RunFolder.open(out, { command: 'teacher-cache', resume: o.resume, overwrite: o.overwrite, records: [CACHE_DATA, CACHE_META], outputs: [SAMPLES_FILE, SHARD_FILE] });
  try {
    folder.identity(identityOf(o, c, { teacher, student: models.student }, parts, samples.length));
    if (o.shard) writeShardFile(out, o.shard, blocks.map((b) => b.map((i) => samples[i]!.id).join(' + ')));
    writeFileAtomicSync(folder.path(SAMPLES_FILE), samplesJsonl(mine));
    const cache = TeacherCache.openOrBuild(out, teacher.model, mine, {
      k: c.topK, temperature: c.temperature, vocab, batchSize: c.microBatchSize, teacherFingerprint: parts.teacher, onProgress: (done, total) => o.onProgress?.({ phase: 'teacher-cache', done, total }),
    });
    cache.close();
    return {
      out, samples: samples.length, folderSamples: mine.length, rows: mine.reduce((a, x) => a + sampleRows(x), 0), k: cache.k,
      built: cache.built, meanRest: cache.meanRest, maxRest: cache.maxRest, shard: o.shard ?? null,
    };
  } finally {
    folder.close();
  }
}
