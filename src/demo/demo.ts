/**
 * `leaf demo`: LeaF end to end on the distracted-arithmetic benchmark, on a CPU.
 *
 *  1. benchmark files (train / validation / test, ground-truth distractor spans), from the pair seed;
 *  2. a tiny teacher (trained on distractor-rich problems) and a smaller student (half of its problems
 *     distractor-free, fewer steps), trained from scratch with the pair seed — or reused from OUT/models;
 *  3. confounder mining on the train split: `gradient` at the recipe's unit (sentences, the question
 *     protected, the k lowest flagged), `random` at the same budget, the `oracle` (the ground-truth
 *     sentences), and `gradient` at token level (the reference rule) for the detection comparison;
 *  4. distillation of the student: plain KD and LeaF with each method's verified counterfactuals, at equal
 *     optimizer steps, the same seeds and the same original batches (the trainer's pairCounterfactuals:
 *     a LeaF step adds the counterfactuals of its originals, LeaF's hybrid loss);
 *  5. evaluation of every model on the validation split and, at the end, the held-out test split (each
 *     also with its distractors removed); the headline = per-seed paired differences vs KD
 *     (headline.ts); detection quality against the ground truth; OUT/summary.json and OUT/report.html.
 * `extras` adds runs outside the headline: LeaF at token level (the reference rule), LeaF with
 * response-level counterfactuals too, and the token-level q sweep.
 *
 * Nothing is tuned on the test split: recipes are fixed in recipes.ts (chosen on validation with
 * scripts/demo/validation-explore.mjs, which runs this with `validationOnly: true`), and the test split is only
 * read by the final evaluations.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { writeJsonlAtomic } from '../data/jsonl.js';
import { inRunFolder, type RunFolder } from '../data/run-folder.js';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeOutDir } from '../io/out-dir.js';
import { getKernels } from '../kernels/index.js';
import { thresholdSweep } from '../method/detection-sweep.js';
import { writeReport } from '../report/build.js';
import type { TableView } from '../report/data.js';
import { readMined, readTruth } from '../report/mined.js';
import { generateSplit, type ArithRecord, type SplitName } from './arith/dataset.js';
import { evaluationSets, type DemoContext } from './context.js';
import { resolveDemoOptions, type DemoOptions, type DemoResolved } from './demo-options.js';
import { headlineRows, headlineTable, verdictText, type HeadlineRow } from './headline.js';
import type { DistillJobResult, JobResult } from './jobs.js';
import type { TrainedModelInfo } from './models.js';
import { runGraph, type GraphProgress, type Task } from './pool.js';
import { DEMO_RECIPE, type DemoRecipe } from './recipes.js';
import { distillStage, type DistillInfo } from './stage-distill.js';
import { miningStage, type DetectionRow, type Mined } from './stage-mining.js';
import { modelsStage, type Diagnostics } from './stage-models.js';
import { pct } from '../util/format.js';

export { DEMO_SPEC, type DemoOptions } from './demo-options.js';

/** What a demo writes to its folder (removed by --overwrite). */
const DEMO_OUTPUTS = ['data', 'models', 'mined', 'runs', 'distill-data', 'jobs', 'summary.json', 'report.html'];

export const HEADLINE_RUNS = [
  { key: 'kd', label: 'KD (no masking)' },
  { key: 'leaf-gradient', label: 'LeaF gradient' },
  { key: 'leaf-gradient-teacher', label: 'LeaF teacher saliency' },
  { key: 'leaf-random', label: 'LeaF random' },
  { key: 'leaf-oracle', label: 'LeaF oracle' },
] as const;
export const EXTRA_RUNS = [
  { key: 'leaf-token', label: 'LeaF token level (reference rule)' },
  { key: 'leaf-instr-resp', label: 'LeaF gradient + response level' },
] as const;

export type { DetectionRow } from './stage-mining.js';

