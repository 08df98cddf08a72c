/**
 * `leaf mine` as a library: LeaF stage 1 — confounder mining.
 *
 * For each problem of the input, in order:
 *  1. select: the student and the teacher answer the prompt (greedy, chat template; teacher
 *     answers may be given instead), the judges check them; only student-wrong, teacher-right
 *     problems go on (generations.ts, cached);
 *  2. score each unit (the prompt; or, at response level, the response before each segment j ≥ 2)
 *     with the chosen method (score.ts) and append its scores record;
 *  3. prune the spans (counterfactuals.ts), verify them (both models answer the pruned input, a
 *     counterfactual is kept only when both are right) and append the counterfactual records.
 * Records are appended whole and flushed (RecordLog); `resume` continues after the last complete
 * problem (resume.ts); summary.json is rewritten atomically after every problem and at the end.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LeafError } from '../errors.js';
import { fileDigest, inRunFolder, type RunFolder } from '../data/run-folder.js';
import { CodePool, probeIsolation, sandboxWarning } from '../eval/code/index.js';
import type { Task } from '../eval/formats/index.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { loadPretrained, sameTokenizer, type Pretrained } from '../model/pretrained.js';
import { buildCounterfactuals, type CounterfactualDraft, type CounterfactualRecord, type Level, type Pruning } from './counterfactuals.js';
import { GenerationCache, judgeGiven, orderGenerationCache, type Answer, type GenerationRecord, type GenerationRequest } from './generations.js';
import { loadMiningData, loadTeacherOutputs, type MiningProblem } from './input.js';
import type { ThresholdRule } from './normalize.js';
import { prepareResume } from './resume.js';
import { MINING_METHODS, scoreUnit, type MiningMethod, type ScoreSettings, type UnitScore } from './score.js';
import { splitResponse } from './segments.js';
import type { Removal } from './spans.js';
import type { Unit } from './units.js';
import { DetectionTally } from './detection.js';
import { checkUnitOptions, protectOf } from './mine-units.js';
import type { MiningUnit } from './flagging.js';
import { passes, verifyMode, type VerifyMode } from './verify.js';
import { takeShard, writeShardFile, type Shard } from '../data/shard.js';

export interface MineProgress {
  done: number;
  total: number;
  selected: number;
  counterfactuals: number;
  verified: number;
}

export interface MineOptions {
  /** Model folders, or models already loaded. */
  teacher: string | Pretrained;
  student: string | Pretrained;
  /** Mining input (leaf format JSONL). */
  data: string;
  /** Output folder. */
  out: string;
  /** Only problems of this task (others are skipped with a warning); default all. */
  task?: Task;
  level?: Level;
  /** Response level: number of segments k (default 2). */
  segments?: number;
  method?: MiningMethod;
  /** Fraction q of a unit's tokens to flag (the reference rule; default 0.10). */
  threshold?: number;
  /** Flag D ≤ τ instead of the quantile rule. */
  thresholdAbs?: number;
  pruning?: Pruning;
  /** Mining unit: token (the reference rule, default) or sentence (flagging.ts). */
  unit?: MiningUnit;
  /** Sentence unit: flag the k lowest units instead of the threshold rule. */
  topUnits?: number;
  /** Instruction level: the prompt's last sentence (the question) is protected — never scored or cut. */
  protectLastSentence?: boolean;
  /** Which models must answer a counterfactual right (verify.ts; default both; true = both, false = none). */
  verify?: boolean | VerifyMode;
  /** Verification also requires the reference response's worked equations (verify.ts). */
  verifyEquations?: boolean;
  /** JSONL `{id, response}` of teacher answers used instead of generating them in selection. */
  teacherOutputs?: string;
  limit?: number;
  resume?: boolean;
  /** Start scores/counterfactuals over (cached generations are kept). */
  overwrite?: boolean;
  /** The generation cache (default OUT/generations.jsonl); runs of several methods on the same models and data may share one, one run at a time. */
  generations?: string;
  seed?: number;
  strict?: boolean;
  /** Prompts decoded together (and occlusion forward batch). */
  batchSize?: number;
  maxNewTokens?: number;
  /** Code sandbox workers. */
  workers?: number;
  allowNetwork?: boolean;
  /** fsync every record (default true); false only flushes to the OS (survives a process kill, not a power cut). */
  fsync?: boolean;
  /** Mine only this shard of the problems (data/shard.ts); `leaf merge` joins the shards' folders. */
  shard?: Shard;
  onProgress?: (p: MineProgress) => void;
  onWarning?: (message: string) => void;
  /** Called after each record is appended (tests use it to interrupt a run). */
  onRecord?: (file: 'scores' | 'counterfactuals' | 'generations', record: unknown) => void;
}

