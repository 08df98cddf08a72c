import type { Command } from 'commander';
import { runDemo } from '../demo/demo.js';
import { DEMO_SPEC, type DemoOptions } from '../demo/demo-options.js';
import { formatDemoSummary } from '../demo/print.js';
import { DEMO_RECIPE, QUICK_RECIPE } from '../demo/recipes.js';
import { addSpecOptions } from './spec-options.js';

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('LeaF end to end on a distracted-arithmetic benchmark: train a tiny teacher and student, mine, distil (KD vs LeaF), evaluate, report')
    .option('--out <dir>', 'output folder (models are cached here and reused)', 'leaf-demo')
    .option('--quick', 'a seconds-long smoke run with untrained-size models (numbers mean nothing)')
    .option('--resume', 'reuse what --out holds that is still valid (models, mined answers, finished runs; also the default)')
    .option('--overwrite', 'start over: remove what an earlier demo wrote to --out');
  addSpecOptions(cmd, DEMO_SPEC).action(async (f: DemoOptions & { quick?: boolean }) => {
    const summary = await runDemo({
      ...f, recipe: f.quick ? QUICK_RECIPE : DEMO_RECIPE, log: (line) => process.stderr.write(`leaf demo: ${line}\n`),
    });
    process.stdout.write(formatDemoSummary(summary));
  });
}
