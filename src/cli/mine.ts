import type { Command } from 'commander';
import { mine, type MineOptions, type MineSummary } from '../method/mine.js';
import { MINE_SPEC } from '../method/mine-options.js';
import { sandboxOptions, shardOf, shardOptions, warnLine } from './args.js';
import { drawProgress, progressBar } from './progress.js';
import { addSpecOptions } from './spec-options.js';
import { pct } from '../util/format.js';

/** What commander hands over: MINE_SPEC's options as given (undefined when left out), the paths, the modes. */
interface MineFlags extends Omit<MineOptions, 'shard'> {
  unsafeAllowNetwork?: boolean;
  shard?: string;
  shardCount?: number;
}


export function registerMine(program: Command): void {
  const cmd = program
    .command('mine')
    .description('confounder mining (LeaF stage 1): select student-wrong/teacher-right problems, score prompt tokens, prune, verify; writes scores.jsonl, counterfactuals.jsonl, generations.jsonl, summary.json')
    .requiredOption('--teacher <dir>', 'teacher model folder')
    .requiredOption('--student <dir>', 'student model folder')
    .requiredOption('--data <file>', 'mining input, JSONL or a JSON array (id, prompt, response?, answer | tests [+ entry_point]; or a math benchmark: gsm8k, gsm-ic, math, olympiadbench)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--teacher-outputs <file>', 'JSONL {id, response}: teacher answers used in selection instead of generating them')
    .option('--resume', 'continue an interrupted run in the same --out')
    .option('--overwrite', 'start scores and counterfactuals over (cached generations are kept and reused)')
    .option('--strict', 'stop at the first malformed input line instead of skipping it');
  addSpecOptions(cmd, MINE_SPEC).option('--no-verify', 'keep every counterfactual, marked unverified (same as --verify none)');
  shardOptions(sandboxOptions(cmd)).action(async (f: MineFlags) => {
    const bar = progressBar('mine', ['selected', 'verified']);
    const draw = drawProgress(bar);
    let s: MineSummary;
    try {
      s = await mine({
        ...f, allowNetwork: f.unsafeAllowNetwork, shard: shardOf(f), onWarning: warnLine,
        onProgress: (p) => draw(p.done, p.total, { selected: p.selected, verified: p.verified }),
      });
    } finally {
      bar.stop();
    }
    process.stdout.write(summaryLines(s, f.out));
  });
}

/** The lines printed at the end: detection quality (when the input has ground truth) and the counts. */
function summaryLines(s: MineSummary, out: string): string {
  const n = s.counts;
  const det = s.detection;
  const detection = det
    ? `detection vs distractor_spans (${det.problems} problems): tokens P ${pct(det.token.precision)} R ${pct(det.token.recall)} F1 ${pct(det.token.f1)}; sentences P ${pct(det.unit.precision)} R ${pct(det.unit.recall)} F1 ${pct(det.unit.f1)} (%)\n`
    : '';
  return detection +
    `${n.problems} problems, ${n.selected} selected (student wrong, teacher right), ${n.scoredUnits} scored, ${n.candidates} candidate tokens in ${n.spans} spans` +
    `${n.unitsWithoutCandidates > 0 ? ` (${n.unitsWithoutCandidates} units without candidates, ${n.constantDiffUnits} of them with constant D)` : ''}, ` +
    `${n.counterfactuals} counterfactuals (${s.settings.verify !== 'none' ? `${n.verified} verified, ${n.rejected} rejected` : 'unverified'}) — ` +
    `${s.timings.total.toFixed(1)} s; ${out}/counterfactuals.jsonl, ${out}/summary.json\n`;
}