/** One line of scores.jsonl: a unit's scores (without the timings) and where the unit comes from. */
export interface ScoreRecord extends Omit<UnitScore, 'loss' | 'constantDiff' | 'computeMs' | 'backwardMs'> {
  id: string;
  source_id: string;
  level: Level;
  segment: number | null;
  method: MiningMethod;
  loss: UnitScore['loss'] | null;
}

/**
 * Why a scored unit has no candidate:
 *  - `no-tokens`: the scored text has no token;
 *  - `constant-diff`: D is the same for every token (a single token, or both models' normalised
 *    scores equal): nothing ranks one token below another, so nothing is flagged. The reference
 *    skips the min–max step when max == min and would then flag every token or none depending on
 *    the raw gradient difference (≤ 0.5 or not) — an artefact; for a one-token prompt it would
 *    cut the whole prompt;
 *  - `none-flaggable`: every token at or below the threshold is protected (whitespace only, a
 *    lone backslash), or, with --threshold-abs, no D is at or below τ.
 */
export type NoCandidateReason = 'no-tokens' | 'constant-diff' | 'none-flaggable';

export interface MineSummary {
  complete: boolean;
  data: string;
  out: string;
  teacher: string;
  student: string;
  tokenizers: 'same' | 'different';
  settings: {
    level: Level; segments: number | null; method: MiningMethod; threshold: ThresholdRule; pruning: Pruning; verify: VerifyMode;
    unit: MiningUnit; top_units: number | null; protect_last_sentence: boolean; verify_equations: boolean;
    teacher_outputs: string | null; limit: number | null; seed: number; batch_size: number; max_new_tokens: number; task: Task | null;
    decoding: 'greedy';
  };
  counts: {
    lines: number;
    problems: number;
    skipped_lines: number;
    resumed_problems: number;
    student_wrong: number;
    teacher_right: number;
    selected: number;
    scored_units: number;
    unscored_units: number;
    /** Scored units in which no token was flagged (listed in `no_candidates` with the reason). */
    units_without_candidates: number;
    /** Of which: D constant over the unit (e.g. a single token) — no ranking, nothing flagged. */
    constant_diff_units: number;
    candidates: number;
    spans: number;
    counterfactuals: number;
    empty_after_pruning: number;
    verified: number;
    rejected: number;
    unverified: number;
  };
  /** `file:line: reason` of every skipped input line. */
  skipped: string[];
  /** Units that could not be scored: problem id, segment, reason. */
  unscored: Array<{ source_id: string; segment: number | null; reason: string }>;
  /** Scored units without a candidate, and why (see NoCandidateReason). */
  no_candidates: Array<{ source_id: string; segment: number | null; reason: NoCandidateReason; tokens: number }>;
  generated: { student: number; teacher: number };
  /** Requests whose cached answers all came from another model or input (see generations.ts), decoded anew. */
  stale_cached_answers: number;
  /** Detection against the records' ground-truth distractor_spans (detection.ts); null when no scored problem has them. */
  detection: ReturnType<DetectionTally['summary']>;
  timings: { load_s: number; selection_s: number; scoring_s: number; scoring_model_s: number; verification_s: number; total_s: number };
}

