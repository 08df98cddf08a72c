/**
 * The demo's models stage: a tiny teacher and a smaller student trained from scratch with the pair's
 * recipe (or reused from OUT/models), and both evaluated before distillation on validation and the
 * headline split, as given and with the distractors removed. The student is evaluated by its training
 * task (on the core the longer teacher training leaves free), the teacher by a task of its own.
 */
import { join } from 'node:path';
import { MODEL_TASKS, StageClock, type DemoContext } from './context.js';
import type { EvalResults, JobResult } from './jobs.js';
import type { TrainedModelInfo } from './models.js';
import type { Task } from './pool.js';
import { writeArithTokenizer } from './tiny-models.js';
import { pct } from '../util/format.js';

/** Before distillation: accuracy as given and with the distractors removed, on validation and on the headline split. */
export type Diagnostics = Record<string, { distracted: number; clean: number; folded: number; n: number; split: { distracted: number; clean: number } }>;

export interface ModelsStage {
  tasks: Task[];
  /** After the graph ran: the models and their diagnostics. */
  collect(results: Map<string, JobResult>): { models: { teacher: TrainedModelInfo; student: TrainedModelInfo }; diagnostics: Diagnostics };
}


export function modelsStage(ctx: DemoContext): ModelsStage {
  const r = ctx.recipe;
  const tokDir = join(ctx.dirs.models, 'tokenizer');
  writeArithTokenizer(tokDir);
  const clock = new StageClock(ctx, 'models');
  const train = (name: 'teacher' | 'student', priority: number, evaluate: boolean): Task => ({
    label: `train-${name}`, priority,
    start: () => {
      clock.started();
      return {
        kind: 'train-model', label: `train-${name}`, name, dir: name === 'teacher' ? ctx.teacherDir : ctx.studentDir, tokenizerDir: tokDir,
        recipe: r[name], problems: r.problems, dataSeed: r.dataSeed, ...(evaluate ? { evaluate: ctx.evaluate } : {}),
      };
    },
    done: (res) => {
      clock.finished();
      const m = res as TrainedModelInfo;
      ctx.log(`${name}: ${m.reused ? `reused from ${m.dir}` : `trained in ${m.seconds.toFixed(1)} s`}`);
    },
  });
  const tasks: Task[] = [
    train('teacher', 3e6, false),
    train('student', 2e6, true),
    // The shortest task and nothing waits for it: it fills a free core wherever one is left.
    { label: 'evaluate-teacher', after: ['train-teacher'], priority: 0, start: () => ({ kind: 'evaluate', label: 'evaluate-teacher', modelDir: ctx.teacherDir, evaluate: ctx.evaluate }) },
  ];
  ctx.log(`training teacher (${r.teacher.steps} steps) and student (${r.student.steps} steps), or reusing them from ${ctx.dirs.models}…`);
  return {
    tasks,
    collect: (results) => {
      const info = (label: string) => {
        const { eval: _, ...m } = results.get(label) as TrainedModelInfo & { eval?: EvalResults };
        return m;
      };
      const diagnostics: Diagnostics = {
        teacher: diagnosticsOf((results.get('evaluate-teacher') as { eval: EvalResults }).eval, ctx.split),
        student: diagnosticsOf((results.get('train-student') as { eval: EvalResults }).eval, ctx.split),
      };
      const d = diagnostics;
      ctx.log(`validation: teacher ${pct(d.teacher.distracted)}% (distractors removed: ${pct(d.teacher.clean)}%), student ${pct(d.student.distracted)}% (distractors removed: ${pct(d.student.clean)}%)`);
      return { models: { teacher: info(MODEL_TASKS[0]), student: info(MODEL_TASKS[1]) }, diagnostics };
    },
  };
}

function diagnosticsOf(ev: EvalResults, split: 'test' | 'validation'): Diagnostics[string] {
  const v = ev.validation, vc = ev['validation-clean'];
  return { distracted: v.accuracy, clean: vc.accuracy, folded: v.folded, n: v.n, split: { distracted: ev[split].accuracy, clean: ev[`${split}-clean`].accuracy } };
}
