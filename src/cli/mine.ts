import type { Command } from 'commander';
import { LeafError } from '../errors.js';
import { mine, type MineOptions } from '../method/mine.js';
import { MINING_UNITS } from '../method/flagging.js';
import { MINING_METHODS, type MiningMethod } from '../method/score.js';
import { VERIFY_MODES } from '../method/verify.js';
import { DTYPE_OPTION, intArg, numArg, shardOf, shardOptions, warnLine, type DtypeFlag } from './args.js';
import { loadPretrained } from '../model/pretrained.js';
import { progressBar } from './progress.js';

interface MineFlags {
  teacher: string;
  student: string;
  dtype: DtypeFlag;
  data: string;
  out: string;
  task?: string;
  level: string;
  segments?: number;
  method: string;
  threshold?: number;
  thresholdAbs?: number;
  pruning: string;
  verify: boolean | string;
  unit: string;
  topUnits?: number;
  protectLastSentence?: boolean;
  verifyEquations?: boolean;
  teacherOutputs?: string;
  limit?: number;
  resume?: boolean;
  overwrite?: boolean;
  seed: number;
  strict?: boolean;
  batchSize: number;
  maxNewTokens?: number;
  workers?: number;
  unsafeAllowNetwork?: boolean;
  shard?: string;
  shardCount?: number;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new LeafError(`${flag} must be one of ${allowed.join(', ')}, got ${v}`);
  return v as T;
}

const pct = (x: number) => (100 * x).toFixed(1);

