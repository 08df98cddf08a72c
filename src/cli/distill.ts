import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Resolved } from '../training/distill-options.js';
import { distill, type DistillProgress } from '../training/trainer.js';
import { intArg, numArg, warnLine } from './args.js';
import { progressBar } from './progress.js';

/** What commander hands over: the trainer's resolved settings (flags with defaults) plus the paths. */
interface DistillFlags extends Omit<Resolved, 'pairCounterfactuals' | 'evalEvery' | 'microBatchSize'> {
  student: string;
  teacher?: string;
  data: string;
  counterfactuals?: string;
  out: string;
  pairCounterfactuals?: boolean;
  resume?: boolean;
  overwrite?: boolean;
  evalEvery?: number;
  microBatchSize?: number;
  evalData?: string;
  strict?: boolean;
}

function choice<T extends string>(name: string, values: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    return v as T;
  };
}

export function registerDistill(program: Command): void {
  program
    .command('distill')
    .description('causal distillation (LeaF stage 2): train the student on original and counterfactual samples against the teacher')
    .requiredOption('--student <dir>', 'student model folder (Hugging Face format)')
    .option('--teacher <dir>', 'teacher model folder (same tokenizer); not needed for --loss ce')
    .requiredOption('--data <file>', 'train.jsonl: { id, prompt, response }')
    .option('--counterfactuals <file>', 'counterfactuals.jsonl from leaf mine (verified !== false are used)')
    .requiredOption('--out <dir>', 'output folder (checkpoints, metrics.jsonl, model/)')
    .option('--loss <kind>', 'fkl (forward KL, the reference) | rkl | jsd | ce (SFT on the reference response)', choice('--loss', ['fkl', 'rkl', 'jsd', 'ce'] as const), 'fkl')
    .option('--temperature <T>', 'softmax temperature of the KD losses (loss × T²)', numArg('--temperature', Number.MIN_VALUE), 1)
    .option('--jsd-beta <b>', 'β of JSD(β)', numArg('--jsd-beta', 0, 1), 0.5)
    .option('--cf-weight <λ>', 'weight of each counterfactual sample (1 = the reference data mixing, 0 = plain KD)', numArg('--cf-weight', 0), 1)
    .option('--pair-counterfactuals', 'each counterfactual joins the step of its original (source_id = id): steps over the originals only, as plain KD with the same seed; a step minimises (1/|originals|)·Σ [L_s + λ·Σ_cf L_cf] (default: the reference data mixing)')
    .option('--teacher-logits <how>', 'online (teacher forward each step) | cache (top-K computed once)', choice('--teacher-logits', ['online', 'cache'] as const), 'online')
    .option('--top-k <K>', 'teacher cache: log-probabilities kept per token', intArg('--top-k', 1), 64)
    .option('--epochs <E>', 'epochs', intArg('--epochs', 1), 3)
    .option('--lr <lr>', 'peak learning rate', numArg('--lr', 0), 1e-5)
    .option('--batch-size <B>', 'samples per optimizer step', intArg('--batch-size', 1), 32)
    .option('--micro-batch-size <b>', 'samples per forward/backward, gradients accumulated over B/b (default: 2, at most B)', intArg('--micro-batch-size', 1))
    .option('--warmup <W>', 'linear warm-up steps before the cosine decay', intArg('--warmup', 0), 5)
    .option('--max-length <L>', 'truncate samples to L tokens (counted and reported)', intArg('--max-length', 2), 4096)
    .option('--seed <S>', 'seed of the data order', intArg('--seed', 0), 1234)
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--overwrite', 'start over in an --out that holds a run (a teacher cache there is kept and checked)')
    .option('--eval-every <N>', 'student cross-entropy on --eval-data every N steps (default: at the end of every epoch; always at the last step)', intArg('--eval-every', 1))
    .option('--eval-data <file>', 'validation records (train.jsonl format)')
    .option('--weight-decay <wd>', 'AdamW decoupled weight decay', numArg('--weight-decay', 0), 0)
    .option('--adam-beta1 <b1>', 'AdamW β1', numArg('--adam-beta1', 0, 1), 0.9)
    .option('--adam-beta2 <b2>', 'AdamW β2', numArg('--adam-beta2', 0, 1), 0.999)
    .option('--adam-eps <eps>', 'AdamW ε', numArg('--adam-eps', Number.MIN_VALUE), 1e-8)
    .option('--max-grad-norm <n>', 'clip the global gradient norm to n (0 = off, the reference)', numArg('--max-grad-norm', 0), 0)
    .option('--save-every <N>', 'checkpoint every N steps (0 = at the end of epochs, at most one per --checkpoint-interval)', intArg('--save-every', 0), 0)
    .option('--checkpoint-interval <s>', 'with --save-every 0: seconds between end-of-epoch checkpoints (0 = every epoch)', numArg('--checkpoint-interval', 0), 60)
    .option('--keep-checkpoints <n>', 'checkpoints kept', intArg('--keep-checkpoints', 1), 2)
    .option('--max-bad-steps <n>', 'stop after n consecutive steps with a non-finite loss', intArg('--max-bad-steps', 1), 8)
    .option('--save-dtype <dtype>', 'dtype of the final model/ folder', choice('--save-dtype', ['F32', 'BF16', 'F16'] as const), 'F32')
    .option('--strict', 'stop at the first malformed input line instead of skipping it')
    .action((f: DistillFlags, cmd: Command) => {
      // Flags given that this run's other choices make meaningless: said, not silently ignored.
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      if (given('topK') && f.teacherLogits !== 'cache') warnLine('--top-k only applies with --teacher-logits cache; ignored');
      if (given('jsdBeta') && f.loss !== 'jsd') warnLine(`--jsd-beta only applies with --loss jsd (not ${f.loss}); ignored`);
      if (given('temperature') && f.loss === 'ce') warnLine('--temperature does not apply to --loss ce; ignored');
      let bar: ReturnType<typeof progressBar> | null = null;
      let phase = '';
      const onProgress = (p: DistillProgress) => {
        if (p.phase !== phase) {
          bar?.stop();
          phase = p.phase;
          bar = p.phase === 'teacher-cache' ? progressBar('teacher cache', []) : progressBar('distill', ['loss', 'tok_s']);
          if (p.phase === 'teacher-cache') bar.start(p.total, p.done);
          else bar.start(p.totalSteps, p.step - 1, { loss: '-', tok_s: '-' });
        }
        if (p.phase === 'teacher-cache') bar!.update(p.done);
        else bar!.update(p.step, { loss: Number.isFinite(p.loss) ? p.loss.toFixed(4) : String(p.loss), tok_s: p.tokensPerSec.toFixed(0) });
      };
      try {
        const s = distill({
          student: f.student, teacher: f.teacher ?? null, data: f.data, counterfactuals: f.counterfactuals ?? null, out: f.out,
          loss: f.loss, temperature: f.temperature, jsdBeta: f.jsdBeta, cfWeight: f.cfWeight, pairCounterfactuals: f.pairCounterfactuals === true, teacherLogits: f.teacherLogits, topK: f.topK,
          epochs: f.epochs, lr: f.lr, batchSize: f.batchSize, microBatchSize: f.microBatchSize, warmup: f.warmup, maxLength: f.maxLength,
          seed: f.seed, resume: f.resume === true, overwrite: f.overwrite === true, evalEvery: f.evalEvery, evalData: f.evalData ?? null, weightDecay: f.weightDecay,
          adamBeta1: f.adamBeta1, adamBeta2: f.adamBeta2, adamEps: f.adamEps,
          maxGradNorm: f.maxGradNorm, saveEvery: f.saveEvery, checkpointInterval: f.checkpointInterval, keepCheckpoints: f.keepCheckpoints, maxBadSteps: f.maxBadSteps,
          saveDtype: f.saveDtype, strict: f.strict === true, onProgress,
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
