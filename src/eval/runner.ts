import { resolve } from 'node:path';
import { LeafError } from '../errors.js';
import { doneKeys } from '../data/record-log.js';
import { fileDigest, inRunFolder, type RunFolder } from '../data/run-folder.js';
import { CodePool, probeIsolation, sandboxRecord, sandboxWarning, type SandboxRecord } from './code/index.js';
import { buildInstruction, loadProblems, type FormatName, type Problem, type Task } from './formats/index.js';
import { maxNewTokensOf, resolveEvalOptions, type EvalOptions } from './eval-options.js';
import { judgeResponse } from './judge-problem.js';
import { accuracy, type Accuracy } from './stats.js';
import { takeShard, writeShardFile } from '../data/shard.js';

/** A prompt the model cannot answer (e.g. longer than its context), with the reason. */
export interface RefusedPrompt {
  refused: string;
}

/**
 * Turns user-turn instructions into model responses (greedy decoding under the model's chat template).
 * Each response must depend only on its instruction and the batch it was decoded in; a prompt that cannot
 * be answered is refused on its own, without changing the others.
 */
export interface ResponseGenerator {
  readonly description: string;
  /** What identifies the model beyond its description (e.g. a weights fingerprint), checked on --resume. */
  readonly identity?: string;
  generate(instructions: readonly string[], maxNewTokens: number): Promise<Array<string | RefusedPrompt>> | Array<string | RefusedPrompt>;
}

export { EVAL_SPEC, type EvalOptions, type EvalProgress } from './eval-options.js';

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
  /** Set when the prompt was refused (not decoded, not judged, left out of the accuracy): why. */
  refused?: string;
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
  /** Problems refused by the model (e.g. a prompt longer than its context), `id: reason`; not in `result`. */
  refusedPrompts: string[];
  settings: { batchSize: number; maxNewTokens: number; decoding: 'greedy'; instruction: string };
  /** Code tasks: how generated programs were contained (eval/code/isolation.ts); null for math. */
  sandbox: SandboxRecord | null;
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
  const r = resolveEvalOptions(options);
  const skippedLines: string[] = [];
  const { batchSize } = r;
  const shards = options.shard?.count ?? 1;
  // With --limit, the last batch (of each shard) is still read whole (decoded, not recorded beyond the limit):
  // a later run without the limit then finds each problem decoded in the same batch as it would have been.
  const loaded = loadProblems(options.data, {
    ...(r.format !== null ? { format: r.format } : {}),
    ...(options.strict !== undefined ? { strict: options.strict } : {}),
    ...(r.limit !== null ? { limit: Math.ceil(r.limit / (batchSize * shards)) * batchSize * shards } : {}),
    onIssue: (i) => {
      const msg = `${i.file}:${i.line}: ${i.reason}`;
      skippedLines.push(msg);
      options.onWarning?.(`skipped ${msg}`);
    },
  });
  const all = loaded.problems.slice(0, r.limit ?? loaded.problems.length);
  if (all.length === 0) throw new LeafError(`${options.data}: no problems to evaluate`);
  const task = r.task ?? all[0].task;
  const wrongTask = all.find((p) => p.task !== task);
  if (wrongTask) throw new LeafError(`${options.data}: problem ${wrongTask.id} is a ${wrongTask.task} problem but --task is ${task}`);

  // Probed before anything is written or decoded: a machine that cannot run the sandbox fails now.
  const sandbox = task === 'code' ? await probeIsolation() : null;
  const weak = sandbox ? sandboxWarning(sandbox) : null;
  if (weak) options.onWarning?.(weak);

  return inRunFolder(options.out, {
    command: 'eval', resume: options.resume === true, overwrite: options.overwrite === true, records: ['results.jsonl'], outputs: ['summary.json'],
  }, (folder) => evaluateIn(folder, generator, options, { started, loaded, all, skippedLines, task, sandbox, batchSize, maxNewTokens: maxNewTokensOf(r, task) }));
}

/** The problems loaded and the sandbox probed, before the output folder is touched. */
interface EvalInputs {
  started: number;
  loaded: ReturnType<typeof loadProblems>;
  /** The problems of the run: loaded.problems up to --limit (the rest only completes the last batch). */
  all: Problem[];
  skippedLines: string[];
  task: Task;
  sandbox: Awaited<ReturnType<typeof probeIsolation>> | null;
  batchSize: number;
  maxNewTokens: number;
}