export function registerMine(program: Command): void {
  const cmd = program
    .command('mine')
    .description('confounder mining (LeaF stage 1): select student-wrong/teacher-right problems, score prompt tokens, prune, verify; writes scores.jsonl, counterfactuals.jsonl, generations.jsonl, summary.json')
    .requiredOption('--teacher <dir>', 'teacher model folder')
    .requiredOption('--student <dir>', 'student model folder')
    .requiredOption('--data <file>', 'mining input, JSONL or a JSON array (id, prompt, response?, answer | tests [+ entry_point]; or a math benchmark: gsm8k, gsm-ic, math, olympiadbench)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--task <task>', 'math or code: mine only problems of this task (default: all, each judged by its own task)')
    .option('--level <level>', 'instruction or response', 'instruction')
    .option('--segments <k>', 'response level: split the response into k segments (default 2)', intArg('--segments', 2))
    .option('--method <m>', `${MINING_METHODS.join(' | ')}`, 'gradient')
    .option('--threshold <q>', 'fraction of each unit\'s tokens to flag: thr = min(q-quantile of D, 0.5), flag D ≤ thr (default 0.10)', numArg('--threshold', 0, 1))
    .option('--threshold-abs <tau>', 'flag D ≤ τ instead of the quantile rule', numArg('--threshold-abs'))
    .option('--unit <u>', 'token (flag tokens: the reference rule) or sentence (score each sentence by the mean D of its tokens, flag whole sentences)', 'token')
    .option('--top-units <k>', 'sentence unit: flag the k lowest sentences of each prompt instead of the threshold rule', intArg('--top-units', 1))
    .option('--protect-last-sentence', 'never score or cut the prompt\'s last sentence (e.g. the question); records may also give protected_spans')
    .option('--pruning <p>', 'span (one counterfactual per span or flagged sentence) or collective (all at once)', 'span')
    .option('--verify <who>', `${VERIFY_MODES.join(' | ')}: which models must answer a counterfactual right for it to be kept`, 'both')
    .option('--no-verify', 'keep every counterfactual, marked unverified (same as --verify none)')
    .option('--verify-equations', 'a verifying answer must also show the reference response\'s worked equations, not only its final answer')
    .option('--teacher-outputs <file>', 'JSONL {id, response}: teacher answers used in selection instead of generating them')
    .option('--limit <n>', 'first N problems only', intArg('--limit', 1))
    .option('--resume', 'continue an interrupted run in the same --out')
    .option('--overwrite', 'start scores and counterfactuals over (cached generations are kept and reused)')
    .option('--seed <s>', 'seed of the random baseline', intArg('--seed', 0), 1234)
    .option('--strict', 'stop at the first malformed input line instead of skipping it')
    .option('--batch-size <b>', 'prompts decoded together (and occlusion forward batch)', intArg('--batch-size', 1), 8)
    .option('--max-new-tokens <n>', 'maximum new tokens per answer (default 1024)', intArg('--max-new-tokens', 1))
    .option('--workers <n>', 'code sandbox workers (default: number of cores)', intArg('--workers', 1))
    .option('--unsafe-allow-network', 'run generated code even where no network namespace can be made')
    .option(...DTYPE_OPTION);
  shardOptions(cmd).action(async (f: MineFlags) => {
      const shard = shardOf(f);
      const task = f.task === undefined ? undefined : oneOf('--task', f.task, ['math', 'code'] as const);
      const level = oneOf('--level', f.level, ['instruction', 'response'] as const);
      const method: MiningMethod = oneOf('--method', f.method, MINING_METHODS);
      const pruning = oneOf('--pruning', f.pruning, ['span', 'collective'] as const);
      const unit = oneOf('--unit', f.unit, MINING_UNITS);
      const verify = f.verify === false ? 'none' : oneOf('--verify', f.verify === true ? 'both' : f.verify, VERIFY_MODES);
      const bar = progressBar('mine', ['selected', 'verified']);
      let started = false;
      const opts: MineOptions = {
        // --dtype other than auto: the models are loaded here with it (mine() loads folders with the default).
        teacher: f.dtype === 'auto' ? f.teacher : loadPretrained(f.teacher, { dtype: f.dtype }),
        student: f.dtype === 'auto' ? f.student : loadPretrained(f.student, { dtype: f.dtype }),
        data: f.data, out: f.out, level, method, pruning, verify, unit,
        ...(f.topUnits !== undefined ? { topUnits: f.topUnits } : {}),
        ...(f.protectLastSentence ? { protectLastSentence: true } : {}),
        ...(f.verifyEquations ? { verifyEquations: true } : {}),
        seed: f.seed, batchSize: f.batchSize,
        ...(task !== undefined ? { task } : {}),
        ...(f.segments !== undefined ? { segments: f.segments } : {}),
        ...(f.threshold !== undefined ? { threshold: f.threshold } : {}),
        ...(f.thresholdAbs !== undefined ? { thresholdAbs: f.thresholdAbs } : {}),
        ...(f.teacherOutputs !== undefined ? { teacherOutputs: f.teacherOutputs } : {}),
        ...(f.limit !== undefined ? { limit: f.limit } : {}),
        ...(f.resume ? { resume: true } : {}),
        ...(f.overwrite ? { overwrite: true } : {}),
        ...(f.strict ? { strict: true } : {}),
        ...(f.maxNewTokens !== undefined ? { maxNewTokens: f.maxNewTokens } : {}),
        ...(f.workers !== undefined ? { workers: f.workers } : {}),
        ...(f.unsafeAllowNetwork ? { allowNetwork: true } : {}),
        ...(shard ? { shard } : {}),
        onWarning: warnLine,
        onProgress: (p) => {
          if (!started) {
            bar.start(p.total, p.done, { selected: p.selected, verified: p.verified });
            started = true;
          } else bar.update(p.done, { selected: p.selected, verified: p.verified });
        },
      };
      let s;
      try {
        s = await mine(opts);
      } finally {
        bar.stop();
      }
      const n = s.counts;
      const det = s.detection;
      if (det) process.stdout.write(`detection vs distractor_spans (${det.problems} problems): tokens P ${pct(det.token.precision)} R ${pct(det.token.recall)} F1 ${pct(det.token.f1)}; sentences P ${pct(det.unit.precision)} R ${pct(det.unit.recall)} F1 ${pct(det.unit.f1)} (%)\n`);
      process.stdout.write(
        `${n.problems} problems, ${n.selected} selected (student wrong, teacher right), ${n.scoredUnits} scored, ${n.candidates} candidate tokens in ${n.spans} spans` +
          `${n.unitsWithoutCandidates > 0 ? ` (${n.unitsWithoutCandidates} units without candidates, ${n.constantDiffUnits} of them with constant D)` : ''}, ` +
          `${n.counterfactuals} counterfactuals (${s.settings.verify !== 'none' ? `${n.verified} verified, ${n.rejected} rejected` : 'unverified'}) — ` +
          `${s.timings.total.toFixed(1)} s; ${f.out}/counterfactuals.jsonl, ${f.out}/summary.json\n`,
      );
    });
}
