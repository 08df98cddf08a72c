import type { Command } from 'commander';
import type { RunControl } from '../data/run-control.js';
import { buildTeacherCache, TEACHER_CACHE_SPEC, type TeacherCacheSettings } from '../training/teacher-cache-run.js';
import { shardOf, shardOptions, warnLine } from './args.js';
import { drawProgress, progressBar } from './progress.js';
import { addSpecOptions } from './spec-options.js';

interface TeacherCacheFlags extends Partial<TeacherCacheSettings>, RunControl {
  teacher: string;
  student: string;
  data: string;
  counterfactuals?: string;
  out: string;
  /** As typed: shardOf() reads it. */
  shard?: string;
  shardCount?: number;
}

export function registerTeacherCache(program: Command): void {
  const cmd = program
    .command('teacher-cache')
    .description("build the teacher's top-K logit cache of leaf distill --teacher-logits cache on its own (shardable: --shard i/n, then leaf merge); leaf distill --teacher-cache DIR trains from it")
    .requiredOption('--teacher <dir>', 'teacher model folder')
    .requiredOption('--student <dir>', 'the student to be distilled (its tokenizer renders the samples, its vocabulary bounds the rows)')
    .requiredOption('--data <file>', "train.jsonl, as given to leaf distill --data")
    .option('--counterfactuals <file>', 'counterfactuals.jsonl from leaf mine, as given to leaf distill --counterfactuals')
    .requiredOption('--out <dir>', 'output folder (run.json, samples.jsonl, teacher-cache.bin, teacher-cache.json)')
    .option('--resume', 'continue the build in --out')
    .option('--overwrite', 'start over in an --out that holds a build')
    .option('--strict', 'stop at the first malformed input line instead of skipping it');
  shardOptions(addSpecOptions(cmd, TEACHER_CACHE_SPEC), 'the blocks of --micro-batch-size samples (one teacher forward each)').action(async (f: TeacherCacheFlags) => {
    const bar = progressBar('teacher cache', []);
    const draw = drawProgress(bar);
    try {
      const { teacher, student, data, counterfactuals, out, resume, overwrite, strict, shard: _shard, shardCount: _count, ...settings } = f;
      const s = await buildTeacherCache({
        ...settings, teacher, student, data, counterfactuals: counterfactuals ?? null, out, resume: resume === true, overwrite: overwrite === true,
        strict: strict === true, shard: shardOf(f), onWarning: warnLine,
        onProgress: (p) => draw(p.done, p.total, {}),
      });
      bar.stop();
      const part = s.shard ? `shard ${s.shard.index}/${s.shard.count}: ${s.folderSamples} of ${s.samples} samples` : `${s.samples} samples`;
      process.stdout.write(`${part}, ${s.rows} rows of top ${s.k} (${s.built}); teacher mass outside the top ${s.k}: mean ${(100 * s.meanRest).toFixed(2)}%, max ${(100 * s.maxRest).toFixed(2)}% → ${s.out}\n`);
    } finally {
      bar.stop();
    }
  });
}
