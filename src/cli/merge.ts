import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { LeafError } from '../errors.js';
import { readShardSet } from '../data/merge-shards.js';
import { mergeEvalShards } from '../eval/merge.js';
import { mergeMinedShards } from '../method/merge-mined.js';
import { CACHE_META } from '../training/teacher-cache-file.js';
import { mergeTeacherCacheShards } from '../training/teacher-cache-merge.js';
import { pct } from '../util/format.js';

/** Which job made a shard folder: mine (scores.jsonl), eval (results.jsonl) or teacher-cache (teacher-cache.json). */
function jobOf(dir: string): 'mine' | 'eval' | 'teacher-cache' {
  if (existsSync(join(dir, 'scores.jsonl'))) return 'mine';
  if (existsSync(join(dir, 'results.jsonl'))) return 'eval';
  if (existsSync(join(dir, CACHE_META))) return 'teacher-cache';
  throw new LeafError(`${dir}: not a leaf mine, eval or teacher-cache shard (no scores.jsonl, results.jsonl or teacher-cache.json)`);
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('join the shard folders of a sharded leaf mine, leaf eval or leaf teacher-cache run (--shard i/n) into one run folder, as one run over the whole input would have written it')
    .requiredOption('--out <dir>', 'output folder (new or empty)')
    .argument('<shard-dirs...>', 'the shard folders, all n of them, in any order')
    .action((dirs: string[], f: { out: string }) => {
      const set = readShardSet(dirs);
      const jobs = new Set(set.shards.map((s) => jobOf(s.dir)));
      if (jobs.size > 1) throw new LeafError(`leaf merge: the folders mix shards of ${[...jobs].join(' and ')} runs`);
      const n = set.shards.length;
      if (jobs.has('teacher-cache')) {
        const m = mergeTeacherCacheShards(set, f.out);
        process.stdout.write(`${n} shards: ${m.samples} samples, ${m.rows} rows of top ${m.k} → ${f.out}\n`);
      } else if (jobs.has('mine')) {
        const s = mergeMinedShards(set, f.out);
        process.stdout.write(`${n} shards, ${s.counts.problems} problems, ${s.counts.selected} selected, ${s.counts.counterfactuals} counterfactuals (${s.counts.verified} verified) → ${f.out}\n`);
      } else {
        const s = mergeEvalShards(set, f.out);
        process.stdout.write(`${n} shards: ${s.metric} ${pct(s.result.accuracy)}% (${s.result.correct}/${s.result.total}), 95% CI [${pct(s.result.lower)}, ${pct(s.result.upper)}] → ${f.out}\n`);
      }
    });
}
