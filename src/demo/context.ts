/**
 * What every stage of `leaf demo` reads: the recipe of the pair, the seeds, the worker count, the
 * folders and files of the run, and where timings and log lines go.
 */
import type { SplitName } from './arith/dataset.js';
import type { EvalSet } from './jobs.js';
import type { DemoRecipe } from './recipes.js';

export interface DemoContext {
  /** The demo's output folder (absolute). */
  out: string;
  recipe: DemoRecipe;
  /** Distillation seeds. */
  seeds: number[];
  concurrency: number;
  log: (line: string) => void;
  dirs: Record<'data' | 'models' | 'mined' | 'runs' | 'distillData' | 'jobs', string>;
  files: Record<SplitName, string>;
  teacherDir: string;
  studentDir: string;
  /** The split of the headline ('validation' with validationOnly). */
  split: 'test' | 'validation';
  /** The evaluation sets of the teacher and student: validation and the headline split, each as given and with its distractors removed. */
  evaluate: EvalSet[];
  /** Those of a distilled student: the headline split (as given and clean) and validation as given — what the headline shows. */
  evaluateRuns: EvalSet[];
  timings: Record<string, number>;
}

/**
 * The evaluation sets: `validation` and `validation-clean`, then the test split's when it is read; for
 * distilled runs (`runs`) validation-clean is left out when the headline is on test (nothing reads it).
 */
export function evaluationSets(files: Record<SplitName, string>, split: 'test' | 'validation', runs = false): EvalSet[] {
  return (split === 'test' ? ['validation', 'test'] as const : ['validation'] as const).flatMap((s) => [
    { name: s, file: files[s], which: 'prompt' as const },
    ...(runs && s !== split ? [] : [{ name: `${s}-clean`, file: files[s], which: 'clean' as const }]),
  ]);
}

/** Labels of the models' training tasks (every later task comes after both). */
export const MODEL_TASKS = ['train-teacher', 'train-student'] as const;

/** Records, under `name`, the wall time from the first task's start to the last one's end of a stage. */
export class StageClock {
  private first = Infinity;
  private last = -Infinity;
  constructor(private readonly ctx: DemoContext, private readonly name: string) {}
  started(): void {
    this.first = Math.min(this.first, Date.now());
  }
  finished(): void {
    this.last = Math.max(this.last, Date.now());
    this.ctx.timings[this.name] = (this.last - this.first) / 1000;
  }
}