export interface DemoSummary {
  out: string;
  recipe: DemoRecipe;
  /** The pair seed (benchmark and models) and the distillation seeds. */
  seed: number;
  seeds: number[];
  split: 'test' | 'validation';
  kernels: string;
  /** Worker processes (--jobs). */
  jobs: number;
  models: { teacher: TrainedModelInfo; student: TrainedModelInfo };
  /** Before distillation: accuracy as given and with the distractors removed, on validation and on the headline split. */
  diagnostics: Diagnostics;
  mining: Record<string, { selected: number; counterfactuals: number; verified: number; seconds: number }>;
  detection: DetectionRow[];
  sweep: { q: number; precision: number; recall: number; f1: number; flaggedPerProblem: number; verified: number; accuracy: number | null }[];
  /**
   * Every run: `epochs` passes over the `originals` in steps of recipe.distill.batchSize originals, the same
   * batches for every run of a seed; a LeaF step adds its originals' counterfactuals (`counterfactuals[run]`
   * per epoch, weight λ = recipe.distill.cfWeight each). `missingSource`: counterfactuals with no original to join (left out).
   */
  distill: DistillInfo;
  headline: HeadlineRow[];
  /** Share of the answer positions' attention on distractor tokens (report problems, all layers and heads). */
  attention: { model: string; distractorShare: number; problems: number }[];
  verdict: string;
  timings: Record<string, number>;
  report: string;
}


/** The recipe of pair seed `seed`: the benchmark's seed and both models' initialisation shifted by seed − 1 (seed 1 = the recipe as written). */
export function pairRecipe(recipe: DemoRecipe, seed: number): DemoRecipe {
  if (!(Number.isInteger(seed) && seed >= 1)) throw new LeafError(`--seed must be a positive integer, got ${seed}`);
  const k = seed - 1;
  return { ...recipe, dataSeed: recipe.dataSeed + k, teacher: { ...recipe.teacher, seed: recipe.teacher.seed + k }, student: { ...recipe.student, seed: recipe.student.seed + k } };
}

/** Runs the demo in its locked output folder (one demo per folder; see DemoOptions for resume / overwrite). */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const r = resolveDemoOptions(options);
  return inRunFolder(resolve(options.out), {
    command: 'demo', resume: options.resume === true, overwrite: options.overwrite === true, otherwise: 'resume', records: [], outputs: DEMO_OUTPUTS,
  }, (folder) => demoIn(folder, options, r));
}

