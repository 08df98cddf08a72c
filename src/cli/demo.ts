import type { Command } from 'commander';
import { runDemo } from '../demo/demo.js';
import { formatDemoSummary } from '../demo/print.js';
import { DEMO_RECIPE, QUICK_RECIPE } from '../demo/recipes.js';
import { intArg } from './args.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('LeaF end to end on a distracted-arithmetic benchmark: train a tiny teacher and student, mine, distil (KD vs LeaF), evaluate, report')
    .option('--out <dir>', 'output folder (models are cached here and reused)', 'leaf-demo')
    .option('--seeds <n>', 'distillation seeds per run', intArg('--seeds', 1), 3)
    .option('--seed <s>', 'teacher/student pair: the benchmark generator\'s seed and both models\' initialisation (default 1)', intArg('--seed', 1), 1)
    .option('--extras', 'also the runs outside the headline: LeaF at token level (reference rule), with response-level counterfactuals, the q sweep')
    .option('--validation-only', 'evaluate on the validation split only (choosing settings; the test split is not written or read)')
    .option('--jobs <n>', 'worker processes (default: 2 when two cores are available)', intArg('--jobs', 1))
    .option('--quick', 'a seconds-long smoke run with untrained-size models (numbers mean nothing)')
    .option('--resume', 'reuse what --out holds that is still valid (models, mined answers, finished runs; also the default)')
    .option('--overwrite', 'start over: remove what an earlier demo wrote to --out')
    .action(async (opts: { out: string; seeds: number; seed: number; extras?: boolean; validationOnly?: boolean; jobs?: number; quick?: boolean; resume?: boolean; overwrite?: boolean }) => {
      const summary = await runDemo({
        out: opts.out, seeds: opts.seeds, seed: opts.seed, recipe: opts.quick ? QUICK_RECIPE : DEMO_RECIPE,
        ...(opts.extras ? { extras: true } : {}), ...(opts.validationOnly ? { test: false } : {}),
        ...(opts.jobs !== undefined ? { concurrency: opts.jobs } : {}),
        resume: opts.resume === true, overwrite: opts.overwrite === true,
        log: (line) => process.stderr.write(`leaf demo: ${line}\n`),
      });
      process.stdout.write(formatDemoSummary(summary));
    });
}