async function evaluateIn(folder: RunFolder, generator: ResponseGenerator, options: EvalOptions, input: EvalInputs): Promise<EvalSummary> {
  const { started, loaded, all, skippedLines, task, sandbox, batchSize, maxNewTokens } = input;
  const problems = takeShard(all, options.shard);
  // The shard's problems and, after them, those that only complete its last batch under --limit.
  const company = takeShard(loaded.problems, options.shard);
  // What the records are answers of: a resume with another model, data or decoding length is refused.
  folder.identity({
    model: generator.description, model_identity: generator.identity ?? null,
    data: resolve(options.data), data_sha256: fileDigest(options.data), format: loaded.format, task, maxNewTokens,
    ...(options.shard ? { shard: options.shard } : {}),
  }, { hasRecords: folder.resume && folder.nonEmpty('results.jsonl') });
  if (options.shard) writeShardFile(folder.dir, options.shard, all.map((p) => p.id));
  const log = folder.openLog<EvalRecord>('results.jsonl');
  const records = new Map<string, EvalRecord>();
  const known = new Set(problems.map((p) => p.id));
  for (const r of log.existing) if (known.has(r.id)) records.set(r.id, r);
  const done = doneKeys(log.existing, (r) => r.id);
  if (options.workers !== undefined && task !== 'code') options.onWarning?.('--workers only applies to code problems (the sandbox workers); ignored');
  const pool = task === 'code' ? new CodePool({ ...(options.workers ? { concurrency: options.workers } : {}), defaults: { allowNetwork: options.allowNetwork ?? false } }) : null;
  const answered = () => [...records.values()].filter((r) => r.refused === undefined);
  const countCorrect = () => answered().filter((r) => r.correct).length;
  const progress = () => options.onProgress?.({ phase: 'eval', done: records.size, total: problems.length, correct: countCorrect() });
  progress();
  try {
    const beyondLimit = new Set(company.slice(problems.length).map((p) => p.id));
    await decodeInFixedBatches(generator, company, new Set([...done, ...beyondLimit]), batchSize, maxNewTokens, pool, (rec) => {
      log.append(rec);
      records.set(rec.id, rec);
      options.onRecord?.(rec);
    }, progress);
  } finally {
    log.close();
  }
  const refusedPrompts = [...records.values()].filter((r) => r.refused !== undefined).map((r) => `${r.id}: ${r.refused}`);
  if (refusedPrompts.length > 0) options.onWarning?.(`${refusedPrompts.length} problem(s) refused and left out of the ${task === 'math' ? 'accuracy' : 'pass@1'} (first: ${refusedPrompts[0]}); see summary.json refusedPrompts`);
  const summary: EvalSummary = {
    model: generator.description,
    data: options.data,
    format: loaded.format,
    task,
    metric: task === 'math' ? 'accuracy' : 'pass@1',
    result: accuracy(countCorrect(), answered().length),
    skippedLines,
    refusedPrompts,
    settings: { batchSize, maxNewTokens, decoding: 'greedy', instruction: instructionNote(task) },
    sandbox: sandbox ? sandboxRecord(sandbox) : null,
    seconds: (Date.now() - started) / 1000,
  };
  folder.summary().write(() => summary, true);
  return summary;
}

/**
 * Decodes the problems in batches fixed by position — batch k is problems[k·B, (k+1)·B) — whatever is
 * already done, so that a resumed run decodes every problem in the same company as an uninterrupted one
 * (batch composition changes the floating-point results): a batch with any problem left is decoded whole,
 * and records are made for the problems not yet done, in input order.
 */
async function decodeInFixedBatches(
  generator: ResponseGenerator, problems: readonly Problem[], done: ReadonlySet<string>, batchSize: number, maxNewTokens: number,
  pool: CodePool | null, onRecord: (r: EvalRecord) => void, onBatch: () => void,
): Promise<void> {
  for (let i = 0; i < problems.length; i += batchSize) {
    const batch: Problem[] = problems.slice(i, i + batchSize);
    if (batch.every((p) => done.has(p.id))) continue;
    const prompts = batch.map(buildInstruction);
    const responses = await generator.generate(prompts, maxNewTokens);
    const todo = batch.flatMap((p, j) => (done.has(p.id) ? [] : [j]));
    const verdicts = await Promise.all(todo.map((j) => {
      const r = responses[j];
      return typeof r === 'string' ? judgeResponse(batch[j], r, pool) : null;
    }));
    todo.forEach((j, k) => {
      const p = batch[j], r = responses[j], v = verdicts[k];
      if (typeof r === 'string' && v) onRecord({ id: p.id, format: p.format, prompt: prompts[j], response: r, ...v });
      else onRecord(refusedRecord(p, prompts[j], typeof r === 'string' ? 'no response' : r.refused));
    });
    onBatch();
  }
}

/** The record of a refused problem: its prompt cut to 200 characters (a 50 MB prompt is not copied), not judged. */
function refusedRecord(p: Problem, prompt: string, why: string): EvalRecord {
  const shown = prompt.length > 200 ? `${prompt.slice(0, 200)}… (${prompt.length} characters)` : prompt;
  return { id: p.id, format: p.format, prompt: shown, response: '', extracted: null, correct: false, detail: '', reason: `refused: ${why}`, refused: why };
}

function instructionNote(task: Task): string {
  return task === 'math'
    ? 'question + "Please reason step by step, and put your final answer within \\boxed{}." as the user turn of the chat template'
    : 'problem + "Answer with a single ```python fenced code block." as the user turn of the chat template';
}