function loadModels(o: MineOptions): { teacher: Pretrained; student: Pretrained } {
  const load = (x: string | Pretrained): Pretrained => (typeof x === 'string' ? loadPretrained(x) : x);
  return { student: load(o.student), teacher: load(o.teacher) };
}

function checkOptions(o: MineOptions): void {
  if (o.level !== undefined && o.level !== 'instruction' && o.level !== 'response') throw new LeafError(`--level must be instruction or response, got ${String(o.level)}`);
  if (o.method !== undefined && !MINING_METHODS.includes(o.method)) throw new LeafError(`--method must be one of ${MINING_METHODS.join(', ')}, got ${String(o.method)}`);
  if (o.pruning !== undefined && o.pruning !== 'span' && o.pruning !== 'collective') throw new LeafError(`--pruning must be span or collective, got ${String(o.pruning)}`);
  if (o.threshold !== undefined && o.thresholdAbs !== undefined) throw new LeafError('give --threshold q or --threshold-abs τ, not both');
  if (o.threshold !== undefined && !(o.threshold >= 0 && o.threshold <= 1)) throw new LeafError(`--threshold must be a fraction in [0, 1], got ${o.threshold}`);
  if (o.thresholdAbs !== undefined && !Number.isFinite(o.thresholdAbs)) throw new LeafError(`--threshold-abs must be a number, got ${o.thresholdAbs}`);
  if (o.segments !== undefined && !(Number.isInteger(o.segments) && o.segments >= 2)) throw new LeafError(`--segments must be an integer ≥ 2, got ${o.segments}`);
  if (o.segments !== undefined && o.level !== 'response') throw new LeafError('--segments needs --level response');
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new LeafError(`--batch-size must be a positive integer, got ${o.batchSize}`);
  if (o.maxNewTokens !== undefined && !(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 1)) throw new LeafError(`--max-new-tokens must be a positive integer, got ${o.maxNewTokens}`);
  checkUnitOptions(o);
}

/** Settings a resume must keep (--limit and --batch-size may change). */
const RESUME_KEYS = ['level', 'segments', 'method', 'threshold', 'pruning', 'verify', 'teacher_outputs', 'seed', 'max_new_tokens', 'task', 'unit', 'top_units', 'protect_last_sentence', 'verify_equations'] as const;

function nonEmpty(file: string): boolean {
  return existsSync(file) && statSync(file).size > 0;
}

/** Runs the mining pipeline in its locked output folder; see the module comment. Returns (and writes) the summary. */
export async function mine(options: MineOptions): Promise<MineSummary> {
  checkOptions(options);
  return inRunFolder(options.out, {
    command: 'mine', resume: options.resume === true, overwrite: options.overwrite === true,
    records: ['scores.jsonl', 'counterfactuals.jsonl'], outputs: ['summary.json'], note: 'cached generations are kept',
  }, (folder) => mineIn(folder, options));
}

