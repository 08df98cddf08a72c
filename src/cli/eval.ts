import type { Command } from 'commander';
import { EVAL_SPEC, resolveEvalOptions, type EvalOptions } from '../eval/eval-options.js';
import { runEval, type ResponseGenerator } from '../eval/runner.js';
import { loadPretrained, type Pretrained } from '../model/pretrained.js';
import { generateText } from '../model/text-generation.js';
import { MODEL_SPEC } from '../model/weights.js';
import { resolveSpec } from '../util/option-spec.js';
import { sandboxOptions, shardOf, shardOptions, warnLine } from './args.js';
import { drawProgress, progressBar } from './progress.js';
import { addSpecOptions } from './spec-options.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { pct } from '../util/format.js';

/** What commander hands over: EVAL_SPEC's and MODEL_SPEC's options as given (undefined when left out), the model (loaded here: runEval takes a ResponseGenerator), the paths, the modes. */
interface EvalFlags extends Omit<EvalOptions, 'shard'> {
  model: string;
  dtype?: string;
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
    .requiredOption('--data <file>', 'benchmark file (JSONL or a JSON array)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--resume', 'continue an interrupted run in the same --out')
    .option('--overwrite', 'start results.jsonl over instead of refusing an --out that holds records')
    .option('--strict', 'stop at the first malformed input line instead of skipping it');
  addSpecOptions(addSpecOptions(cmd, MODEL_SPEC), EVAL_SPEC);
  shardOptions(sandboxOptions(cmd)).action(async (f: EvalFlags) => {
    const shard = shardOf(f);
    resolveEvalOptions({ ...f, shard }); // checked before the model is loaded
    const p = loadPretrained(f.model, resolveSpec(MODEL_SPEC, f));
    const bar = progressBar('eval', ['correct']);
    const draw = drawProgress(bar);
    const summary = await runEval(modelResponder(p), {
      ...f, allowNetwork: f.unsafeAllowNetwork, shard, onWarning: warnLine, onProgress: (p) => draw(p.done, p.total, { correct: p.correct }),
    }).finally(() => bar.stop());
    const r = summary.result;
    process.stdout.write(
      `${summary.metric} ${pct(r.accuracy)}% (${r.correct}/${r.total}${summary.refusedPrompts.length > 0 ? `; ${summary.refusedPrompts.length} refused` : ''}), 95% CI [${pct(r.lower)}, ${pct(r.upper)}] — ${summary.format}, ${summary.seconds.toFixed(1)} s; ${f.out}/results.jsonl, ${f.out}/summary.json\n`,
    );
  });
}
