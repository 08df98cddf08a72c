/**
 * `leaf demo`: LeaF end to end on the distracted-arithmetic benchmark, on a CPU.
 *
 *  1. benchmark files (train / validation / test, ground-truth distractor spans);
 *  2. a tiny teacher (trained on distractor-rich problems) and a smaller student (half of its problems
 *     distractor-free, fewer steps), trained from scratch — or reused from OUT/models;
 *  3. confounder mining on the train split with `gradient`, `random` and `ppl` at the same budget
 *     (instruction level), and `gradient` at response level;
 *  4. distillation of the student: plain KD, LeaF at instruction level, LeaF at instruction + response
 *     level — equal optimizer steps, same seeds, the same original batches (the trainer's
 *     pairCounterfactuals: a LeaF step adds the counterfactuals of its originals, LeaF's hybrid loss);
 *  5. evaluation of every model on the held-out test split; detection quality against the ground truth;
 *     the threshold sweep; OUT/summary.json and OUT/report.html.
 *
 * Nothing is tuned on the test split: recipes are fixed in recipes.ts, and the test split is only read by
 * the final evaluations.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { writeJsonlAtomic } from '../data/jsonl.js';
import { LeafError } from '../errors.js';
import { meanStd, type MeanStd } from '../eval/stats.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { getKernels } from '../kernels/index.js';
import type { MineSummary } from '../method/mine.js';
import { loadPretrained } from '../model/pretrained.js';
import { detectionByMethod, detectionTable, sweepTable, thresholdSweep } from '../report/assemble.js';
import type { TableView } from '../report/data.js';
import type { DetectionQuality } from '../method/detection.js';
import { writeReport } from '../report/build.js';
import { readMined, readTruth } from '../report/mined.js';
import { generateSplit, type ArithRecord, type SplitName } from './arith/dataset.js';
import { evaluateArith, type ArithEval } from './evaluate.js';
import { readRecords, type DemoJob, type DistillJob, type DistillJobResult, type PlainMineOptions } from './jobs.js';
import { reusableResult, runKey, saveResult } from './run-reuse.js';
import type { TrainedModelInfo } from './models.js';
import { runJobs } from './pool.js';
import { DEMO_RECIPE, type DemoRecipe } from './recipes.js';
import { writeArithTokenizer } from './tiny-models.js';
import { makeOutDir } from '../io/out-dir.js';
import { inRunFolder, type RunFolder } from '../data/run-folder.js';

export interface DemoOptions {
  out: string;
  seeds?: number;
  recipe?: DemoRecipe;
  /** Worker processes (default: 2 when two or more cores are available, else 1 = in this process). */
  concurrency?: number;
  /** One line per stage on stderr (default: none). */
  log?: (line: string) => void;
  /** Reuse what the folder holds and is still valid (also the default: see run-reuse.ts and models.ts). */
  resume?: boolean;
  /** Start over: remove what an earlier demo wrote to the folder (models, mined runs, distillation runs, results). */
  overwrite?: boolean;
}

/** What a demo writes to its folder (removed by --overwrite). */
const DEMO_OUTPUTS = ['data', 'models', 'mined', 'runs', 'distill-data', 'jobs', 'summary.json', 'report.html'];

export const DISTILL_RUNS = [
  { key: 'kd', label: 'KD (no masking)' },
  { key: 'leaf-instr', label: 'LeaF instr' },
  { key: 'leaf-instr-resp', label: 'LeaF instr+resp' },
] as const;
export type RunKey = (typeof DISTILL_RUNS)[number]['key'];

export interface AccuracyRow {
  model: string;
  /** Validation accuracy, mean over seeds (what recipe choices may look at; the test split is only reported). */
  validation: number;
  /** Test accuracy per seed (one value for models that do not depend on the seed). */
  values: number[];
  stats: MeanStd;
  /** Wrong answers that folded a distractor's number in, summed over seeds. */
  folded: number;
}