async function mineIn(folder: RunFolder, options: MineOptions): Promise<MineSummary> {
  const t0 = performance.now();
  const level: Level = options.level ?? 'instruction';
  const k = level === 'response' ? options.segments ?? 2 : null;
  const method: MiningMethod = options.method ?? 'gradient';
  const rule: ThresholdRule = options.thresholdAbs !== undefined ? { kind: 'absolute', tau: options.thresholdAbs } : { kind: 'quantile', q: options.threshold ?? 0.1 };
  const pruning: Pruning = options.pruning ?? 'span';
  const verify = verifyMode(options.verify);
  const unitKind: MiningUnit = options.unit ?? 'token';
  const seed = options.seed ?? 1234;
  const batchSize = options.batchSize ?? 8;
  const maxNewTokens = options.maxNewTokens ?? 1024;
  const warn = (m: string) => options.onWarning?.(m);
  const settings: MineSummary['settings'] = {
    level, segments: k, method, threshold: rule, pruning, verify, teacher_outputs: options.teacherOutputs ?? null,
    limit: options.limit ?? null, seed, batch_size: batchSize, max_new_tokens: maxNewTokens, task: options.task ?? null, decoding: 'greedy',
    unit: unitKind, top_units: options.topUnits ?? null, protect_last_sentence: options.protectLastSentence === true, verify_equations: options.verifyEquations === true,
  };

  const files = {
    scores: join(options.out, 'scores.jsonl'),
    counterfactuals: join(options.out, 'counterfactuals.jsonl'),
    generations: options.generations ?? join(options.out, 'generations.jsonl'),
    summary: join(options.out, 'summary.json'),
  };
  let done = new Set<string>();
  let previousUnscored: MineSummary['unscored'] = [];
  let previousNoCandidates: MineSummary['no_candidates'] = [];
  let legacySettings = false;
  if (options.resume) {
    let prev: Partial<MineSummary> | null = null;
    if (existsSync(files.summary)) {
      try {
        prev = JSON.parse(readFileSync(files.summary, 'utf8')) as Partial<MineSummary>;
      } catch {
        prev = null;
      }
    }
    legacySettings = prev?.settings !== undefined;
    if (prev?.settings) {
      // Records of different settings must not be mixed in one output (limit and batch size may change).
      for (const key of RESUME_KEYS) {
        const was = JSON.stringify(prev.settings[key]), now = JSON.stringify(settings[key]);
        if (was !== now) throw new LeafError(`${files.summary}: --resume with a different ${key} (${now}, the run being resumed used ${was}); use the same settings or another --out`);
      }
    }
    previousUnscored = prev?.unscored ?? [];
    previousNoCandidates = prev?.no_candidates ?? [];
  }

  const input = loadMiningData(options.data, {
    ...(options.strict !== undefined ? { strict: options.strict } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.task !== undefined ? { task: options.task } : {}),
    onIssue: (m) => warn(`skipped ${m}`),
  });
  const data = { ...input, problems: takeShard(input.problems, options.shard) };
  if (input.problems.length === 0) throw new LeafError(`${options.data}: no problems to mine`);
  const given = options.teacherOutputs !== undefined ? loadTeacherOutputs(options.teacherOutputs) : null;
  if (given) {
    const missing = data.problems.find((p) => !given.has(p.problem.id));
    if (missing) throw new LeafError(`${options.teacherOutputs}: no teacher output for problem '${missing.problem.id}' (line ${missing.line} of ${options.data})`);
  }

  const tLoad = performance.now();
  const { teacher, student } = loadModels(options);
  const loadMs = performance.now() - tLoad;
  const tokenizers = sameTokenizer(student.tokenizer, teacher.tokenizer) ? 'same' : 'different';

  // What this output is made of (run.json, written before any record; a resume must match it).
  const fingerprints = { student: modelFingerprint(student.model), teacher: modelFingerprint(teacher.model) };
  folder.identity({
    ...Object.fromEntries(RESUME_KEYS.map((key) => [key, settings[key]])),
    data: resolve(options.data), data_sha256: fileDigest(options.data),
    teacher_outputs_sha256: options.teacherOutputs !== undefined ? fileDigest(options.teacherOutputs) : null,
    student: resolve(student.dir), student_weights: fingerprints.student.slice(0, 16),
    teacher: resolve(teacher.dir), teacher_weights: fingerprints.teacher.slice(0, 16),
    ...(options.shard ? { shard: options.shard } : {}),
  }, { hasRecords: nonEmpty(files.scores) || nonEmpty(files.counterfactuals), legacy: legacySettings });
  if (options.shard) writeShardFile(folder.dir, options.shard, input.problems.map((m) => m.problem.id));

  if (options.resume) {
    // Only now that the input and the models are known good: cut the in-flight problem's records.
    done = prepareResume(files.scores, files.counterfactuals).done;
    previousUnscored = previousUnscored.filter((u) => done.has(u.source_id));
    previousNoCandidates = previousNoCandidates.filter((u) => done.has(u.source_id));
  }
  const fsync = options.fsync ?? true;
  const genLog = folder.openLog<GenerationRecord>(files.generations, { resume: true, fsync, onAppend: (r) => options.onRecord?.('generations', r) });
  const scoresLog = folder.openLog<ScoreRecord>(files.scores, { fsync });
  const cfLog = folder.openLog<CounterfactualRecord>(files.counterfactuals, { fsync });
  // Per problem already done: its scores and counterfactual records' counts (for the summary).
  const doneCounts = new Map<string, { units: number; candidates: number; spans: number; cfs: CounterfactualRecord[]; scores: ScoreRecord[] }>();
  const entry = (sid: string) => {
    let e = doneCounts.get(sid);
    if (!e) doneCounts.set(sid, (e = { units: 0, candidates: 0, spans: 0, cfs: [], scores: [] }));
    return e;
  };
  for (const r of scoresLog.existing) {
    const e = entry(r.source_id);
    e.units++;
    e.candidates += r.candidates.length;
    e.spans += r.spans.length;
    e.scores.push(r);
  }
  for (const r of cfLog.existing) entry(r.source_id).cfs.push({ verified: r.verified } as CounterfactualRecord);
  const cache = new GenerationCache(genLog, maxNewTokens, { student, teacher }, fingerprints);
  let staleWarned = false;
  const warnStale = () => {
    if (cache.stale === 0 || staleWarned) return;
    staleWarned = true;
    warn(`${files.generations}: cached answers from another model or another rendering of the prompt (weights, chat template or leaf version changed) are not used and are decoded again; summary.json counts them (stale_cached_answers)`);
  };
  const generatedBefore = { student: 0, teacher: 0 };
  if (options.workers !== undefined && !data.problems.some((p) => p.problem.task === 'code')) warn('--workers only applies to code problems (the sandbox workers); ignored');
  const pool = data.problems.some((p) => p.problem.task === 'code')
    ? new CodePool({ ...(options.workers ? { concurrency: options.workers } : {}), defaults: { allowNetwork: options.allowNetwork ?? false } })
    : null;
  if (pool) {
    const weak = sandboxWarning(await probeIsolation());
    if (weak) warn(weak);
  }

  const summary: MineSummary = {
    complete: false,
    data: options.data,
    out: options.out,
    teacher: teacher.dir,
    student: student.dir,
    tokenizers,
    settings,
    counts: {
      lines: data.lines, problems: data.problems.length, skipped_lines: data.skipped.length, resumed_problems: 0,
      student_wrong: 0, teacher_right: 0, selected: 0, scored_units: 0, unscored_units: 0, units_without_candidates: 0, constant_diff_units: 0,
      candidates: 0, spans: 0,
      counterfactuals: 0, empty_after_pruning: 0, verified: 0, rejected: 0, unverified: 0,
    },
    skipped: data.skipped,
    unscored: [...previousUnscored],
    no_candidates: [],
    generated: { student: 0, teacher: 0 },
    stale_cached_answers: 0,
    detection: null,
    timings: { load_s: loadMs / 1000, selection_s: 0, scoring_s: 0, scoring_model_s: 0, verification_s: 0, total_s: 0 },
  };
  summary.counts.unscored_units = summary.unscored.length;
  const c = summary.counts;
  const detection = new DetectionTally();
  const truthOf = new Map(data.problems.map((m) => [m.problem.id, m]));
  /** Adds a scores record to the detection tally when its problem has ground truth (instruction level: the ranges are the prompt's). */
  const detect = (r: ScoreRecord) => {
    const m = truthOf.get(r.source_id);
    if (m?.truth && r.level === 'instruction') detection.add(r.text, r.tokens, r.candidates, m.truth, protectOf(m, options.protectLastSentence === true));
  };
  const timing = { gen: 0, score: 0, model: 0, verify: 0 };
  const summaryFile = folder.summary();
  /** The lists a resume reads back (per done problem), as last written. */
  const listed = () => summary.unscored.length + summary.no_candidates.length;
  let listedWritten = listed();
  /** summary.json as it stands: at the end, and as a snapshot at most once a second (and whenever a unit could not be scored or has no candidate, which a resume reads back). */
  const snapshot = () => {
    const n = listed();
    if (summaryFile.write(currentSummary, n !== listedWritten)) listedWritten = n;
  };
  const currentSummary = () => {
    summary.timings = {
      load_s: loadMs / 1000, selection_s: timing.gen / 1000, scoring_s: timing.score / 1000, scoring_model_s: timing.model / 1000,
      verification_s: timing.verify / 1000, total_s: (performance.now() - t0) / 1000,
    };
    summary.generated = { student: generatedBefore.student, teacher: generatedBefore.teacher };
    summary.detection = detection.summary();
    return summary;
  };
  const noCandidate = (u: MineSummary['no_candidates'][number]) => {
    summary.no_candidates.push(u);
    c.units_without_candidates++;
    if (u.reason === 'constant-diff') c.constant_diff_units++;
  };
  const countRecords = (sid: string) => {
    for (const u of previousNoCandidates) if (u.source_id === sid) noCandidate(u);
    const e = doneCounts.get(sid);
    if (!e) return;
    c.scored_units += e.units;
    c.candidates += e.candidates;
    c.spans += e.spans;
    for (const r of e.scores) detect(r);
    for (const r of e.cfs) countCf(r);
  };
  const countCf = (r: CounterfactualRecord) => {
    c.counterfactuals++;
    if (r.verified === true) c.verified++;
    else if (r.verified === false) c.rejected++;
    else c.unverified++;
  };
  let processed = 0;
  const progress = () => options.onProgress?.({ done: processed, total: data.problems.length, selected: c.selected, counterfactuals: c.counterfactuals, verified: c.verified });
  progress();

  const ensure = async (who: 'student' | 'teacher', p: Pretrained, reqs: GenerationRequest[], bucket: 'gen' | 'verify') => {
    const before = cache.generated;
    const tg = performance.now();
    await cache.ensure(who, p, reqs, batchSize, pool);
    warnStale();
    timing[bucket] += performance.now() - tg;
    generatedBefore[who] += cache.generated - before;
  };

  try {
    for (let c0 = 0; c0 < data.problems.length; c0 += batchSize) {
      const chunk = data.problems.slice(c0, c0 + batchSize);
      const selectReqs = chunk.map((m): GenerationRequest => ({ problem: m.problem, stage: 'select', prompt: m.problem.prompt, prefix: null }));
      await ensure('student', student, selectReqs, 'gen');
      if (!given) await ensure('teacher', teacher, selectReqs, 'gen');
      for (const m of chunk) {
        const p = m.problem;
        const s = cache.answer('student', p, p.prompt, null);
        const t = given ? await judgeGiven(p, given.get(p.id)!, pool) : cache.answer('teacher', p, p.prompt, null);
        if (!s.correct) c.student_wrong++;
        if (t.correct) c.teacher_right++;
        const selected = !s.correct && t.correct;
        if (selected) c.selected++;
        if (selected && done.has(p.id)) {
          c.resumed_problems++;
          countRecords(p.id);
        } else if (selected) {
          await mineProblem(m, t);
        }
        processed++;
        snapshot();
        progress();
      }
    }
  } finally {
    genLog.close();
    scoresLog.close();
    cfLog.close();
  }
  orderGenerationCache(files.generations, new Map(data.problems.map((m, i) => [m.problem.id, i])));
  summary.complete = true;
  summary.stale_cached_answers = cache.stale;
  summaryFile.write(currentSummary, true);
  return summary;

  async function mineProblem(m: MiningProblem, teacherAnswer: Answer): Promise<void> {
    const p = m.problem;
    const response = p.response ?? teacherAnswer.response;
    const units: Array<{ unit: Unit; segment: number | null; segStart: number }> = [];
    const unscored = (segment: number | null, reason: string) => {
      summary.unscored.push({ source_id: p.id, segment, reason });
      c.unscored_units++;
      warn(`problem ${p.id}${segment !== null ? ` segment ${segment}` : ''}: not scored: ${reason}`);
    };
    if (level === 'instruction') {
      units.push({ unit: { level: 'instruction' }, segment: null, segStart: 0 });
    } else {
      const starts = student.tokenizer.encode(response, { addSpecialTokens: false }).offsets.map((o) => o[0]);
      const b = splitResponse(response, k!, starts);
      if (!b) {
        unscored(null, `the response cannot be split into ${k} non-blank segments`);
        return;
      }
      for (let j = 2; j <= k!; j++) units.push({ unit: { level: 'response', segStart: b[j - 1], segEnd: b[j], last: j === k }, segment: j, segStart: b[j - 1] });
    }
    const settings: ScoreSettings = { method, rule, seed, batchSize, unit: unitKind, topUnits: options.topUnits ?? null };
    const ctx = level === 'instruction' ? { protect: protectOf(m, options.protectLastSentence === true), truth: m.truth } : {};
    const drafts: CounterfactualDraft[] = [];
    for (const u of units) {
      const key = `${p.id}/${level}${u.segment !== null ? `/segment-${u.segment}` : ''}`;
      const ts = performance.now();
      let sc: UnitScore;
      try {
        sc = scoreUnit(student, teacher, p.prompt, response, u.unit, settings, key, ctx);
      } catch (e) {
        timing.score += performance.now() - ts;
        if (e instanceof LeafError) {
          unscored(u.segment, e.message);
          continue;
        }
        throw e;
      }
      timing.score += performance.now() - ts;
      timing.model += sc.computeMs;
      const rec: ScoreRecord = {
        id: `${p.id}/${level}/${method}${u.segment !== null ? `/segment-${u.segment}` : ''}`,
        source_id: p.id, level, segment: u.segment, method, text: sc.text, tokens: sc.tokens, student: sc.student, teacher: sc.teacher,
        diff: sc.diff, threshold: sc.threshold, candidates: sc.candidates, spans: sc.spans, units: sc.units, protected: sc.protected, loss: sc.loss,
      };
      scoresLog.append(rec);
      detect(rec);
      options.onRecord?.('scores', rec);
      c.scored_units++;
      c.candidates += sc.candidates.length;
      c.spans += sc.spans.length;
      if (sc.candidates.length === 0) {
        const reason: NoCandidateReason = sc.tokens.length === 0 ? 'no-tokens' : sc.constantDiff ? 'constant-diff' : 'none-flaggable';
        noCandidate({ source_id: p.id, segment: u.segment, reason, tokens: sc.tokens.length });
        if (reason === 'constant-diff') warn(`problem ${p.id}${u.segment !== null ? ` segment ${u.segment}` : ''}: D is constant over its ${sc.tokens.length} token${sc.tokens.length === 1 ? '' : 's'} (no ranking): no candidates`);
      }
      const built = buildCounterfactuals(
        { sourceId: p.id, level, method, segment: u.segment, prompt: p.prompt, response, segStart: u.segStart, passthrough: m.passthrough },
        sc.text, sc.spans, pruning,
      );
      c.empty_after_pruning += built.empty;
      drafts.push(...built.drafts);
    }
    if (verify !== 'none' && drafts.length > 0) {
      const reqs = drafts.map((d): GenerationRequest => ({ problem: p, stage: 'verify', prompt: d.ask.prompt, prefix: d.ask.prefix }));
      if (verify === 'both') await ensure('student', student, reqs, 'verify');
      await ensure('teacher', teacher, reqs, 'verify');
      const reference = options.verifyEquations ? response : null;
      for (const d of drafts) {
        d.record.student = verify === 'both' ? cache.answer('student', p, d.ask.prompt, d.ask.prefix) : null;
        d.record.teacher = cache.answer('teacher', p, d.ask.prompt, d.ask.prefix);
        d.record.verified = passes(d.record.teacher, reference) && (d.record.student === null || passes(d.record.student, reference));
      }
    }
    for (const d of drafts) {
      cfLog.append(d.record);
      options.onRecord?.('counterfactuals', d.record);
      countCf(d.record);
    }
  }
}

export type { Removal };
