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
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { writeJsonlAtomic } from '../data/jsonl.js';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeOutDir } from '../io/out-dir.js';
import { getKernels } from '../kernels/index.js';
import type { DetectionQuality } from '../method/detection.js';
import type { MineSummary } from '../method/mine.js';
import { loadPretrained } from '../model/pretrained.js';
import { thresholdSweep } from '../report/assemble.js';
import { writeReport } from '../report/build.js';
import type { TableView } from '../report/data.js';
import { readMined, readTruth } from '../report/mined.js';
import { generateSplit, type ArithRecord, type SplitName } from './arith/dataset.js';
import { evaluateArith } from './evaluate.js';
import { headlineRows, headlineTable, verdictText, type HeadlineRow } from './headline.js';
import { readRecords, type DemoJob, type DistillJob, type DistillJobResult, type EvalSet, type PlainMineOptions } from './jobs.js';
import type { TrainedModelInfo } from './models.js';
import { runJobs } from './pool.js';
import { DEMO_RECIPE, type DemoRecipe } from './recipes.js';
import { reusableResult, runKey, saveResult } from './run-reuse.js';
import { writeArithTokenizer } from './tiny-models.js';
import { inRunFolder, type RunFolder } from '../data/run-folder.js';
import { resolveDemoOptions, type DemoOptions, type DemoResolved } from './demo-options.js';

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

export interface DetectionRow {
  run: string;
  token: DetectionQuality;
  unit: DetectionQuality;
  counterfactuals: number;
  verified: number;
}

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
  diagnostics: Record<string, { distracted: number; clean: number; folded: number; n: number; split: { distracted: number; clean: number } }>;
  mining: Record<string, { selected: number; counterfactuals: number; verified: number; seconds: number }>;
  detection: DetectionRow[];
  sweep: { q: number; precision: number; recall: number; f1: number; flaggedPerProblem: number; verified: number; accuracy: number | null }[];
  /**
   * Every run: `epochs` passes over the `originals` in steps of recipe.distill.batchSize originals, the same
   * batches for every run of a seed; a LeaF step adds its originals' counterfactuals (`counterfactuals[run]`
   * per epoch, weight λ = recipe.distill.cfWeight each). `missingSource`: counterfactuals with no original to join (left out).
   */
  distill: {
    protocol: 'paired'; steps: number; epochs: number; originals: number; counterfactuals: Record<string, number>; missingSource: number;
    reusedRuns: number;
    runs: Record<string, { seed: number; steps: number; seconds: number; samples: { original: number; counterfactual: number; missingSource: number } }[]>;
  };
  headline: HeadlineRow[];
  /** Share of the answer positions' attention on distractor tokens (report problems, all layers and heads). */
  attention: { model: string; distractorShare: number; problems: number }[];
  verdict: string;
  timings: Record<string, number>;
  report: string;
}

const pct = (x: number) => (100 * x).toFixed(1);

function verifiedCounterfactuals(dir: string): Record<string, unknown>[] {
  const f = join(dir, 'counterfactuals.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.verified !== false);
}

/** The recipe of pair seed `seed`: the benchmark's seed and both models' initialisation shifted by seed − 1 (seed 1 = the recipe as written). */
export function pairRecipe(recipe: DemoRecipe, seed: number): DemoRecipe {
  if (!(Number.isInteger(seed) && seed >= 1)) throw new LeafError(`--seed must be a positive integer, got ${seed}`);
  const k = seed - 1;
  return { ...recipe, dataSeed: recipe.dataSeed + k, teacher: { ...recipe.teacher, seed: recipe.teacher.seed + k }, student: { ...recipe.student, seed: recipe.student.seed + k } };
}

interface Ctx {
  recipe: DemoRecipe;
  seeds: number[];
  concurrency: number;
  log: (line: string) => void;
  dirs: Record<'data' | 'models' | 'mined' | 'runs' | 'distillData' | 'jobs', string>;
  files: Record<SplitName, string>;
  teacherDir: string;
  studentDir: string;
  timings: Record<string, number>;
}

/** Runs the demo in its locked output folder (one demo per folder; see DemoOptions for resume / overwrite). */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const r = resolveDemoOptions(options);
  return inRunFolder(resolve(options.out), {
    command: 'demo', resume: options.resume === true, overwrite: options.overwrite === true, otherwise: 'resume', records: [], outputs: DEMO_OUTPUTS,
  }, (folder) => demoIn(folder, options, r));
}

