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
    .option('--seeds <n>', 'distillation seeds per method', intArg('--seeds', 1), 3)
    .option('--jobs <n>', 'worker processes (default: 2 when two cores are available)', intArg('--jobs', 1))
    .option('--quick', 'a seconds-long smoke run with untrained-size models (numbers mean nothing)')
    .option('--resume', 'reuse what --out holds that is still valid (models, mined answers, finished runs; also the default)')
    .option('--overwrite', 'start over: remove what an earlier demo wrote to --out')
    .action(async (opts: { out: string; seeds: number; jobs?: number; quick?: boolean; resume?: boolean; overwrite?: boolean }) => {
      const summary = await runDemo({
        out: opts.out, seeds: opts.seeds, recipe: opts.quick ? QUICK_RECIPE : DEMO_RECIPE,
        ...(opts.jobs !== undefined ? { concurrency: opts.jobs } : {}),
        resume: opts.resume === true, overwrite: opts.overwrite === true,
        log: (line) => process.stderr.write(`leaf demo: ${line}\n`),
      });
      process.stdout.write(formatDemoSummary(summary));
    });
}
