/**
 * `leaf mine` as a library: LeaF stage 1 — confounder mining.
 *
 * The driver (mineIn) is a list of phases, each in its own file:
 *  - set up (mine-setup.ts, mine-run.ts): settings, what a resumed run left, the input, the models,
 *    run.json, the record logs, the generation cache, the code sandbox pool;
 *  - then for each batch of problems, in order:
 *    1. select (mine-select.ts): the student and the teacher answer the prompt (greedy, chat template;
 *       teacher answers may be given instead), the judges check them; only student-wrong,
 *       teacher-right problems go on (generations.ts, cached);
 *    2. score (mine-score.ts) each unit (the prompt; or, at response level, the response before each
 *       segment j ≥ 2) with the chosen method (score.ts) and append its scores record;
 *    3. prune (mine-problem.ts) the spans into counterfactuals (counterfactuals.ts);
 *    4. verify (mine-verify.ts): both models answer the pruned input, a counterfactual is kept only
 *       when both are right; append the counterfactual records;
 *  - finish: the generation cache put in input order, the summary written complete.
 * Every count, list and timing of the summary lives in one tally (mine-tally.ts). Records are appended
 * whole and flushed (RecordLog); `resume` continues after the last complete problem (resume.ts);
 * summary.json is rewritten atomically after every problem (at most once a second) and at the end.
 */
import { inRunFolder, type RunFolder } from '../data/run-folder.js';
import type { Task } from '../eval/formats/index.js';
import { loadPretrained, sameTokenizer, type Pretrained } from '../model/pretrained.js';
import type { Level, Pruning } from './counterfactuals.js';
import type { DetectionSummary } from './detection.js';
import type { MiningUnit } from './flagging.js';
import { orderGenerationCache, GenerationCache } from './generations.js';
import type { ThresholdRule } from './normalize.js';
import { prepareResume } from './resume.js';
import type { MiningMethod, UnitScore } from './score.js';
import type { Removal } from './spans.js';
import { resolveMineOptions, type MineOptions, type MineResolved } from './mine-options.js';
import { loadMineInput, mineFiles, mineSettings, readPreviousRun, writeIdentity } from './mine-setup.js';
import { MineTally } from './mine-tally.js';
import { closeLogs, openLogs, openPool, type MineRun } from './mine-run.js';
import type { SandboxRecord } from '../eval/code/index.js';
import { decodeSelection, refusal, select } from './mine-select.js';
import { mineProblem } from './mine-problem.js';
import type { VerifyMode } from './verify.js';

export { MINE_SPEC, type MineOptions, type MineProgress } from './mine-options.js';

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
  /** The code sandbox's tier and guarantees as probed (null when the input has no code problem). */
  sandbox: SandboxRecord | null;
  settings: {
    level: Level; segments: number | null; method: MiningMethod; threshold: ThresholdRule; pruning: Pruning; verify: VerifyMode;
    unit: MiningUnit; topUnits: number | null; protectLastSentence: boolean; verifyEquations: boolean; studentWeight: number;
    teacherOutputs: string | null; limit: number | null; seed: number; batchSize: number; maxNewTokens: number; task: Task | null;
    decoding: 'greedy';
  };
  counts: {
    lines: number;
    problems: number;
    skippedLines: number;
    resumedProblems: number;
    studentWrong: number;
    teacherRight: number;
    selected: number;
    scoredUnits: number;
    unscoredUnits: number;
    /** Scored units in which no token was flagged (listed in `noCandidates` with the reason). */
    unitsWithoutCandidates: number;
    /** Of which: D constant over the unit (e.g. a single token) — no ranking, nothing flagged. */
    constantDiffUnits: number;
    candidates: number;
    spans: number;
    counterfactuals: number;
    emptyAfterPruning: number;
    verified: number;
    rejected: number;
    unverified: number;
  };
  /** `file:line: reason` of every skipped input line. */
  skipped: string[];
  /** Units that could not be scored: problem id, segment, reason. */
  unscored: Array<{ sourceId: string; segment: number | null; reason: string }>;
  /** Problems left out because a prompt leaves no room in a model's context: problem id and why. */
  refused: Array<{ sourceId: string; reason: string }>;
  /** Scored units without a candidate, and why (see NoCandidateReason). */
  noCandidates: Array<{ sourceId: string; segment: number | null; reason: NoCandidateReason; tokens: number }>;
  /** Answers decoded by this process (cache misses); a resumed run, and merged shards, count only their last processes' (like timings). */
  generated: { student: number; teacher: number };
  /** Requests whose cached answers all came from another model or input (see generations.ts), decoded anew. */
  staleCachedAnswers: number;
  /** Detection against the records' ground-truth distractor_spans (detection.ts), also per category label; null when no scored problem has them. */
  detection: DetectionSummary | null;
  /** Seconds: loading the models, selection decoding, scoring (of which in the models), verification, the whole run. */
  timings: { load: number; selection: number; scoring: number; scoringModel: number; verification: number; total: number };
}