async function demoIn(folder: RunFolder, options: DemoOptions, r: DemoResolved): Promise<DemoSummary> {
  const t0 = Date.now();
  const pairSeed = r.seed;
  const recipe = pairRecipe(options.recipe ?? DEMO_RECIPE, pairSeed);
  const out = resolve(options.out);
  const dirs = {
    data: join(out, 'data'), models: join(out, 'models'), mined: join(out, 'mined'), runs: join(out, 'runs'),
    distillData: join(out, 'distill-data'), jobs: join(out, 'jobs'),
  };
  folder.start();
  for (const d of Object.values(dirs)) makeOutDir(d, 'output folder');
  const ctx: Ctx = {
    recipe, seeds: Array.from({ length: r.seeds }, (_, i) => i + 1), concurrency: r.jobs ?? (availableParallelism() >= 2 ? 2 : 1),
    log: options.log ?? (() => {}), dirs,
    files: { train: join(dirs.data, 'train.jsonl'), validation: join(dirs.data, 'validation.jsonl'), test: join(dirs.data, 'test.jsonl') },
    teacherDir: join(dirs.models, 'teacher'), studentDir: join(dirs.models, 'student'), timings: {},
  };
  const split = r.validationOnly ? 'validation' : 'test';
  const splits = writeBenchmark(ctx, split === 'test');
  const models = await trainModels(ctx);
  const diagnostics = evaluateBase(ctx, splits, split);
  const mined = await mineAll(ctx, r.extras);
  const distilled = await distillAll(ctx, mined, split, r.extras);
  const headline = headlineRows(HEADLINE_RUNS, distilled.byRun, split);
  const weak = weakTeacherNote(diagnostics);
  if (weak) ctx.log(`warning: ${weak}`);
  const verdict = [verdictText(headline, split), weak].filter(Boolean).join(' ');
  ctx.log(verdict);
  const sweep = sweepRows(ctx, mined, distilled, split);
  const { reportFile, attention } = writeDemoReport(ctx, headline, mined.detection, sweep, verdict, diagnostics, distilled.byRun, splits[split].length);
  ctx.timings.total = (Date.now() - t0) / 1000;
  const summary: DemoSummary = {
    out, recipe, seed: pairSeed, seeds: ctx.seeds, split, kernels: getKernels().name, jobs: ctx.concurrency, models, diagnostics,
    mining: mined.mining, detection: mined.detection, sweep, distill: distilled.info, headline, attention, verdict, timings: ctx.timings, report: reportFile,
  };
  writeFileAtomicSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

function lap(ctx: Ctx, name: string, since: number): void {
  ctx.timings[name] = (Date.now() - since) / 1000;
}

/** 1. The benchmark files (the test split is written only when it will be read). */
function writeBenchmark(ctx: Ctx, withTest: boolean): Record<SplitName, ArithRecord[]> {
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

/** 2. Teacher and student (trained, or reused when the recipe is unchanged). */
async function trainModels(ctx: Ctx): Promise<{ teacher: TrainedModelInfo; student: TrainedModelInfo }> {
  const t = Date.now();
  const r = ctx.recipe;
  const tokDir = join(ctx.dirs.models, 'tokenizer');
  writeArithTokenizer(tokDir);
  const jobs: DemoJob[] = [
    { kind: 'train-model', label: 'train-teacher', name: 'teacher', dir: ctx.teacherDir, tokenizerDir: tokDir, recipe: r.teacher, problems: r.problems, dataSeed: r.dataSeed },
    { kind: 'train-model', label: 'train-student', name: 'student', dir: ctx.studentDir, tokenizerDir: tokDir, recipe: r.student, problems: r.problems, dataSeed: r.dataSeed },
  ];
  ctx.log(`training teacher (${r.teacher.steps} steps) and student (${r.student.steps} steps), or reusing them from ${ctx.dirs.models}…`);
  const [teacher, student] = (await runJobs(jobs, ctx.concurrency, ctx.dirs.jobs)) as TrainedModelInfo[];
  lap(ctx, 'models', t);
  ctx.log(`models: teacher ${teacher.reused ? 'reused' : `trained in ${teacher.seconds.toFixed(1)} s`}, student ${student.reused ? 'reused' : `trained in ${student.seconds.toFixed(1)} s`}`);
  return { teacher, student };
}

/** Teacher and student before distillation, as given and with the distractors removed. */
function evaluateBase(ctx: Ctx, splits: Record<SplitName, ArithRecord[]>, split: 'test' | 'validation'): DemoSummary['diagnostics'] {
  const t = Date.now();
  const out: DemoSummary['diagnostics'] = {};
  for (const name of ['teacher', 'student'] as const) {
    const m = loadPretrained(name === 'teacher' ? ctx.teacherDir : ctx.studentDir);
    const d = evaluateArith(m, splits.validation, 'prompt'), c = evaluateArith(m, splits.validation, 'clean');
    const sd = split === 'validation' ? d : evaluateArith(m, splits[split], 'prompt'), sc = split === 'validation' ? c : evaluateArith(m, splits[split], 'clean');
    out[name] = { distracted: d.accuracy, clean: c.accuracy, folded: d.folded, n: d.n, split: { distracted: sd.accuracy, clean: sc.accuracy } };
  }
  ctx.log(`validation: teacher ${pct(out.teacher.distracted)}% (distractors removed: ${pct(out.teacher.clean)}%), student ${pct(out.student.distracted)}% (distractors removed: ${pct(out.student.clean)}%)`);
  lap(ctx, 'evaluate-base', t);
  return out;
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

interface Mined {
  dirs: Record<string, string>;
  mining: DemoSummary['mining'];
  detection: DetectionRow[];
  sweepQs: number[];
}

/** 3. Mining on the train split (the first run decodes the selection answers; the others reuse them). */
async function mineAll(ctx: Ctx, extras: boolean): Promise<Mined> {
  const t = Date.now();
  const m = ctx.recipe.mining;
  const base = (dir: string): PlainMineOptions => ({
    teacher: ctx.teacherDir, student: ctx.studentDir, data: ctx.files.train, out: dir, level: 'instruction',
    batchSize: m.batchSize, maxNewTokens: m.maxNewTokens, overwrite: true, seed: 1234, fsync: false,
  });
  const head = (method: 'gradient' | 'random' | 'oracle', dir: string): PlainMineOptions => ({
    ...base(dir), method, unit: m.unit, ...(m.topUnits !== null ? { topUnits: m.topUnits } : { threshold: m.threshold }),
    protectLastSentence: m.protectLastSentence, verify: m.verify, verifyEquations: m.verifyEquations,
  });
  const token = (q: number, dir: string): PlainMineOptions => ({ ...base(dir), method: 'gradient', unit: 'token', threshold: q, verify: 'both' });
  const d = (name: string) => join(ctx.dirs.mined, name);
  const sweepQs = extras ? m.sweep.filter((q) => q !== m.threshold) : [];
  const jobs: DemoJob[] = [
    { kind: 'mine', label: 'mine-gradient-teacher', options: { ...head('gradient', d('gradient-teacher')), studentWeight: 0 } },
    { kind: 'mine', label: 'mine-random', options: head('random', d('random')) },
    { kind: 'mine', label: 'mine-oracle', options: head('oracle', d('oracle')) },
    { kind: 'mine', label: 'mine-gradient-token', options: token(m.threshold, d('gradient-token')) },
    ...(extras ? [{ kind: 'mine', label: 'mine-gradient-response', options: { ...base(d('gradient-response')), method: 'gradient', level: 'response', segments: m.segments, threshold: m.threshold } } as DemoJob] : []),
    ...sweepQs.map((q): DemoJob => ({ kind: 'mine', label: `mine-gradient-token-q${q}`, options: token(q, d(`gradient-token-q${q.toFixed(2)}`)) })),
  ];
  ctx.log(`mining: gradient (${m.unit} unit${m.topUnits !== null ? `, the ${m.topUnits} lowest` : `, q = ${m.threshold}`}${m.protectLastSentence ? ', question protected' : ''}, verified by ${m.verify}${m.verifyEquations ? ' with equations' : ''})…`);
  const [grad] = (await runJobs([{ kind: 'mine', label: 'mine-gradient', options: head('gradient', d('gradient')) }], 1, ctx.dirs.jobs)) as MineSummary[];
  for (const job of jobs) {
    const dir = (job as Extract<DemoJob, { kind: 'mine' }>).options.out;
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(d('gradient'), 'generations.jsonl'), join(dir, 'generations.jsonl'));
  }
  ctx.log(`mining: ${jobs.map((j) => j.label.slice(5)).join(', ')}…`);
  const others = (await runJobs(jobs, ctx.concurrency, ctx.dirs.jobs)) as MineSummary[];
  const summaries: Record<string, MineSummary> = { gradient: grad };
  const dirs: Record<string, string> = { gradient: d('gradient') };
  jobs.forEach((j, i) => {
    summaries[j.label.slice(5)] = others[i];
    dirs[j.label.slice(5)] = (j as Extract<DemoJob, { kind: 'mine' }>).options.out;
  });
  const mining: DemoSummary['mining'] = {};
  const detection: DetectionRow[] = [];
  for (const [k, s] of Object.entries(summaries)) {
    mining[k] = { selected: s.counts.selected, counterfactuals: s.counts.counterfactuals, verified: s.counts.verified, seconds: s.timings.total };
    if (s.detection && ['gradient', 'gradient-teacher', 'random', 'oracle', 'gradient-token'].includes(k)) {
      detection.push({ run: k, token: s.detection.token, unit: s.detection.unit, counterfactuals: s.counts.counterfactuals, verified: s.counts.verified });
    }
  }
  lap(ctx, 'mining', t);
  ctx.log(`mining: ${mining.gradient.selected} of ${ctx.recipe.trainProblems} train problems selected (student wrong, teacher right); verified counterfactuals: ${Object.entries(mining).map(([k, v]) => `${k} ${v.verified}`).join(', ')}`);
  return { dirs, mining, detection, sweepQs };
}

interface Distilled {
  byRun: Record<string, DistillJobResult[]>;
  info: DemoSummary['distill'];
}

/** 4. Distillation at equal steps, seeds and original batches, each run evaluated (validation; test at the end). */
async function distillAll(ctx: Ctx, mined: Mined, split: 'test' | 'validation', extras: boolean): Promise<Distilled> {
  const t = Date.now();
  const cf = (k: string) => verifiedCounterfactuals(mined.dirs[k]);
  const cfOf: Record<string, Record<string, unknown>[]> = { kd: [], 'leaf-gradient': cf('gradient'), 'leaf-gradient-teacher': cf('gradient-teacher'), 'leaf-random': cf('random'), 'leaf-oracle': cf('oracle') };
  if (extras) {
    cfOf['leaf-token'] = cf('gradient-token');
    cfOf['leaf-instr-resp'] = [...cfOf['leaf-gradient'], ...cf('gradient-response')];
  }
  for (const q of mined.sweepQs) cfOf[`leaf-token-q${q.toFixed(2)}`] = cf(`gradient-token-q${q}`);
  const d = ctx.recipe.distill;
  const originals = readRecords(ctx.files.train);
  const perEpoch = Math.ceil(originals.length / d.batchSize);
  const epochs = Math.max(1, Math.round(d.steps / perEpoch));
  const evaluate: EvalSet[] = (split === 'test' ? ['validation', 'test'] as const : ['validation'] as const).flatMap((s) => [
    { name: s, file: ctx.files[s], which: 'prompt' as const }, { name: `${s}-clean`, file: ctx.files[s], which: 'clean' as const },
  ]);
  rmSync(ctx.dirs.distillData, { recursive: true, force: true });
  const jobs: DistillJob[] = [];
  const samplesOf = new Map<DistillJob, number>(); // samples per epoch: a run's cost
  const runKeys = [...HEADLINE_RUNS, ...(extras ? EXTRA_RUNS : [])].map((r) => r.key as string);
  for (const key of Object.keys(cfOf)) {
    const dataDir = join(ctx.dirs.distillData, key);
    mkdirSync(dataDir, { recursive: true });
    const cfFile = join(dataDir, 'counterfactuals.jsonl');
    if (cfOf[key].length > 0) writeJsonlAtomic(cfFile, cfOf[key]);
    for (const seed of runKeys.includes(key) ? ctx.seeds : [ctx.seeds[0]]) {
      const job: DistillJob = {
        kind: 'distill', label: `distill-${key}-seed${seed}`,
        options: {
          student: ctx.studentDir, teacher: ctx.teacherDir, data: ctx.files.train, counterfactuals: cfOf[key].length > 0 ? cfFile : null, pairCounterfactuals: true,
          out: join(ctx.dirs.runs, `${key}-seed${seed}`), loss: 'fkl', epochs, lr: d.lr, batchSize: d.batchSize, microBatchSize: d.batchSize,
          warmup: d.warmup, maxGradNorm: d.maxGradNorm, cfWeight: d.cfWeight, seed, keepCheckpoints: 1,
        },
        evaluate,
      };
      jobs.push(job);
      samplesOf.set(job, originals.length + cfOf[key].length);
    }
  }
  ctx.log(`distillation: ${jobs.length} runs (${runKeys.join(', ')} × ${ctx.seeds.length} seeds${mined.sweepQs.length > 0 ? `, token level at q = ${mined.sweepQs.join(', ')} with seed ${ctx.seeds[0]}` : ''}), ${epochs * perEpoch} steps each, ${ctx.concurrency} at a time…`);
  // A finished run with the same inputs, settings, kernels and code is reused (run-reuse.ts); any other is trained afresh.
  const runtime = { kernels: getKernels().name, concurrency: ctx.concurrency };
  const keys = jobs.map((job) => runKey(job, runtime));
  const results: (DistillJobResult | null)[] = jobs.map((job, i) => reusableResult(job, keys[i]));
  const toRun = jobs.filter((_, i) => results[i] === null);
  if (toRun.length < jobs.length) ctx.log(`  ${jobs.length - toRun.length} finished run(s) with the same inputs, settings and code reused`);
  for (const job of toRun) rmSync(job.options.out, { recursive: true, force: true });
  let done = 0;
  // Longest runs first (most samples per epoch), so that no worker is left with one long run at the end; results do not depend on the order.
  const longestFirst = [...toRun].sort((a, b) => samplesOf.get(b)! - samplesOf.get(a)!);
  await runJobs(longestFirst, ctx.concurrency, ctx.dirs.jobs, (job, result) => {
    const i = jobs.indexOf(job as DistillJob);
    results[i] = result as DistillJobResult;
    saveResult(jobs[i], keys[i], results[i]!); // as soon as it finishes: an interrupted demo keeps its finished runs
    ctx.log(`  ${job.label} done (${++done}/${toRun.length})`);
  });
  lap(ctx, 'distill', t);
  const all = results as DistillJobResult[];
  const byRun: Record<string, DistillJobResult[]> = {};
  jobs.forEach((j, i) => (byRun[j.label.replace(/^distill-/, '').replace(/-seed\d+$/, '')] ??= []).push(all[i]));
  const missingSource = Math.max(0, ...all.map((r) => r.samples.missingSource));
  if (missingSource > 0) ctx.log(`warning: ${missingSource} counterfactual(s) had no original to pair with and were left out (see ${ctx.dirs.jobs})`);
  return {
    byRun,
    info: {
      protocol: 'paired', steps: epochs * perEpoch, epochs, originals: originals.length,
      counterfactuals: Object.fromEntries(Object.entries(cfOf).map(([k, v]) => [k, v.length])), missingSource, reusedRuns: jobs.length - toRun.length,
      runs: Object.fromEntries(runKeys.map((k) => [k, byRun[k].map((r, i) => ({ seed: ctx.seeds[i], steps: r.steps, seconds: r.seconds, samples: r.samples }))])),
    },
  };
}

/** The extras' token-level q sweep: detection at each q (re-thresholded scores) and one LeaF run per q. */
function sweepRows(ctx: Ctx, mined: Mined, distilled: Distilled, split: string): DemoSummary['sweep'] {
  if (mined.sweepQs.length === 0) return [];
  const m = ctx.recipe.mining;
  const raw = thresholdSweep(readMined(mined.dirs['gradient-token']), readTruth(ctx.files.train), m.sweep);
  return raw.map((r) => {
    const key = r.q === m.threshold ? 'leaf-token' : `leaf-token-q${r.q.toFixed(2)}`;
    const run = distilled.byRun[key]?.[0];
    const mk = r.q === m.threshold ? 'gradient-token' : `gradient-token-q${r.q}`;
    const q = r.quality;
    return { q: r.q, precision: q.precision, recall: q.recall, f1: q.f1, flaggedPerProblem: r.flaggedPerProblem, verified: mined.mining[mk]?.verified ?? 0, accuracy: run ? run.eval[split].accuracy : null };
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
  ctx: Ctx, headline: HeadlineRow[], detection: DetectionRow[], sweep: DemoSummary['sweep'], verdict: string, diagnostics: DemoSummary['diagnostics'],
  byRun: Record<string, DistillJobResult[]>, problems: number,
): { reportFile: string; attention: DemoSummary['attention'] } {
  const t = Date.now();
  const reportFile = join(resolve(ctx.dirs.data, '..'), 'report.html');
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
