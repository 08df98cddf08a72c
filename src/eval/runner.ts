import { resolve } from 'node:path';
import { LeafError } from '../errors.js';
import { doneKeys } from '../data/record-log.js';
import { fileDigest, inRunFolder, type RunFolder } from '../data/run-folder.js';
import { CodePool, probeIsolation, sandboxWarning } from './code/index.js';
import { buildInstruction, loadProblems, type FormatName, type Problem, type Task } from './formats/index.js';
import { judgeResponse } from './judge-problem.js';
import { accuracy, type Accuracy } from './stats.js';
import { takeShard, writeShardFile, type Shard } from '../data/shard.js';

/** Turns user-turn instructions into model responses (greedy decoding under the model's chat template). */
export interface ResponseGenerator {
  readonly description: string;
  /** What identifies the model beyond its description (e.g. a weights fingerprint), checked on --resume. */
  readonly identity?: string;
  generate(instructions: readonly string[], maxNewTokens: number): Promise<string[]> | string[];
}

export interface EvalOptions {
  data: string;
  out: string;
  task?: Task;
  format?: FormatName;
  limit?: number;
  batchSize?: number;
  maxNewTokens?: number;
  resume?: boolean;
  /** Start results.jsonl over instead of refusing an output that holds records. */
  overwrite?: boolean;
  strict?: boolean;
  /** Sandbox workers for code (default: number of cores). */
  workers?: number;
  allowNetwork?: boolean;
  /** Evaluate only this shard of the problems (data/shard.ts); `leaf merge` joins the shards' folders. */
  shard?: Shard;
  /** Called after each batch: problems done (this run and resumed), total. */
  onProgress?: (done: number, total: number, correct: number) => void;
  /** Called for each skipped input line (malformed). */
  onWarning?: (message: string) => void;
}

/** One line of results.jsonl. */
export interface EvalRecord {
  id: string;
  format: FormatName;
  prompt: string;
  response: string;
  extracted: string | null;
  correct: boolean;
  detail: string;
  reason: string;
}

export interface EvalSummary {
  model: string;
  data: string;
  format: FormatName;
  task: Task;
  metric: 'accuracy' | 'pass@1';
  result: Accuracy;
  /** Input lines skipped as malformed, with file:line and reason. */
  skippedLines: string[];
  settings: { batchSize: number; maxNewTokens: number; decoding: 'greedy'; instruction: string };
  /** Code tasks: how generated programs were contained (eval/code/isolation.ts); null for math. */
  sandbox: { tier: string; network: boolean; pidNamespace: boolean; mountNamespace: boolean; readOnlyRoot: boolean; uidDrop: boolean; memoryCgroup: boolean; warning: string | null } | null;
  seconds: number;
}

/**
 * `leaf eval`: generates a response to every problem (in batches, greedy), judges it, appends one record per
 * problem to OUT/results.jsonl (flushed whole, so a killed run resumes after the last complete record), and
 * writes OUT/summary.json atomically with the accuracy and its 95% Wilson interval.
 */
