/**
 * The phases of distill() before training (trainer.ts runs them in order):
 *   loadModels    the student and (unless --loss ce) the teacher, checked to be distillable together;
 *   loadData      train records and counterfactuals → samples, pairing, validation samples;
 *   runSettings   what a --resume must match (OUT/run.json) and its key (stored in every checkpoint);
 *   teacherRows   where the teacher's rows come from: online forwards, or the top-K cache built (or reused) once,
 *                 or one built beforehand (--teacher-cache: leaf teacher-cache, merged shards).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { InvalidRecord } from '../data/jsonl.js';
import { LeafError } from '../errors.js';
import type { Kernels } from '../kernels/types.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { loadPretrained, sameTokenizer, type Pretrained } from '../model/pretrained.js';
import type { WeightDtype } from '../model/weights.js';
import type { DistillOptions, DistillSummary, RecordInput, Resolved } from './distill-options.js';
import type { TeacherSource } from './micro-step.js';
import { missingSourceMessage, pairSamples, type Pairing } from './pairing.js';
import {
  parseCounterfactualRecord, parseTrainRecord, readCounterfactualRecords, readTrainRecords,
  type DistillRecord, type RecordsRead,
} from './records.js';
import { buildSamples, tokenizerSide, type SampleStats, type TrainSample } from './samples.js';
import { cacheKeyParts, TeacherCache } from './teacher-cache.js';

type Warn = (message: string) => void;

export interface Models {
  student: Pretrained;
  /** Null for --loss ce, and once a teacher cache holds everything needed from it. */
  teacher: Pretrained | null;
  teacherFingerprint: string | null;
}

export interface DistillData {
  train: RecordsRead;
  cf: RecordsRead | null;
  /** `file:line: reason` of every skipped input line. */
  inputIssues: string[];
  samples: TrainSample[];
  stats: SampleStats;
  pairing: Pairing | null;
  evalSamples: TrainSample[];
  evalStats: SampleStats | null;
}

export interface TeacherRows {
  source: TeacherSource;
  cache: TeacherCache | null;
  how: DistillSummary['teacherCache'];
  rest: { mean: number; max: number } | null;
}

function loadModelArg(x: string | Pretrained, what: string, kernels?: Kernels, dtype?: WeightDtype | 'auto'): Pretrained {
  if (typeof x !== 'string') return x;
  if (!fs.existsSync(x)) throw new LeafError(`--${what} ${x}: no such folder`);
  return loadPretrained(x, { kernels, dtype });
}

function readRecords(input: RecordInput, kind: 'train' | 'counterfactual', strict: boolean): RecordsRead {
  if (typeof input === 'string') {
    if (!fs.existsSync(input)) throw new LeafError(`${input}: no such file`);
    return kind === 'train' ? readTrainRecords(input, strict) : readCounterfactualRecords(input, strict);
  }
  const out: RecordsRead = { records: [], issues: [], unverified: 0, lines: input.length };
  input.forEach((r, i) => {
    const where = `${kind === 'train' ? 'data' : 'counterfactuals'}[${i}]`;
    try {
      const rec: DistillRecord | null = kind === 'train' ? parseTrainRecord(r) : parseCounterfactualRecord(r);
      if (rec === null) out.unverified++;
      else out.records.push({ ...rec, where });
    } catch (e) {
      if (!(e instanceof InvalidRecord)) throw e;
      if (strict) throw new LeafError(`${where}: ${e.reason}`);
      out.issues.push({ file: kind, line: i + 1, reason: e.reason });
    }
  });
  return out;
}

function hashSamples(samples: readonly TrainSample[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    h.update(`${s.kind}|${s.weight}|${s.responseStart}|${s.teacherResponseStart ?? ''}|${s.ids.length}|${s.teacherIds?.length ?? 0}|`);
    h.update(new Uint8Array(Int32Array.from(s.ids).buffer));
    if (s.teacherIds) h.update(new Uint8Array(Int32Array.from(s.teacherIds).buffer));
  }
  return h.digest('hex').slice(0, 16);
}

