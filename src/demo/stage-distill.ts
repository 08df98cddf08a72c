/**
 * The demo's distillation stage: plain KD and LeaF with each mining run's verified counterfactuals, at
 * equal optimizer steps, the same seeds and the same original batches (the trainer's
 * pairCounterfactuals: a LeaF step adds the counterfactuals of its originals), each run evaluated on
 * validation and the headline split. A run starts as soon as the models and its mining run are done
 * (KD right after the models); among ready runs the one with the most samples per epoch goes first, so
 * no worker is left alone with a long run at the end (results do not depend on the order). A finished
 * run with the same inputs, settings, kernels and code is reused (run-reuse.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonlAtomic } from '../data/jsonl.js';
import { getKernels } from '../kernels/index.js';
import { MODEL_TASKS, StageClock, type DemoContext } from './context.js';
import { readRecords, type DistillJob, type DistillJobResult, type JobResult } from './jobs.js';
import type { Task } from './pool.js';
import { reusableResult, runKey, saveResult } from './run-reuse.js';
import { verifiedCounterfactuals, type MiningStage } from './stage-mining.js';

/** Every run: `epochs` passes over the `originals` in steps of the recipe's batch size; see DemoSummary. */
export interface DistillInfo {
  protocol: 'paired'; steps: number; epochs: number; originals: number; counterfactuals: Record<string, number>; missingSource: number;
  reusedRuns: number;
  runs: Record<string, { seed: number; steps: number; seconds: number; samples: { original: number; counterfactual: number; missingSource: number } }[]>;
}

export interface DistillStage {
  tasks: Task[];
  collect(results: Map<string, JobResult>): { byRun: Record<string, DistillJobResult[]>; info: DistillInfo };
}

/** The mining runs whose verified counterfactuals a distillation run adds (none: plain KD). */
export function sourcesOf(run: string, sweepQs: readonly number[]): string[] {
  const fixed: Record<string, string[]> = {
    kd: [], 'leaf-gradient': ['gradient'], 'leaf-gradient-teacher': ['gradient-teacher'], 'leaf-random': ['random'], 'leaf-oracle': ['oracle'],
    'leaf-token': ['gradient-token'], 'leaf-instr-resp': ['gradient', 'gradient-response'],
  };
  const q = sweepQs.find((x) => run === `leaf-token-q${x.toFixed(2)}`);
  return fixed[run] ?? (q !== undefined ? [`gradient-token-q${q}`] : []);
}

export function distillStage(ctx: DemoContext, mining: MiningStage, runKeys: readonly string[]): DistillStage {
  const d = ctx.recipe.distill;
  const originals = readRecords(ctx.files.train).length;
  const perEpoch = Math.ceil(originals / d.batchSize);
  const epochs = Math.max(1, Math.round(d.steps / perEpoch));
  const keys = [...runKeys, ...mining.sweepQs.map((q) => `leaf-token-q${q.toFixed(2)}`)];
  const seedsOf = (key: string) => (runKeys.includes(key) ? ctx.seeds : [ctx.seeds[0]]);
  rmSync(ctx.dirs.distillData, { recursive: true, force: true });
  const cfCount = new Map<string, number>();
  /** Writes the run's counterfactuals file once (its mining runs are done); null when it has none. */
  const cfFile = (key: string): string | null => {
    const file = join(ctx.dirs.distillData, key, 'counterfactuals.jsonl');
    if (!cfCount.has(key)) {
      const cfs = sourcesOf(key, mining.sweepQs).flatMap((m) => verifiedCounterfactuals(mining.dir(m)));
      mkdirSync(join(ctx.dirs.distillData, key), { recursive: true });
      if (cfs.length > 0) writeJsonlAtomic(file, cfs);
      cfCount.set(key, cfs.length);
    }
    return cfCount.get(key)! > 0 ? file : null;
  };
  const clock = new StageClock(ctx, 'distill');
  const runtime = { kernels: getKernels().name, concurrency: ctx.concurrency };
  const byLabel = new Map<string, { key: string; seed: number; result?: DistillJobResult; reused?: boolean }>();
  const tasks = keys.flatMap((key) => seedsOf(key).map((seed): Task => {
    const label = `distill-${key}-seed${seed}`;
    byLabel.set(label, { key, seed });
    let job: DistillJob, runId = '';
    return {
      label, after: [...MODEL_TASKS, ...sourcesOf(key, mining.sweepQs).map(mining.taskOf)],
      // Read once the task is ready (its mining runs are done), so its counterfactuals are known.
      priority: () => (cfFile(key), originals + cfCount.get(key)!),
      start: () => {
        clock.started();
        job = distillJob(ctx, label, key, seed, cfFile(key), epochs);
        runId = runKey(job, runtime);
        const reused = reusableResult(job, runId);
        byLabel.get(label)!.reused = reused !== null;
        if (reused) return { reused };
        rmSync(job.options.out, { recursive: true, force: true });
        return job;
      },
      done: (result) => {
        clock.finished();
        const entry = byLabel.get(label)!;
        entry.result = result as DistillJobResult;
        if (!entry.reused) saveResult(job, runId, entry.result); // as soon as it finishes: an interrupted demo keeps its finished runs
      },
    };
  }));
  ctx.log(`distillation: ${tasks.length} runs (${runKeys.join(', ')} × ${ctx.seeds.length} seeds${mining.sweepQs.length > 0 ? `, token level at q = ${mining.sweepQs.join(', ')} with seed ${ctx.seeds[0]}` : ''}), ${epochs * perEpoch} steps each, as their counterfactuals are mined…`);
  return {
    tasks,
    collect: () => {
      const byRun: Record<string, DistillJobResult[]> = {};
      for (const e of byLabel.values()) (byRun[e.key] ??= []).push(e.result!);
      const all = [...byLabel.values()];
      const missingSource = Math.max(0, ...all.map((e) => e.result!.samples.missingSource));
      if (missingSource > 0) ctx.log(`warning: ${missingSource} counterfactual(s) had no original to pair with and were left out (see ${ctx.dirs.jobs})`);
      const info: DistillInfo = {
        protocol: 'paired', steps: epochs * perEpoch, epochs, originals, counterfactuals: Object.fromEntries(keys.map((k) => [k, cfCount.get(k) ?? 0])),
        missingSource, reusedRuns: all.filter((e) => e.reused).length,
        runs: Object.fromEntries(runKeys.map((k) => [k, all.filter((e) => e.key === k).map(({ seed, result: r }) => ({ seed, steps: r!.steps, seconds: r!.seconds, samples: r!.samples }))])),
      };
      return { byRun, info };
    },
  };
}

function distillJob(ctx: DemoContext, label: string, key: string, seed: number, counterfactuals: string | null, epochs: number): DistillJob {
  const d = ctx.recipe.distill;
  return {
    kind: 'distill', label,
    options: {
      student: ctx.studentDir, teacher: ctx.teacherDir, data: ctx.files.train, counterfactuals, pairCounterfactuals: true,
      out: join(ctx.dirs.runs, `${key}-seed${seed}`), loss: 'fkl', epochs, lr: d.lr, batchSize: d.batchSize, microBatchSize: d.batchSize,
      warmup: d.warmup, maxGradNorm: d.maxGradNorm, cfWeight: d.cfWeight, seed, keepCheckpoints: 1,
    },
    evaluate: ctx.evaluateRuns,
  };
}