export async function runEval(generator: ResponseGenerator, options: EvalOptions): Promise<EvalSummary> {
  if (options.resume && options.overwrite) throw new LeafError('give --resume or --overwrite, not both');
  const started = Date.now();
  const skippedLines: string[] = [];
  const loaded = loadProblems(options.data, {
    ...(options.format ? { format: options.format } : {}),
    ...(options.strict !== undefined ? { strict: options.strict } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    onIssue: (i) => {
      const msg = `${i.file}:${i.line}: ${i.reason}`;
      skippedLines.push(msg);
      options.onWarning?.(`skipped ${msg}`);
    },
  });
  const all = loaded.problems;
  if (all.length === 0) throw new LeafError(`${options.data}: no problems to evaluate`);
  const task = options.task ?? all[0].task;
  const wrongTask = all.find((p) => p.task !== task);
  if (wrongTask) throw new LeafError(`${options.data}: problem ${wrongTask.id} is a ${wrongTask.task} problem but --task is ${task}`);

  // Probed before anything is written or decoded: a machine that cannot run the sandbox fails now.
  const sandbox = task === 'code' ? await probeIsolation() : null;
  const weak = sandbox ? sandboxWarning(sandbox) : null;
  if (weak) options.onWarning?.(weak);

  return inRunFolder(options.out, {
    command: 'eval', resume: options.resume === true, overwrite: options.overwrite === true, records: ['results.jsonl'], outputs: ['summary.json'],
  }, (folder) => evaluateIn(folder, generator, options, { started, loaded, skippedLines, task, sandbox, weak }));
}

/** The problems loaded and the sandbox probed, before the output folder is touched. */
interface EvalInputs {
  started: number;
  loaded: ReturnType<typeof loadProblems>;
  skippedLines: string[];
  task: Task;
  sandbox: Awaited<ReturnType<typeof probeIsolation>> | null;
  weak: string | null;
}

async function evaluateIn(folder: RunFolder, generator: ResponseGenerator, options: EvalOptions, input: EvalInputs): Promise<EvalSummary> {
  const { started, loaded, skippedLines, task, sandbox, weak } = input;
  const problems = takeShard(loaded.problems, options.shard);
  const batchSize = options.batchSize ?? 8;
  const maxNewTokens = options.maxNewTokens ?? (task === 'math' ? 1024 : 768);
  // What the records are answers of: a resume with another model, data or decoding length is refused.
  folder.identity({
    model: generator.description, model_identity: generator.identity ?? null,
    data: resolve(options.data), data_sha256: fileDigest(options.data), format: loaded.format, task, maxNewTokens,
    ...(options.shard ? { shard: options.shard } : {}),
  }, { hasRecords: folder.resume && folder.nonEmpty('results.jsonl') });
  if (options.shard) writeShardFile(folder.dir, options.shard, loaded.problems.map((p) => p.id));
  const log = folder.openLog<EvalRecord>('results.jsonl');
  const records = new Map<string, EvalRecord>();
  const known = new Set(problems.map((p) => p.id));
  for (const r of log.existing) if (known.has(r.id)) records.set(r.id, r);
  const done = doneKeys(log.existing, (r) => r.id);
  const pending = problems.filter((p) => !done.has(p.id));
  if (options.workers !== undefined && task !== 'code') options.onWarning?.('--workers only applies to code problems (the sandbox workers); ignored');
  const pool = task === 'code' ? new CodePool({ ...(options.workers ? { concurrency: options.workers } : {}), defaults: { allowNetwork: options.allowNetwork ?? false } }) : null;
  const countCorrect = () => [...records.values()].filter((r) => r.correct).length;
  options.onProgress?.(records.size, problems.length, countCorrect());
  try {
    for (let i = 0; i < pending.length; i += batchSize) {
      const batch: Problem[] = pending.slice(i, i + batchSize);
      const prompts = batch.map(buildInstruction);
      const responses = await generator.generate(prompts, maxNewTokens);
      const verdicts = await Promise.all(batch.map((p, j) => judgeResponse(p, responses[j], pool)));
      batch.forEach((p, j) => {
        const rec: EvalRecord = { id: p.id, format: p.format, prompt: prompts[j], response: responses[j], ...verdicts[j] };
        log.append(rec);
        records.set(p.id, rec);
      });
      options.onProgress?.(records.size, problems.length, countCorrect());
    }
  } finally {
    log.close();
  }
  const summary: EvalSummary = {
    model: generator.description,
    data: options.data,
    format: loaded.format,
    task,
    metric: task === 'math' ? 'accuracy' : 'pass@1',
    result: accuracy(countCorrect(), records.size),
    skippedLines,
    settings: { batchSize, maxNewTokens, decoding: 'greedy', instruction: instructionNote(task) },
    sandbox: sandbox ? { tier: sandbox.tier, network: sandbox.network, pidNamespace: sandbox.pidNamespace, mountNamespace: sandbox.mountNamespace, readOnlyRoot: sandbox.readOnlyRoot, uidDrop: sandbox.uidDrop, memoryCgroup: sandbox.memoryCgroup, warning: weak } : null,
    seconds: (Date.now() - started) / 1000,
  };
  folder.summary().write(() => summary, true);
  return summary;
}

function instructionNote(task: Task): string {
  return task === 'math'
    ? 'question + "Please reason step by step, and put your final answer within \\boxed{}." as the user turn of the chat template'
    : 'problem + "Answer with a single ```python fenced code block." as the user turn of the chat template';
}