/** The demo's phases: benchmark → (models, mining, distillation as one work graph) → headline → report. */
async function demoIn(folder: RunFolder, options: DemoOptions, r: DemoResolved): Promise<DemoSummary> {
  const t0 = Date.now();
  folder.start();
  const ctx = demoContext(folder.dir, options, r);
  const splits = writeBenchmark(ctx, ctx.split === 'test');
  const modelStage = modelsStage(ctx);
  const miningPlan = miningStage(ctx, r.extras);
  const distillPlan = distillStage(ctx, miningPlan, [...HEADLINE_RUNS, ...(r.extras ? EXTRA_RUNS : [])].map((x) => x.key));
  const results = await runWork(ctx, [...modelStage.tasks, ...miningPlan.tasks, ...distillPlan.tasks], options.onProgress);
  const { models, diagnostics } = modelStage.collect(results);
  const mined = miningPlan.collect(results);
  const distilled = distillPlan.collect(results);
  const headline = headlineRows(HEADLINE_RUNS, distilled.byRun, ctx.split);
  const weak = weakTeacherNote(diagnostics);
  if (weak) ctx.log(`warning: ${weak}`);
  const verdict = [verdictText(headline, ctx.split), weak].filter(Boolean).join(' ');
  ctx.log(verdict);
  const sweep = sweepRows(ctx, mined, distilled.byRun);
  const { reportFile, attention } = writeDemoReport(ctx, headline, mined.detection, sweep, verdict, diagnostics, distilled.byRun, splits[ctx.split].length);
  ctx.timings.total = (Date.now() - t0) / 1000;
  const summary: DemoSummary = {
    out: ctx.out, recipe: ctx.recipe, seed: r.seed, seeds: ctx.seeds, split: ctx.split, kernels: getKernels().name, jobs: ctx.concurrency, models, diagnostics,
    mining: mined.mining, detection: mined.detection, sweep, distill: distilled.info, headline, attention, verdict, timings: ctx.timings, report: reportFile,
  };
  writeFileAtomicSync(join(ctx.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** The run's context: the pair's recipe, seeds, workers, folders (created) and evaluation sets. */
function demoContext(out: string, options: DemoOptions, r: DemoResolved): DemoContext {
  const dirs = {
    data: join(out, 'data'), models: join(out, 'models'), mined: join(out, 'mined'), runs: join(out, 'runs'),
    distillData: join(out, 'distill-data'), jobs: join(out, 'jobs'),
  };
  for (const d of Object.values(dirs)) makeOutDir(d, 'output folder');
  const files = { train: join(dirs.data, 'train.jsonl'), validation: join(dirs.data, 'validation.jsonl'), test: join(dirs.data, 'test.jsonl') };
  const split = r.validationOnly ? 'validation' : 'test';
  return {
    out, recipe: pairRecipe(options.recipe ?? DEMO_RECIPE, r.seed), seeds: Array.from({ length: r.seeds }, (_, i) => i + 1),
    concurrency: r.jobs ?? (availableParallelism() >= 2 ? 2 : 1), log: options.log ?? (() => {}), dirs, files,
    teacherDir: join(dirs.models, 'teacher'), studentDir: join(dirs.models, 'student'), split, evaluate: evaluationSets(files, split), evaluateRuns: evaluationSets(files, split, true),
    timings: { data: 0, models: 0, mining: 0, distill: 0, work: 0 }, // filled in as the stages end; listed in this order
  };
}

function lap(ctx: DemoContext, name: string, since: number): void {
  ctx.timings[name] = (Date.now() - since) / 1000;
}

/** Models, mining and distillation as one graph: each task starts when its inputs exist and a worker is free. */
async function runWork(ctx: DemoContext, tasks: Task[], onProgress?: (p: GraphProgress) => void): Promise<Map<string, JobResult>> {
  const t = Date.now();
  ctx.log(`${tasks.length} tasks, ${ctx.concurrency} at a time (each stage's time below spans its first start to its last end; the stages overlap)`);
  const results = await runGraph(tasks, ctx.concurrency, ctx.dirs.jobs, (p) => {
    ctx.log(`  [${p.done}/${p.total}] ${p.label} ${p.reused ? 'reused (same inputs, settings and code)' : 'done'}`);
    onProgress?.(p);
  });
  lap(ctx, 'work', t);
  return results;
}

/** 1. The benchmark files (the test split is written only when it will be read). */
function writeBenchmark(ctx: DemoContext, withTest: boolean): Record<SplitName, ArithRecord[]> {
  const t = Date.now();
  const r = ctx.recipe;
  const counts: Record<SplitName, number> = { train: r.trainProblems, validation: r.validationProblems, test: withTest ? r.testProblems : 0 };
  const splits = {} as Record<SplitName, ArithRecord[]>;
  for (const s of ['train', 'validation', 'test'] as const) {
    splits[s] = generateSplit(s, counts[s], r.dataSeed, { ...r.problems, ...r.benchmark });
    if (withTest || s !== 'test') writeJsonlAtomic(ctx.files[s], splits[s]);
  }
  if (!withTest) rmSync(ctx.files.test, { force: true });
  ctx.log(`benchmark (seed ${r.dataSeed}): ${counts.train} train / ${counts.validation} validation / ${counts.test} test problems in ${ctx.dirs.data}`);
  lap(ctx, 'data', t);
  return splits;
}

/** Below this validation accuracy (distractors in) the teacher is itself distracted and LeaF's premise fails. */
export const TEACHER_FLOOR = 0.9;

/** The warning when the teacher is below {@link TEACHER_FLOOR} on validation, else null. */
export function weakTeacherNote(d: DemoSummary['diagnostics']): string | null {
  const t = d.teacher;
  if (t.distracted >= TEACHER_FLOOR) return null;
  return `The teacher is itself distracted (${pct(t.distracted)}% on validation, ${pct(t.clean)}% with the distractors removed, below ${pct(TEACHER_FLOOR)}%): ` +
    'LeaF assumes a teacher that ignores the distractors, so the teacher–student gradient difference has little to find with this pair.';
}

/** The extras' token-level q sweep: detection at each q (re-thresholded scores) and one LeaF run per q. */
function sweepRows(ctx: DemoContext, mined: Mined, byRun: Record<string, DistillJobResult[]>): DemoSummary['sweep'] {
  if (mined.sweepQs.length === 0) return [];
  const m = ctx.recipe.mining;
  const raw = thresholdSweep(readMined(mined.dirs['gradient-token']).scores, readTruth(ctx.files.train), m.sweep);
  return raw.map((r) => {
    const key = r.q === m.threshold ? 'leaf-token' : `leaf-token-q${r.q.toFixed(2)}`;
    const run = byRun[key]?.[0];
    const mk = r.q === m.threshold ? 'gradient-token' : `gradient-token-q${r.q}`;
    const q = r.quality;
    return { q: r.q, precision: q.precision, recall: q.recall, f1: q.f1, flaggedPerProblem: r.flaggedPerProblem, verified: mined.mining[mk]?.verified ?? 0, accuracy: run ? run.eval[ctx.split].accuracy : null };
  });
}

export function detectionTable(rows: DetectionRow[]): TableView {
  const p = (x: number) => Number(pct(x));
  return {
    id: 'detection', title: 'Detection of the distractors on the selected train problems (vs ground truth), token and sentence level',
    columns: ['mining run', 'token P %', 'token R %', 'token F1 %', 'sentence P %', 'sentence R %', 'sentence F1 %', 'counterfactuals', 'verified'],
    rows: rows.map((r) => [r.run, p(r.token.precision), p(r.token.recall), p(r.token.f1), p(r.unit.precision), p(r.unit.recall), p(r.unit.f1), r.counterfactuals, r.verified]),
    caption: 'Token level: scored tokens outside the protected question; sentence level: a sentence is predicted when it holds a flagged token. gradient / random / oracle: the headline\'s mining (random flags as many sentences as gradient); gradient-teacher: the same with D = the teacher\'s saliency alone (--student-weight 0); gradient-token: the reference rule (tokens, q, both models verify).',
  };
}

function writeDemoReport(
  ctx: DemoContext, headline: HeadlineRow[], detection: DetectionRow[], sweep: DemoSummary['sweep'], verdict: string, diagnostics: DemoSummary['diagnostics'],
  byRun: Record<string, DistillJobResult[]>, problems: number,
): { reportFile: string; attention: DemoSummary['attention'] } {
  const t = Date.now();
  const reportFile = join(ctx.out, 'report.html');
  const split = headline[0] && byRun.kd[0].eval.test ? 'test' : 'validation';
  const runs = HEADLINE_RUNS.flatMap((run) => ctx.seeds.map((s) => ({ label: `${run.label} seed ${s}`, group: run.label, dir: join(ctx.dirs.runs, `${run.key}-seed${s}`) })));
  const d = diagnostics;
  const tables: TableView[] = [headlineTable(headline, split, problems), detectionTable(detection)];
  if (sweep.length > 0) {
    tables.push({
      id: 'sweep', title: 'Token-level q sweep (reference rule; extras)', columns: ['q', 'P %', 'R %', 'F1 %', 'flagged / problem', 'verified', `acc % (seed ${ctx.seeds[0]})`],
      rows: sweep.map((r) => [r.q, Number(pct(r.precision)), Number(pct(r.recall)), Number(pct(r.f1)), Number(r.flaggedPerProblem.toFixed(2)), r.verified, r.accuracy === null ? null : Number(pct(r.accuracy))]),
    });
  }
  const reportData = writeReport({
    out: reportFile, mined: join(ctx.dirs.mined, 'gradient'), data: ctx.files.train, runs, limit: ctx.recipe.reportProblems,
    attention: [
      { label: 'student before', dir: ctx.studentDir },
      { label: `after KD (seed ${ctx.seeds[0]})`, dir: byRun.kd[0].modelDir },
      { label: `after LeaF gradient (seed ${ctx.seeds[0]})`, dir: byRun['leaf-gradient'][0].modelDir },
      { label: 'teacher (reference)', dir: ctx.teacherDir },
    ],
    title: 'leaf demo: LeaF on distracted arithmetic',
    subtitle: `tiny Llama teacher and student, pair seed ${ctx.recipe.dataSeed}, ${ctx.recipe.trainProblems} train / ${problems} ${split} problems, ${ctx.seeds.length} seed(s), generated ${new Date().toISOString()}`,
    notes: [verdict, `Validation, before distillation: teacher ${pct(d.teacher.distracted)}% (${pct(d.teacher.clean)}% with the distractors removed); student ${pct(d.student.distracted)}% (${pct(d.student.clean)}%).`],
    tables, ownTables: false, facts: new Map(),
  });
  lap(ctx, 'report', t);
  const shareTable = reportData.tables.find((x) => x.id === 'attention-share');
  const attention = (shareTable?.rows ?? []).map((r) => ({ model: String(r[0]), distractorShare: Number(r[1]) / 100, problems: Number(r[2]) }));
  return { reportFile, attention };
}