/** Phase 1: the student and the teacher it is distilled from (same tokenizer, vocabulary at least the student's). */
export function loadModels(o: DistillOptions, s: Resolved, warn: Warn): Models {
  const student = loadModelArg(o.student, 'student', o.kernels, s.dtype);
  const needsTeacher = s.loss !== 'ce';
  if (!needsTeacher && o.teacher) warn('--teacher is not used with --loss ce (training on the reference responses)');
  if (needsTeacher && !o.teacher) throw new LeafError(`--teacher is required for --loss ${s.loss} (or use --loss ce)`);
  const teacher = needsTeacher ? loadModelArg(o.teacher!, 'teacher', o.kernels, s.dtype) : null;
  const Vs = student.model.config.vocabSize;
  if (teacher) {
    if (!sameTokenizer(student.tokenizer, teacher.tokenizer)) {
      throw new LeafError(`the teacher (${teacher.dir}) and the student (${student.dir}) have different tokenizers; leaf distils between models that share one (token-level KD needs the same vocabulary)`);
    }
    const Vt = teacher.model.config.vocabSize;
    if (Vt < Vs) throw new LeafError(`the teacher's vocab_size (${Vt}) is smaller than the student's (${Vs}); cannot distil`);
    if (Vt > Vs) warn(`the teacher's vocab_size (${Vt}) is larger than the student's (${Vs}): teacher logits are truncated to the student's ${Vs} entries (as the reference does)`);
    if (teacher.model.floatType !== student.model.floatType) throw new LeafError('teacher and student must use the same float type');
  }
  return { student, teacher, teacherFingerprint: teacher ? modelFingerprint(teacher.model) : null };
}

/** Phase 2: the samples trained on (originals and counterfactuals, paired or mixed) and the validation samples. */
export function loadData(o: DistillOptions, s: Resolved, m: Models, warn: Warn): DistillData {
  const strict = o.strict === true;
  const train = readRecords(o.data, 'train', strict);
  const cf = o.counterfactuals ? readRecords(o.counterfactuals, 'counterfactual', strict) : null;
  const inputIssues = [...train.issues, ...(cf?.issues ?? [])].map((i) => `${i.file}:${i.line}: ${i.reason}`);
  for (const msg of inputIssues) warn(`skipped ${msg}`);
  if (cf && s.cfWeight === 0) warn('--cf-weight 0: the counterfactuals are left out (plain KD)');
  const studentSide = tokenizerSide(m.student);
  const teacherSide = m.teacher ? tokenizerSide(m.teacher) : null;
  const maxPositions = Math.min(m.student.model.config.maxPositionEmbeddings, m.teacher?.model.config.maxPositionEmbeddings ?? Infinity);
  const { samples, stats } = buildSamples([...train.records, ...(cf?.records ?? [])], studentSide, teacherSide, { maxLength: s.maxLength, cfWeight: s.cfWeight, strict, maxPositions });
  for (const msg of stats.issues) warn(`left out ${msg}`);
  warnLeftOut(stats, warn);
  if (stats.truncated > 0) warn(`${stats.truncated} of ${stats.samples} samples were truncated to --max-length ${s.maxLength} tokens`);
  if (samples.length === 0) {
    const where = typeof o.data === 'string' ? o.data : '--data';
    throw new LeafError(train.records.length === 0 && inputIssues.length === 0
      ? `${where}: no training records (the file is empty)`
      : `${where}: no training samples (${train.records.length} record(s) read, ${inputIssues.length} line(s) skipped, ${stats.dropped} sample(s) left out; see the warnings above)`);
  }
  // Paired counterfactuals (pairing.ts): steps are planned over the originals, each counterfactual joins its original's step.
  const pairing: Pairing | null = s.pairCounterfactuals ? pairSamples(samples) : null;
  if (pairing) {
    const msg = missingSourceMessage(pairing);
    if (msg) warn(msg);
    if (pairing.originals.length === 0) throw new LeafError('--pair-counterfactuals: no original sample to plan the steps over (see the warnings above)');
  }
  let evalSamples: TrainSample[] = [];
  let evalStats: SampleStats | null = null;
  if (o.evalData) {
    const ev = readRecords(o.evalData, 'train', strict);
    for (const i of ev.issues) warn(`skipped ${i.file}:${i.line}: ${i.reason}`);
    const built = buildSamples(ev.records, studentSide, null, { maxLength: s.maxLength, cfWeight: 0, strict, maxPositions });
    warnLeftOut(built.stats, warn);
    evalSamples = built.samples;
    evalStats = built.stats;
    if (evalSamples.length === 0) throw new LeafError('--eval-data has no usable record');
  } else if (s.evalEvery > 0) {
    throw new LeafError('--eval-every needs --eval-data');
  }
  return { train, cf, inputIssues, samples, stats, pairing, evalSamples, evalStats };
}