export interface DemoSummary {
  out: string;
  recipe: DemoRecipe;
  seeds: number[];
  kernels: string;
  concurrency: number;
  models: { teacher: TrainedModelInfo; student: TrainedModelInfo };
  diagnostics: Record<string, { distracted: number; clean: number; folded: number; n: number }>;
  mining: Record<string, { selected: number; counterfactuals: number; verified: number; seconds: number }>;
  detection: { method: string; precision: number; recall: number; f1: number; flagged: number; positives: number; problems: number }[];
  sweep: { q: number; precision: number; recall: number; f1: number; flaggedPerProblem: number; verified: number; leafInstrAccuracy: number | null }[];
  /**
   * Every run: `epochs` passes over the `originals` in steps of recipe.distill.batchSize originals, the same
   * batches for every run of a seed; a LeaF step adds its originals' counterfactuals (`counterfactuals[run]`
   * per epoch, weight λ = 1 each). `missingSource`: counterfactuals with no original to join (left out).
   */
  distill: {
    protocol: 'paired'; steps: number; epochs: number; originals: number; counterfactuals: Record<string, number>; missingSource: number;
    /** Runs (of all, the sweep's included) whose saved result was reused: same inputs, settings, kernels and code (run-reuse.ts). */
    reusedRuns: number;
    runs: Record<string, { seed: number; steps: number; seconds: number; samples: { original: number; counterfactual: number; missingSource: number } }[]>;
  };
  accuracy: AccuracyRow[];
  /** Share of the answer positions' attention on distractor tokens (report problems, all layers and heads). */
  attention: { model: string; distractorShare: number; problems: number }[];
  verdict: string;
  timings: Record<string, number>;
  report: string;
}

const pct = (x: number) => (100 * x).toFixed(1);
const ms = (m: MeanStd) => (m.n > 1 ? `${pct(m.mean)} ± ${pct(m.std)}` : pct(m.mean));

function verifiedCounterfactuals(dir: string): Record<string, unknown>[] {
  const f = join(dir, 'counterfactuals.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.verified !== false);
}

/** Runs the demo in its locked output folder (one demo per folder; see DemoOptions for resume / overwrite). */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const nSeeds = options.seeds ?? 3;
  if (!(Number.isInteger(nSeeds) && nSeeds >= 1 && nSeeds <= 20)) throw new LeafError(`--seeds must be an integer in 1..20, got ${nSeeds}`);
  return inRunFolder(resolve(options.out), {
    command: 'demo', resume: options.resume === true, overwrite: options.overwrite === true, otherwise: 'resume', records: [], outputs: DEMO_OUTPUTS,
  }, (folder) => demoIn(folder, options, nSeeds));
}

