/**
 * The demo's units of work, serialisable so that they can run in child processes (two at a time on two
 * cores: each child single-threaded, which beats one process with two threads on models this small).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mine, type MineOptions, type MineSummary } from '../method/mine.js';
import { loadPretrained } from '../model/pretrained.js';
import { distill, type DistillOptions } from '../training/trainer.js';
import type { ArithRecord } from './arith/dataset.js';
import { evaluateArith, type ArithEval } from './evaluate.js';
import { ensureModel, type TrainedModelInfo } from './models.js';
import type { ModelRecipe } from './recipes.js';
import type { ProblemSettings } from './arith/problem.js';

export type PlainMineOptions = Omit<MineOptions, 'teacher' | 'student' | 'onProgress' | 'onWarning' | 'onRecord'> & { teacher: string; student: string };
export type PlainDistillOptions = Omit<DistillOptions, 'student' | 'teacher' | 'onProgress' | 'onWarning' | 'kernels' | 'data' | 'counterfactuals' | 'evalData'> & {
  student: string; teacher: string; data: string; counterfactuals: string | null;
};

export type DemoJob =
  | { kind: 'train-model'; label: string; name: string; dir: string; tokenizerDir: string; recipe: ModelRecipe; problems: Partial<ProblemSettings>; dataSeed: number; evaluate?: EvalSet[] }
  | { kind: 'evaluate'; label: string; modelDir: string; evaluate: EvalSet[] }
  | { kind: 'mine'; label: string; options: PlainMineOptions }
  | { kind: 'distill'; label: string; options: PlainDistillOptions; evaluate: EvalSet[] };

/** An evaluation of a distilled model: a benchmark file, as given or with its distractors removed (`clean`). */
export interface EvalSet {
  name: string;
  file: string;
  which: 'prompt' | 'clean';
}

export type DistillJob = Extract<DemoJob, { kind: 'distill' }>;

export interface DistillJobResult {
  modelDir: string;
  steps: number;
  seconds: number;
  /** Samples trained on; missingSource: counterfactuals with no original to pair with (left out). */
  samples: { original: number; counterfactual: number; missingSource: number };
  finalLoss: number | null;
  eval: EvalResults;
}

/** Accuracy on each evaluation set, by its name (responses left out). */
export type EvalResults = Record<string, Omit<ArithEval, 'responses'> & { responses?: string[] }>;

export type JobResult = (TrainedModelInfo & { eval?: EvalResults }) | { eval: EvalResults } | MineSummary | DistillJobResult;

/** Evaluates the model in `modelDir` on each set. */
function evaluateSets(modelDir: string, sets: readonly EvalSet[]): EvalResults {
  const model = loadPretrained(modelDir);
  const ev: EvalResults = {};
  for (const e of sets) {
    const r = evaluateArith(model, readRecords(e.file), e.which);
    ev[e.name] = { n: r.n, correct: r.correct, accuracy: r.accuracy, folded: r.folded, verdicts: r.verdicts };
  }
  return ev;
}

export function readRecords(file: string): ArithRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ArithRecord);
}

/** Runs a job in this process. */
export async function runJob(job: DemoJob): Promise<JobResult> {
  switch (job.kind) {
    case 'train-model': {
      const info = ensureModel(job.name, job.dir, job.tokenizerDir, job.recipe, job.problems, job.dataSeed);
      return job.evaluate ? { ...info, eval: evaluateSets(job.dir, job.evaluate) } : info;
    }
    case 'evaluate':
      return { eval: evaluateSets(job.modelDir, job.evaluate) };
    case 'mine': {
      const o = job.options;
      return mine({ ...o, teacher: loadPretrained(o.teacher), student: loadPretrained(o.student), onWarning: () => {} });
    }
    case 'distill': {
      const o = job.options;
      const started = Date.now();
      const s = await distill({ ...o, counterfactuals: o.counterfactuals, onWarning: () => {} });
      const modelDir = s.modelDir ?? join(o.out, 'model');
      const ev = evaluateSets(modelDir, job.evaluate); // before `seconds`: a run's time includes its evaluation
      return {
        modelDir, steps: s.steps, seconds: (Date.now() - started) / 1000,
        samples: { original: s.data.samples.originals, counterfactual: s.data.samples.counterfactuals, missingSource: s.pairing?.missingSource ?? 0 },
        finalLoss: s.final?.loss ?? null, eval: ev,
      };
    }
  }
}
