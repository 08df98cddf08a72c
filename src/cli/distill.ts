import type { Command } from 'commander';
import type { RunControl } from '../data/run-control.js';
import { DISTILL_SPEC, type Resolved } from '../training/distill-options.js';
import { distill, type DistillProgress } from '../training/trainer.js';
import { progressBar } from './progress.js';
import { addSpecOptions } from './spec-options.js';

/** What commander hands over: the spec's options as given (undefined when left out), plus the paths and modes. */
interface DistillFlags extends Partial<Resolved>, RunControl {
  student: string;
  teacher?: string;
  data: string;
  counterfactuals?: string;
  out: string;
  evalData?: string;
  teacherCache?: string;
}

export function registerDistill(program: Command): void {
  const cmd = program
    .command('distill')
    .description('causal distillation (LeaF stage 2): train the student on original and counterfactual samples against the teacher')
    .requiredOption('--student <dir>', 'student model folder (Hugging Face format)')
    .option('--teacher <dir>', 'teacher model folder (same tokenizer); not needed for --loss ce')
    .requiredOption('--data <file>', 'train.jsonl: { id, prompt, response }')
    .option('--counterfactuals <file>', 'counterfactuals.jsonl from leaf mine (verified !== false are used)')
    .requiredOption('--out <dir>', 'output folder (checkpoints, metrics.jsonl, model/)')
    .option('--eval-data <file>', 'validation records (train.jsonl format)')
    .option('--teacher-cache <dir>', 'a teacher top-K cache built beforehand (leaf teacher-cache, or leaf merge of its shards), checked to match the teacher and samples; implies --teacher-logits cache')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--overwrite', 'start over in an --out that holds a run (a teacher cache there is kept and checked)')
    .option('--strict', 'stop at the first malformed input line instead of skipping it');
  addSpecOptions(cmd, DISTILL_SPEC)
    .action(async (f: DistillFlags) => {
      let bar: ReturnType<typeof progressBar> | null = null;
      let phase = '';
      const onProgress = (p: DistillProgress) => {
        if (p.phase !== phase) {
          bar?.stop();
          phase = p.phase;
          bar = p.phase === 'teacher-cache' ? progressBar('teacher cache', []) : progressBar('distill', ['loss', 'tok_s']);
          if (p.phase === 'teacher-cache') bar.start(p.total, p.done);
          else bar.start(p.total, p.done - 1, { loss: '-', tok_s: '-' });
        }
        if (p.phase === 'teacher-cache') bar!.update(p.done);
        else bar!.update(p.done, { loss: Number.isFinite(p.loss) ? p.loss.toFixed(4) : String(p.loss), tok_s: p.tokensPerSec.toFixed(0) });
      };
      try {
        const s = await distill({
          ...f, teacher: f.teacher ?? null, counterfactuals: f.counterfactuals ?? null, evalData: f.evalData ?? null, teacherCache: f.teacherCache ?? null,
          resume: f.resume === true, overwrite: f.overwrite === true, strict: f.strict === true, onProgress,
        });
        (bar as ReturnType<typeof progressBar> | null)?.stop();
        const d = s.data.samples;
        const fin = s.final;
        process.stdout.write(
          `distilled ${d.samples} samples (${d.originals} original, ${d.counterfactuals} counterfactual${d.truncated ? `, ${d.truncated} truncated` : ''}` +
            `${d.dropped + s.data.inputIssues.length ? `, ${d.dropped + s.data.inputIssues.length} left out` : ''}` +
            `${s.pairing ? `; ${s.pairing.counterfactuals} paired with their originals${s.pairing.missingSource ? `, ${s.pairing.missingSource} with no original left out` : ''}` : ''}) for ${s.steps} steps` +
            `${s.resumedFrom !== null ? ` (resumed at step ${s.resumedFrom})` : ''}; ` +
            `final loss ${fin ? fin.loss.toFixed(4) : '-'}${s.valLoss !== null ? `, val loss ${s.valLoss.toFixed(4)}` : ''}` +
            `${s.skippedSteps ? `, ${s.skippedSteps} steps skipped (non-finite)` : ''}; ${s.tokensPerSec.toFixed(0)} tokens/s; model ${s.modelDir}\n`,
        );
      } finally {
        (bar as ReturnType<typeof progressBar> | null)?.stop();
      }
    });
}