function loadModels(o: MineOptions, dtype: MineResolved['dtype']): { teacher: Pretrained; student: Pretrained } {
  const load = (x: string | Pretrained): Pretrained => (typeof x === 'string' ? loadPretrained(x, { dtype }) : x);
  return { student: load(o.student), teacher: load(o.teacher) };
}

/** Runs the mining pipeline in its locked output folder; see the module comment. Returns (and writes) the summary. */
export async function mine(options: MineOptions): Promise<MineSummary> {
  const resolved = resolveMineOptions(options);
  return inRunFolder(options.out, {
    command: 'mine', resume: options.resume === true, overwrite: options.overwrite === true,
    records: ['scores.jsonl', 'counterfactuals.jsonl'], outputs: ['summary.json'], note: 'cached generations are kept',
  }, (folder) => mineIn(folder, options, resolved));
}

/** The phases: set up → for each batch of problems: select → (per selected problem) score → prune → verify → finish. */
async function mineIn(folder: RunFolder, options: MineOptions, resolved: MineResolved): Promise<MineSummary> {
  const run = await setUp(folder, options, resolved);
  const { problems } = run.data;
  progress(run);
  try {
    for (let b = 0; b < problems.length; b += run.settings.batchSize) {
      const batch = problems.slice(b, b + run.settings.batchSize);
      const refused = batch.map((m) => refusal(run, m));
      await decodeSelection(run, batch.filter((_, j) => refused[j] === null));
      for (const [j, m] of batch.entries()) {
        const teacherAnswer = refused[j] === null ? await select(run, m) : run.tally.refuse(m.problem.id, refused[j]!, run.warn);
        if (teacherAnswer && run.done.has(m.problem.id)) run.tally.resumed(m.problem.id);
        else if (teacherAnswer) await mineProblem(run, m, teacherAnswer);
        run.tally.processed++;
        run.tally.snapshot(run.summaryFile);
        progress(run);
      }
    }
  } finally {
    closeLogs(run.logs);
  }
  orderGenerationCache(run.files.generations, new Map(problems.map((m, i) => [m.problem.id, i])));
  return run.tally.finish(run.summaryFile, run.cache.stale);
}

/**
 * Setup: the settings, what a resumed run left (checked), the input, the models, run.json; then
 * (resume) the in-flight problem's records cut; the record logs, the generation cache, the sandbox pool
 * and the tally (with the records read back).
 */
async function setUp(folder: RunFolder, options: MineOptions, resolved: MineResolved): Promise<MineRun> {
  const t0 = performance.now();
  const warn = (m: string) => options.onWarning?.(m);
  const settings = mineSettings(resolved, options);
  const files = mineFiles(options);
  const previous = readPreviousRun(options.resume === true, files.summary, settings);
  const { input, data, given } = loadMineInput(options, settings, warn);
  const tLoad = performance.now();
  const { teacher, student } = loadModels(options, resolved.dtype);
  const loadMs = performance.now() - tLoad;
  const fingerprints = writeIdentity(folder, options, settings, files, { student, teacher }, previous.legacy, input);
  let done = new Set<string>();
  if (options.resume) {
    // Only now that the input and the models are known good: cut the in-flight problem's records.
    done = prepareResume(files.scores, files.counterfactuals).done;
    previous.unscored = previous.unscored.filter((u) => done.has(u.sourceId));
    previous.noCandidates = previous.noCandidates.filter((u) => done.has(u.sourceId));
  }
  const logs = openLogs(folder, options, files);
  const cache = new GenerationCache(logs.generations, settings.maxNewTokens, { student, teacher }, fingerprints);
  const { pool, sandbox } = await openPool(options, data, warn);
  const tokenizers = sameTokenizer(student.tokenizer, teacher.tokenizer) ? 'same' : 'different';
  const tally = new MineTally(
    { data: options.data, out: options.out, teacher: teacher.dir, student: student.dir, tokenizers, settings, sandbox }, data, previous, { t0, loadMs },
  );
  tally.readBack(logs.scores.existing, logs.counterfactuals.existing);
  return {
    options, settings, files, data, done, student, teacher, given, pool, cache, logs, tally, warn, staleWarned: false, summaryFile: folder.summary(),
  };
}

function progress(run: MineRun): void {
  const c = run.tally.counts;
  run.options.onProgress?.({ phase: 'mine', done: run.tally.processed, total: c.problems, selected: c.selected, counterfactuals: c.counterfactuals, verified: c.verified });
}

export type { Removal };
