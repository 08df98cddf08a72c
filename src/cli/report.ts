import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeReport } from '../report/build.js';
import { intArg, warnLine } from './args.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('one self-contained HTML report of a mining output (saliency, spans, counterfactuals), training curves and attention maps')
    .requiredOption('--mined <dir>', 'leaf mine output folder (scores.jsonl, counterfactuals.jsonl, summary.json)')
    .option('--run <dir>', 'leaf distill output folder (metrics.jsonl; its model/ is drawn as "after"); repeatable', collect, [])
    .option('--data <file>', 'problems file with ground-truth `distractors` (default: the one mined)')
    .option('--student <dir>', 'the student before distillation, for the attention maps (default: the mined student)')
    .option('--allow-other-student', 'draw a --student whose weights differ from the mining run\'s student (refused by default)')
    .option('--limit <n>', 'problems shown', intArg('--limit', 1), 30)
    .requiredOption('--out <file>', 'HTML file to write')
    .action((opts: { mined: string; run: string[]; data?: string; student?: string; allowOtherStudent?: boolean; limit: number; out: string }) => {
      // Folders named on the command line must exist (a typo would only show as a note inside the page).
      for (const [flag, dir] of [['--mined', opts.mined], ...opts.run.map((d) => ['--run', d]), ...(opts.student ? [['--student', opts.student]] : [])] as const) {
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LeafError(`${flag} ${dir}: no such folder`);
      }
      if (opts.student && !existsSync(join(opts.student, 'config.json'))) throw new LeafError(`--student ${opts.student}: not a model folder (no config.json)`);
      if (opts.data && !existsSync(opts.data)) throw new LeafError(`--data ${opts.data}: no such file`);
      const runs = opts.run.map((dir) => ({ label: basename(dir), group: basename(dir), dir }));
      const data = writeReport({
        out: opts.out, mined: opts.mined, data: opts.data ?? null, runs, limit: opts.limit,
        attentionFrom: { student: opts.student ?? null, runs: opts.run, allowOtherStudent: opts.allowOtherStudent === true },
      });
      for (const note of data.notes) if (note.startsWith('skipped ')) warnLine(note); // malformed input lines: on stderr too, not only in the page
      process.stdout.write(`wrote ${opts.out}: ${data.problems.length} problems, ${data.tables.length} tables, ${data.curves.length} charts\n`);
    });
}