async function demoIn(folder: RunFolder, options: DemoOptions, nSeeds: number): Promise<DemoSummary> {
  const t0 = Date.now();
  const recipe = options.recipe ?? DEMO_RECIPE;
  const seeds = Array.from({ length: nSeeds }, (_, i) => i + 1);
  const concurrency = options.concurrency ?? (availableParallelism() >= 2 ? 2 : 1);
  const log = options.log ?? (() => {});
  const out = resolve(options.out);
  const dirs = {
    data: join(out, 'data'), models: join(out, 'models'), mined: join(out, 'mined'), runs: join(out, 'runs'),
    distillData: join(out, 'distill-data'), jobs: join(out, 'jobs'),
  };
  folder.start();
  for (const d of Object.values(dirs)) makeOutDir(d, 'output folder');
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = (Date.now() - since) / 1000);

  // 1. Benchmark.
  let t = Date.now();
  const files: Record<SplitName, string> = { train: join(dirs.data, 'train.jsonl'), validation: join(dirs.data, 'validation.jsonl'), test: join(dirs.data, 'test.jsonl') };
  const counts: Record<SplitName, number> = { train: recipe.trainProblems, validation: recipe.validationProblems, test: recipe.testProblems };
  const splits = {} as Record<SplitName, ArithRecord[]>;
  for (const s of ['train', 'validation', 'test'] as const) {
    splits[s] = generateSplit(s, counts[s], recipe.dataSeed, { ...recipe.problems, ...recipe.benchmark });
    writeJsonlAtomic(files[s], splits[s]);
  }
  log(`benchmark: ${counts.train} train / ${counts.validation} validation / ${counts.test} test problems in ${dirs.data}`);
  lap('data', t);

  // 2. Teacher and student.
  t = Date.now();
  const tokDir = join(dirs.models, 'tokenizer');
  writeArithTokenizer(tokDir);
  const teacherDir = join(dirs.models, 'teacher'), studentDir = join(dirs.models, 'student');
  const modelJobs: DemoJob[] = [
    { kind: 'train-model', label: 'train-teacher', name: 'teacher', dir: teacherDir, tokenizerDir: tokDir, recipe: recipe.teacher, problems: recipe.problems, dataSeed: recipe.dataSeed },
    { kind: 'train-model', label: 'train-student', name: 'student', dir: studentDir, tokenizerDir: tokDir, recipe: recipe.student, problems: recipe.problems, dataSeed: recipe.dataSeed },
  ];
  log(`training teacher (${recipe.teacher.steps} steps) and student (${recipe.student.steps} steps), or reusing them from ${dirs.models}…`);
  const [teacherInfo, studentInfo] = (await runJobs(modelJobs, concurrency, dirs.jobs)) as TrainedModelInfo[];
  lap('models', t);
  log(`models: teacher ${teacherInfo.reused ? 'reused' : `trained in ${teacherInfo.seconds.toFixed(1)} s`}, student ${studentInfo.reused ? 'reused' : `trained in ${studentInfo.seconds.toFixed(1)} s`}`);

  // Validation diagnostics (distracted vs distractors removed) and the two fixed test rows.
  t = Date.now();
  const teacher = loadPretrained(teacherDir), student = loadPretrained(studentDir);
  teacherInfo.parameters = teacher.model.numParameters();
  studentInfo.parameters = student.model.numParameters();
  const diagnostics: DemoSummary['diagnostics'] = {};
  const evals: Record<string, ArithEval> = {};
  for (const [name, m] of [['teacher', teacher], ['student', student]] as const) {
    const d = evaluateArith(m, splits.validation, 'prompt'), c = evaluateArith(m, splits.validation, 'clean');
    diagnostics[name] = { distracted: d.accuracy, clean: c.accuracy, folded: d.folded, n: d.n };
    evals[name] = evaluateArith(m, splits.test, 'prompt');
  }
  log(`validation: teacher ${pct(diagnostics.teacher.distracted)}% (distractors removed: ${pct(diagnostics.teacher.clean)}%), student ${pct(diagnostics.student.distracted)}% (distractors removed: ${pct(diagnostics.student.clean)}%)`);
  lap('evaluate-base', t);

  // 3. Mining.
  t = Date.now();
  const m = recipe.mining;
  const mineOpts = (method: PlainMineOptions['method'], level: 'instruction' | 'response', dir: string): PlainMineOptions => ({
    teacher: teacherDir, student: studentDir, data: files.train, out: dir, method, level, threshold: m.threshold,
    ...(level === 'response' ? { segments: m.segments } : {}),
    batchSize: m.batchSize, maxNewTokens: m.maxNewTokens, overwrite: true, seed: 1234, fsync: false,
  });
  const minedDirs = {
    gradient: join(dirs.mined, 'gradient'), random: join(dirs.mined, 'random'), ppl: join(dirs.mined, 'ppl'),
    'gradient-response': join(dirs.mined, 'gradient-response'),
  };
  const sweepQs = m.sweep.filter((q) => q !== m.threshold);
  const sweepDir = (q: number) => join(dirs.mined, `gradient-q${q.toFixed(2)}`);
  log('mining: gradient (instruction level)…');
  const [gradSummary] = (await runJobs([{ kind: 'mine', label: 'mine-gradient', options: mineOpts('gradient', 'instruction', minedDirs.gradient) }], 1, dirs.jobs)) as MineSummary[];
  // The other runs reuse the selection answers already decoded (same models, problems and prompts).
  for (const dir of [minedDirs.random, minedDirs.ppl, minedDirs['gradient-response'], ...sweepQs.map(sweepDir)]) {
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(minedDirs.gradient, 'generations.jsonl'), join(dir, 'generations.jsonl'));
  }
  log(`mining: random, ppl (instruction level), gradient (response level) and gradient at q = ${sweepQs.join(', ')} (sweep)…`);
  const others = (await runJobs([
    { kind: 'mine', label: 'mine-random', options: mineOpts('random', 'instruction', minedDirs.random) },
    { kind: 'mine', label: 'mine-ppl', options: mineOpts('ppl', 'instruction', minedDirs.ppl) },
    { kind: 'mine', label: 'mine-gradient-response', options: mineOpts('gradient', 'response', minedDirs['gradient-response']) },
    ...sweepQs.map((q): DemoJob => ({ kind: 'mine', label: `mine-gradient-q${q}`, options: { ...mineOpts('gradient', 'instruction', sweepDir(q)), threshold: q } })),
  ], concurrency, dirs.jobs)) as MineSummary[];
  const mineSummaries: Record<string, MineSummary> = { gradient: gradSummary, random: others[0], ppl: others[1], 'gradient-response': others[2] };
  sweepQs.forEach((q, i) => (mineSummaries[`gradient-q${q.toFixed(2)}`] = others[3 + i]));
  const mining: DemoSummary['mining'] = {};
  for (const [k, s] of Object.entries(mineSummaries)) {
    mining[k] = { selected: s.counts.selected, counterfactuals: s.counts.counterfactuals, verified: s.counts.verified, seconds: s.timings.total_s };
  }
  lap('mining', t);
  log(`mining: ${mining.gradient.selected} of ${counts.train} train problems selected (student wrong, teacher right); verified counterfactuals: gradient ${mining.gradient.verified}, random ${mining.random.verified}, ppl ${mining.ppl.verified}, response level ${mining['gradient-response'].verified}`);

  // Detection quality and the threshold sweep, against the ground truth.
  const truth = readTruth(files.train);
  const detRaw = (['gradient', 'random', 'ppl'] as const).flatMap((k) => detectionByMethod(readMined(minedDirs[k]), truth));
  const sweepRaw = thresholdSweep(readMined(minedDirs.gradient), truth, m.sweep);
  const detection = detRaw.map(({ method, quality: q }) => ({ method, ...pickQ(q) }));
  const sweepDetection = sweepRaw.map((r) => ({ q: r.q, ...pickQ(r.quality), flaggedPerProblem: r.flaggedPerProblem }));

  // 4. Distillation at equal steps, seeds and original batches: every run plans its steps over the same
  // originals (pairCounterfactuals; plain KD has none to pair), and a LeaF step adds the counterfactuals of
  // its originals, each weighing λ = 1 — LeaF's hybrid loss KD(s) + λ·Σ KD(cf of s), nothing displaced.
  t = Date.now();
  const originals = readRecords(files.train);
  const cfInstr = verifiedCounterfactuals(minedDirs.gradient);
  const cfResp = verifiedCounterfactuals(minedDirs['gradient-response']);
  const cfOf: Record<RunKey, Record<string, unknown>[]> = { kd: [], 'leaf-instr': cfInstr, 'leaf-instr-resp': [...cfInstr, ...cfResp] };
  const sweepCfs = sweepQs.map((q) => verifiedCounterfactuals(sweepDir(q)));
  const d = recipe.distill;
  const perEpoch = Math.ceil(originals.length / d.batchSize);
  const epochs = Math.max(1, Math.round(d.steps / perEpoch));
  rmSync(dirs.distillData, { recursive: true, force: true });
  const jobs: DistillJob[] = [];
  const addRuns = (key: string, cf: Record<string, unknown>[], runSeeds: number[]) => {
    const dataDir = join(dirs.distillData, key);
    mkdirSync(dataDir, { recursive: true });
    const cfFile = join(dataDir, 'counterfactuals.jsonl');
    if (cf.length > 0) writeJsonlAtomic(cfFile, cf);
    for (const seed of runSeeds) {
      jobs.push({
        kind: 'distill', label: `distill-${key}-seed${seed}`,
        options: {
          student: studentDir, teacher: teacherDir, data: files.train, counterfactuals: cf.length > 0 ? cfFile : null, pairCounterfactuals: true,
          out: join(dirs.runs, `${key}-seed${seed}`), loss: 'fkl', epochs, lr: d.lr, batchSize: d.batchSize, microBatchSize: d.batchSize,
          warmup: d.warmup, maxGradNorm: d.maxGradNorm, seed, keepCheckpoints: 1,
        },
        evaluate: { validation: files.validation, test: files.test },
      });
    }
  };
  for (const run of DISTILL_RUNS) addRuns(run.key, cfOf[run.key], seeds);
  // The sweep: LeaF instr with the counterfactuals mined at the other thresholds, first seed only.
  sweepQs.forEach((q, i) => addRuns(`leaf-instr-q${q.toFixed(2)}`, sweepCfs[i], [seeds[0]]));
  log(`distillation: ${jobs.length} runs (${DISTILL_RUNS.map((r) => r.label).join(', ')} × ${seeds.length} seeds, LeaF instr at q = ${sweepQs.join(', ')} with seed ${seeds[0]}), ${epochs * perEpoch} steps each, ${concurrency} at a time…`);
  // A finished run with the same inputs, settings, kernels and code is reused (run-reuse.ts); any other is trained afresh.
  const runtime = { kernels: getKernels().name, concurrency };
  const keys = jobs.map((job) => runKey(job, runtime));
  const results: (DistillJobResult | null)[] = jobs.map((job, i) => reusableResult(job, keys[i]));
  const toRun = jobs.filter((_, i) => results[i] === null);
  if (toRun.length < jobs.length) log(`  ${jobs.length - toRun.length} finished run(s) with the same inputs, settings and code reused`);
  for (const job of toRun) rmSync(job.options.out, { recursive: true, force: true });
  let done = 0;
  await runJobs(toRun, concurrency, dirs.jobs, (job, result) => {
    const i = jobs.indexOf(job as DistillJob);
    results[i] = result as DistillJobResult;
    saveResult(jobs[i], keys[i], results[i]!); // as soon as it finishes: an interrupted demo keeps its finished runs
    log(`  ${job.label} done (${++done}/${toRun.length})`);
  });
  const runResults = results as DistillJobResult[];
  lap('distill', t);
  const missingSource = Math.max(0, ...runResults.map((r) => r.samples.missingSource));
  if (missingSource > 0) log(`warning: ${missingSource} counterfactual(s) had no original to pair with and were left out (see ${dirs.jobs})`);

  // 5. Accuracy table.
  const byRun = (key: string) => runResults.filter((_, i) => jobs[i].label.startsWith(`distill-${key}-seed`));
  const sweepAccuracy = m.sweep.map((q) => (q === m.threshold ? byRun('leaf-instr')[0] : byRun(`leaf-instr-q${q.toFixed(2)}`)[0])?.eval.test.accuracy ?? null);
  const sweepVerified = m.sweep.map((q) => (q === m.threshold ? cfInstr.length : sweepCfs[sweepQs.indexOf(q)].length));
  const accuracy: AccuracyRow[] = [
    { model: 'student (before)', validation: diagnostics.student.distracted, values: [evals.student.accuracy], stats: meanStd([evals.student.accuracy]), folded: evals.student.folded },
    ...DISTILL_RUNS.map((run) => {
      const rs = byRun(run.key);
      const values = rs.map((r) => r.eval.test.accuracy);
      return { model: `student, ${run.label}`, validation: meanStd(rs.map((r) => r.eval.validation.accuracy)).mean, values, stats: meanStd(values), folded: rs.reduce((a, r) => a + r.eval.test.folded, 0) };
    }),
    { model: 'teacher', validation: diagnostics.teacher.distracted, values: [evals.teacher.accuracy], stats: meanStd([evals.teacher.accuracy]), folded: evals.teacher.folded },
  ];
  const sweep = sweepDetection.map((r, i) => ({ ...r, verified: sweepVerified[i], leafInstrAccuracy: sweepAccuracy[i] }));
  const kd = accuracy[1].stats, li = accuracy[2].stats, lir = accuracy[3].stats;
  const verdict = verdictText(kd, li, lir, seeds.length);
  log(verdict);

  // Report.
  t = Date.now();
  const reportFile = join(out, 'report.html');
  const runsForReport = DISTILL_RUNS.flatMap((run) => seeds.map((s) => ({ label: `${run.label} seed ${s}`, group: run.label, dir: join(dirs.runs, `${run.key}-seed${s}`) })));
  const facts = new Map<string, string[]>();
  const reportData = writeReport({
    out: reportFile, mined: minedDirs.gradient, data: files.train, runs: runsForReport, limit: recipe.reportProblems,
    attention: [
      { label: 'student before', dir: studentDir },
      { label: `after KD (seed ${seeds[0]})`, dir: byRun('kd')[0].modelDir },
      { label: `after LeaF instr (seed ${seeds[0]})`, dir: byRun('leaf-instr')[0].modelDir },
      { label: 'teacher (reference)', dir: teacherDir },
    ],
    title: 'leaf demo: LeaF on distracted arithmetic',
    subtitle: `tiny Llama teacher (${teacher.model.numParameters()} parameters) and student (${student.model.numParameters()}), ${counts.train} train / ${counts.test} test problems, ${seeds.length} seed(s), generated ${new Date().toISOString()}`,
    notes: [verdict, ...diagnosticNotes(diagnostics)],
    tables: [
      accuracyTable(accuracy, seeds.length),
      detectionTable(detRaw, 'Token level: a token is a true distractor token when it overlaps an inserted sentence; flagged = the miner\'s candidates (q = ' + m.threshold + '; random and ppl flag as many tokens as gradient per problem). Micro-averaged over the selected train problems (student wrong, teacher right).'),
      sweepTable(sweepRaw, [
        { name: 'verified counterfactuals', values: sweepVerified },
        { name: `LeaF instr test accuracy % (seed ${seeds[0]})`, values: sweepAccuracy.map((a) => (a === null ? null : Number(pct(a)))) },
      ], 'Detection: the gradient scores of the train problems re-thresholded at each q (the reference rule thr = min(q-quantile of D, 0.5)). Accuracy: the student distilled with LeaF (instruction level) on the counterfactuals mined at that q, one seed, the same steps as every run.'),
      miningTable(mining),
    ],
    ownTables: false, facts,
  });
  lap('report', t);
  const shareTable = reportData.tables.find((x) => x.id === 'attention-share');
  const attention = (shareTable?.rows ?? []).map((r) => ({ model: String(r[0]), distractorShare: Number(r[1]) / 100, problems: Number(r[2]) }));
  timings.total = (Date.now() - t0) / 1000;

  const summary: DemoSummary = {
    out, recipe, seeds, kernels: getKernels().name, concurrency, models: { teacher: teacherInfo, student: studentInfo }, diagnostics, mining, detection, sweep,
    distill: {
      protocol: 'paired', steps: epochs * perEpoch, epochs, originals: originals.length,
      counterfactuals: Object.fromEntries([...DISTILL_RUNS.map((run) => [run.key, cfOf[run.key].length] as const), ...sweepQs.map((q, i) => [`leaf-instr-q${q.toFixed(2)}`, sweepCfs[i].length] as const)]),
      missingSource, reusedRuns: jobs.length - toRun.length,
      runs: Object.fromEntries(DISTILL_RUNS.map((run) => [run.key, byRun(run.key).map((r, i) => ({ seed: seeds[i], steps: r.steps, seconds: r.seconds, samples: r.samples }))])),
    },
    accuracy, attention, verdict, timings, report: reportFile,
  };
  writeFileAtomicSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

