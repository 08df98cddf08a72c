import type { Command } from 'commander';
import { LeafError } from '../errors.js';
import { parseFormatName, type FormatName } from '../eval/formats/index.js';
import { runEval, type ResponseGenerator } from '../eval/runner.js';
import { loadPretrained, type Pretrained } from '../model/pretrained.js';
import { generateText } from '../model/text-generation.js';
import { DTYPE_OPTION, intArg, shardOf, shardOptions, warnLine, type DtypeFlag } from './args.js';
import { progressBar } from './progress.js';
import { modelFingerprint } from '../model/fingerprint.js';

interface EvalFlags {
  model: string;
  dtype: DtypeFlag;
  data: string;
  task?: string;
  format?: string;
  limit?: number;
  batchSize: number;
  maxNewTokens?: number;
  out: string;
  resume?: boolean;
  overwrite?: boolean;
  strict?: boolean;
  workers?: number;
  unsafeAllowNetwork?: boolean;
  shard?: string;
  shardCount?: number;
}

/** Greedy decoding of instructions as user turns of the model's chat template (plain text when it has none). */
export function modelResponder(p: Pretrained): ResponseGenerator {
  return {
    description: p.dir,
    identity: modelFingerprint(p.model).slice(0, 16),
    generate: (instructions, maxNewTokens) =>
      generateText(p, instructions, { chat: p.tokenizer.hasChatTemplate, maxNewTokens, temperature: 0 }).map((g) => (g.refused ? { refused: g.refused } : g.text)),
  };
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('generate (greedy, chat template) and judge answers on a benchmark file; writes results.jsonl and summary.json')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option(...DTYPE_OPTION)
    .requiredOption('--data <file>', 'benchmark file (JSONL or a JSON array)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--task <task>', 'math or code (default: from the format)')
    .option('--format <name>', 'gsm8k | gsm-ic | math | olympiad | humaneval | mbpp | stdio | livecodebench | leaf (default: detected)')
    .option('--limit <n>', 'first N problems only', intArg('--limit', 1))
    .option('--batch-size <b>', 'prompts decoded together', intArg('--batch-size', 1), 8)
    .option('--max-new-tokens <n>', 'maximum new tokens per response (default 1024 math, 768 code)', intArg('--max-new-tokens', 1))
    .option('--resume', 'continue an interrupted run in the same --out')
    .option('--overwrite', 'start results.jsonl over instead of refusing an --out that holds records')
    .option('--strict', 'stop at the first malformed input line instead of skipping it')
    .option('--workers <n>', 'code sandbox workers (default: number of cores)', intArg('--workers', 1))
    .option('--unsafe-allow-network', 'run generated code even where no network namespace can be made');
  shardOptions(cmd).action(async (f: EvalFlags) => {
      if (f.task !== undefined && f.task !== 'math' && f.task !== 'code') throw new LeafError(`--task must be math or code, got ${f.task}`);
      const shard = shardOf(f);
      const format: FormatName | undefined = f.format === undefined ? undefined : parseFormatName(f.format === 'olympiad' ? 'olympiadbench' : f.format);
      const p = loadPretrained(f.model, { dtype: f.dtype });
      const bar = progressBar('eval', ['correct']);
      let started = false;
      const summary = await runEval(modelResponder(p), {
        data: f.data, out: f.out, task: f.task as 'math' | 'code' | undefined, format, limit: f.limit,
        batchSize: f.batchSize, maxNewTokens: f.maxNewTokens, resume: f.resume, overwrite: f.overwrite, strict: f.strict,
        workers: f.workers, allowNetwork: f.unsafeAllowNetwork, shard,
        onWarning: warnLine,
        onProgress: (done, total, correct) => {
          if (!started) {
            bar.start(total, done, { correct });
            started = true;
          } else bar.update(done, { correct });
        },
      });
      bar.stop();
      const r = summary.result;
      const pct = (x: number) => (100 * x).toFixed(1);
      process.stdout.write(
        `${summary.metric} ${pct(r.accuracy)}% (${r.correct}/${r.total}${summary.refusedPrompts.length > 0 ? `; ${summary.refusedPrompts.length} refused` : ''}), 95% CI [${pct(r.lower)}, ${pct(r.upper)}] — ${summary.format}, ${summary.seconds.toFixed(1)} s; ${f.out}/results.jsonl, ${f.out}/summary.json\n`,
      );
    });
}