/** One warning line per kind of sample left out in bulk (duplicate ids, longer than the context); the lists are in summary.json. */
function warnLeftOut(stats: SampleStats, warn: Warn): void {
  if (stats.duplicates.length > 0) warn(`${stats.duplicates.length} record(s) left out: their id was seen before (first: ${stats.duplicates[0]}); listed in summary.json data.samples.duplicates`);
  if (stats.overContext.length > 0) warn(`${stats.overContext.length} sample(s) left out: longer than max_position_embeddings (first: ${stats.overContext[0]}); listed in summary.json data.samples.overContext`);
}

/** Phase 3: the settings a --resume must match (OUT/run.json) and their key (kept in every checkpoint). */
export function runSettings(o: DistillOptions, s: Resolved, m: Models, d: DistillData): { settings: Record<string, unknown>; key: string } {
  const settings: Record<string, unknown> = {
    ...s,
    student: resolve(m.student.dir),
    teacher: m.teacher ? resolve(m.teacher.dir) : null,
    teacherWeights: m.teacherFingerprint?.slice(0, 16) ?? null,
    data: typeof o.data === 'string' ? resolve(o.data) : '<records>',
    counterfactuals: o.counterfactuals ? (typeof o.counterfactuals === 'string' ? resolve(o.counterfactuals) : '<records>') : null,
    samples: hashSamples(d.samples),
    evalSamples: d.evalSamples.length ? hashSamples(d.evalSamples) : null,
  };
  for (const k of ['keepCheckpoints', 'saveDtype', 'saveEvery', 'checkpointInterval', 'maxBadSteps']) delete settings[k];
  if (d.pairing) settings.pairing = createHash('sha256').update(JSON.stringify(d.pairing.counterfactualsOf)).digest('hex').slice(0, 16);
  else delete settings.pairCounterfactuals; // the default: run.json as before the option existed
  return { settings, key: createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16) };
}

/** Phase 4: the teacher's rows — online forwards, or the top-K cache (after which the teacher is let go: m.teacher = null). */
export function teacherRows(out: string, o: DistillOptions, s: Resolved, m: Models, samples: readonly TrainSample[], warn: Warn): TeacherRows {
  if (!m.teacher) return { source: { kind: 'none' }, cache: null, how: null, rest: null };
  if (s.teacherLogits !== 'cache') return { source: { kind: 'online', model: m.teacher.model }, cache: null, how: null, rest: null };
  const vocab = m.student.model.config.vocabSize;
  const cache = o.teacherCache
    ? TeacherCache.open(o.teacherCache, cacheKeyParts(m.teacherFingerprint!, samples, { k: s.topK, temperature: s.temperature, vocab }), samples)
    : TeacherCache.openOrBuild(out, m.teacher.model, samples, {
      k: s.topK, temperature: s.temperature, vocab, batchSize: s.microBatchSize, teacherFingerprint: m.teacherFingerprint!,
      onProgress: (done, total) => o.onProgress?.({ phase: 'teacher-cache', done, total }),
    });
  if (cache.meanRest > 0.05) {
    warn(`the teacher keeps on average ${(100 * cache.meanRest).toFixed(1)}% of its probability outside its top ${cache.k} tokens: the cached loss underestimates the exact one by about that share of the tail divergence; raise --top-k or use --teacher-logits online`);
  }
  if (s.loss === 'rkl') warn('--loss rkl with a teacher cache: reverse KL weighs the tokens the teacher finds unlikely, which the cache lumps into one; the cached loss can be far from the exact one (see docs/distill.md)');
  m.teacher = null; // not needed any more: a teacher loaded here can be garbage-collected
  return { source: { kind: 'cache', cache }, cache, how: cache.built, rest: { mean: cache.meanRest, max: cache.maxRest } };
}
