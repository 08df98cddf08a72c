/**
 * Runs demo jobs, `concurrency` at a time, each in its own child process with single-threaded kernels
 * (OPENBLAS_NUM_THREADS=1), or in this process when concurrency is 1. A child's stderr goes to a log file;
 * a failing job fails the pool with its message and log path.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { runJob, type DemoJob, type JobResult } from './jobs.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

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

/** Runs every job; results in job order. `onDone` is called as each finishes. */
export async function runJobs(
  jobs: readonly DemoJob[], concurrency: number, dir: string, onDone?: (job: DemoJob, result: JobResult) => void,
): Promise<JobResult[]> {
  mkdirSync(dir, { recursive: true });
  const results: JobResult[] = new Array(jobs.length);
  if (concurrency <= 1) {
    for (const [i, job] of jobs.entries()) {
      results[i] = await runJob(job);
      onDone?.(job, results[i]);
    }
    return results;
  }
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await runChild(jobs[i], dir);
      onDone?.(jobs[i], results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
  return results;
}
