/**
 * Runs the demo's work graph: tasks that start when the tasks they come `after` have finished,
 * `concurrency` at a time, each in its own child process with single-threaded kernels
 * (OPENBLAS_NUM_THREADS=1), or in this process when concurrency is 1. Among the ready tasks the one of
 * highest priority starts first, so a worker never idles while a task could run (the models' training,
 * mining and distillation overlap where their inputs allow). A child's stderr goes to a log file; a
 * failing job fails the graph with its message and log path, and no further task starts.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { Progress } from '../util/progress.js';
import { runJob, type DemoJob, type JobResult } from './jobs.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/** One node of the work graph. */
export interface Task {
  /** Unique in the graph; also the job's log-file name. */
  label: string;
  /** Labels of the tasks that must finish first. */
  after?: readonly string[];
  /**
   * Among the ready tasks the highest starts first (default 0; ties: the order given). A function is
   * called only once the task is ready (every task it comes after has finished), when a worker is free.
   */
  priority?: number | (() => number);
  /** Called when the task is ready: the job to run, or a result already at hand (`reused`). */
  start: () => DemoJob | { reused: JobResult };
  /** Called with the result as soon as the task finishes, before any task after it starts. */
  done?: (result: JobResult) => void;
}

/** A task finished (`done` of `total` tasks; `reused`: its result was at hand, nothing ran). */
export type GraphProgress = Progress<'demo', { label: string; reused: boolean }>;

function safeName(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '_');
}

function runChild(job: DemoJob, dir: string): Promise<JobResult> {
  const name = safeName(job.label);
  const jobFile = join(dir, `${name}.job.json`), resultFile = join(dir, `${name}.result.json`), logFile = join(dir, `${name}.log`);
  writeFileAtomicSync(jobFile, JSON.stringify(job));
  const log = openSync(logFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, jobFile, resultFile], {
      stdio: ['ignore', log, log],
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
    });
    child.on('error', (e) => {
      closeSync(log);
      reject(new LeafError(`demo job ${job.label}: cannot start a worker process (${e.message})`));
    });
    child.on('close', (code, signal) => {
      closeSync(log);
      let payload: { result?: JobResult; error?: string } = {};
      if (existsSync(resultFile)) payload = JSON.parse(readFileSync(resultFile, 'utf8')) as typeof payload;
      if (code === 0 && payload.result) resolve(payload.result);
      else reject(new LeafError(`demo job ${job.label} failed: ${payload.error ?? `exit ${code ?? signal}`} (log: ${logFile})`));
    });
  });
}

/** Refuses a graph with a repeated label, an unknown dependency or a cycle (one line naming the task). */
export function checkGraph(tasks: readonly Task[]): void {
  const byLabel = new Map<string, Task>();
  for (const t of tasks) {
    if (byLabel.has(t.label)) throw new LeafError(`demo work graph: task ${t.label} appears twice`);
    byLabel.set(t.label, t);
  }
  const state = new Map<string, 'visiting' | 'ok'>();
  const visit = (t: Task): void => {
    if (state.get(t.label) === 'ok') return;
    if (state.get(t.label) === 'visiting') throw new LeafError(`demo work graph: task ${t.label} depends on itself`);
    state.set(t.label, 'visiting');
    for (const a of t.after ?? []) {
      const dep = byLabel.get(a);
      if (!dep) throw new LeafError(`demo work graph: task ${t.label} comes after ${a}, which is not in the graph`);
      visit(dep);
    }
    state.set(t.label, 'ok');
  };
  tasks.forEach(visit);
}

/** Runs every task of the graph; its results by label. `onProgress` is called as each finishes. */
export async function runGraph(
  tasks: readonly Task[], concurrency: number, dir: string, onProgress?: (p: GraphProgress) => void,
): Promise<Map<string, JobResult>> {
  checkGraph(tasks);
  mkdirSync(dir, { recursive: true });
  const results = new Map<string, JobResult>();
  const waiting = [...tasks];
  let running = 0, failed = false;
  let wake: () => void = () => {};
  const notify = (): void => {
    const w = wake;
    wake = () => {};
    w();
  };
  const priority = (t: Task): number => (typeof t.priority === 'function' ? t.priority() : t.priority ?? 0);
  const next = (): Task | undefined => {
    let best = -1;
    waiting.forEach((t, i) => {
      if ((t.after ?? []).every((a) => results.has(a)) && (best < 0 || priority(t) > priority(waiting[best]))) best = i;
    });
    return best < 0 ? undefined : waiting.splice(best, 1)[0];
  };
  const execute = async (task: Task): Promise<void> => {
    const job = task.start();
    const reused = 'reused' in job;
    const result = reused ? job.reused : concurrency <= 1 ? await runJob(job) : await runChild(job, dir);
    results.set(task.label, result);
    task.done?.(result);
    onProgress?.({ phase: 'demo', done: results.size, total: tasks.length, label: task.label, reused });
  };
  const lane = async (): Promise<void> => {
    while (!failed && (waiting.length > 0 || running > 0)) {
      const task = next();
      if (!task) {
        await new Promise<void>((resolve) => { const w = wake; wake = () => { w(); resolve(); }; });
        continue;
      }
      running++;
      try {
        await execute(task);
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        running--;
        notify();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, lane));
  return results;
}