function pickQ(q: DetectionQuality) {
  return { precision: q.precision, recall: q.recall, f1: q.f1, flagged: q.tp + q.fp, positives: q.positives, problems: q.problems };
}

export function verdictText(kd: MeanStd, li: MeanStd, lir: MeanStd, nSeeds: number): string {
  const best = li.mean >= lir.mean ? { name: 'LeaF instr', s: li } : { name: 'LeaF instr+resp', s: lir };
  const gap = best.s.mean - kd.mean;
  const noise = Math.max(kd.std, best.s.std);
  if (gap > 0 && (nSeeds === 1 || gap > noise)) return `${best.name} beats plain KD on the test split: ${pct(best.s.mean)}% vs ${pct(kd.mean)}% (+${pct(gap)} points, mean over ${nSeeds} seed(s)).`;
  if (gap > 0) return `${best.name} is ahead of plain KD on the test split by only ${pct(gap)} points (${pct(best.s.mean)}% vs ${pct(kd.mean)}%), within the spread over seeds (±${pct(noise)}): no clear win.`;
  return `LeaF does not beat plain KD here: best LeaF ${pct(best.s.mean)}% vs KD ${pct(kd.mean)}% on the test split (mean over ${nSeeds} seed(s)).`;
}

function diagnosticNotes(d: DemoSummary['diagnostics']): string[] {
  return [
    `Validation, before distillation: teacher ${pct(d.teacher.distracted)}% (${pct(d.teacher.clean)}% with the distractors removed); student ${pct(d.student.distracted)}% (${pct(d.student.clean)}% with the distractors removed; ${d.student.folded} of its wrong answers fold a distractor's number in).`,
  ];
}

export function accuracyTable(rows: AccuracyRow[], nSeeds: number): TableView {
  return {
    id: 'accuracy', title: `Test accuracy (held-out split, greedy), mean ± std over ${nSeeds} seed(s)`,
    columns: ['model', 'test accuracy %', 'per seed %', 'validation %', 'wrong test answers folding a distractor number'],
    rows: rows.map((r) => [r.model, ms(r.stats), r.values.map((v) => pct(v)).join(' / '), pct(r.validation), r.folded]),
    caption: 'Student before = the trained student; KD = forward-KL distillation on the train split only; LeaF = the same plus the verified counterfactuals of gradient mining (instruction level; + response level). Equal optimizer steps and seeds, the same original batches: a LeaF step adds the counterfactuals of its originals (weight 1 each) to the KD step.',
  };
}

function miningTable(mining: DemoSummary['mining']): TableView {
  return {
    id: 'mining', title: 'Mining on the train split (span pruning, verification by both models)',
    columns: ['run', 'selected problems', 'counterfactuals', 'verified'],
    rows: Object.entries(mining).map(([k, v]) => [k, v.selected, v.counterfactuals, v.verified]),
  };
}
