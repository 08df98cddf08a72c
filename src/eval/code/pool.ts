/**
 * CodePool: runs up to `concurrency` sandboxes at once (default: the number of CPU cores) and
 * returns results in input order. Each job is one judge call (a stdin/stdout job runs its cases
 * one after another inside its slot).
 */
import { availableParallelism } from 'node:os';
import { LeafError } from '../../errors.js';
import {
  judgeHumanEval,
  judgeMbpp,
  judgeStdio,
  type HumanEvalProblem,
  type JudgeResult,
  type MbppProblem,
  type StdioCase,
  type StdioOptions,
} from './judges.js';

export type CodeJob =
  | { form: 'humaneval'; problem: HumanEvalProblem; code: string }
  | { form: 'mbpp'; problem: MbppProblem; code: string }
  | { form: 'stdio'; cases: readonly StdioCase[]; code: string };

export interface CodePoolOptions {
  /** Sandboxes running at once; default os.availableParallelism(). */
  concurrency?: number;
  /** Run options for every job (per-call options override them). */
  defaults?: StdioOptions;
}

export class CodePool {
  readonly concurrency: number;
  private readonly defaults: StdioOptions;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: CodePoolOptions = {}) {
    const n = opts.concurrency ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new LeafError(`code judge: pool concurrency must be a positive integer, got ${n}`);
    this.concurrency = n;
    this.defaults = { ...(opts.defaults ?? {}) };
  }

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so `running` never overshoots.
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }

  /** fn over items, at most `concurrency` at once; results in input order. */
  map<I, O>(items: readonly I[], fn: (item: I, index: number) => Promise<O>): Promise<O[]> {
    return Promise.all(items.map((item, i) => this.run(() => fn(item, i))));
  }

  judge(job: CodeJob, opts: StdioOptions = {}): Promise<JudgeResult> {
    return this.run(() => judgeJob(job, { ...this.defaults, ...opts }));
  }

  judgeAll(jobs: readonly CodeJob[], opts: StdioOptions = {}): Promise<JudgeResult[]> {
    const o = { ...this.defaults, ...opts };
    return this.map(jobs, (job) => judgeJob(job, o));
  }
}

function judgeJob(job: CodeJob, opts: StdioOptions): Promise<JudgeResult> {
  switch (job.form) {
    case 'humaneval':
      return judgeHumanEval(job.problem, job.code, opts);
    case 'mbpp':
      return judgeMbpp(job.problem, job.code, opts);
    case 'stdio':
      return judgeStdio(job.code, job.cases, opts);
    default:
      throw new LeafError(`code judge: unknown job form '${(job as { form: unknown }).form}'`);
  }
}
