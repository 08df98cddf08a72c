/**
 * `leaf merge` of `leaf eval` shards: results.jsonl in input order (byte for byte), and summary.json
 * with the accuracy and its interval recomputed from the merged records by the same function a single
 * run uses (stats.ts); `seconds` is the shards' sum.
 */
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { readJsonl } from '../data/jsonl.js';
import { makeMergeOut, mergeRecordFiles, readSummary, writeMergedRunFile, type ShardSet } from '../data/merge-shards.js';
import type { EvalRecord, EvalSummary } from './runner.js';
import { accuracy } from './stats.js';

export function mergeEvalShards(set: ShardSet, out: string): EvalSummary {
  const summaries = set.shards.map((s) => readSummary<EvalSummary>(s.dir));
  set.shards.forEach((s, i) => {
    const n = readJsonl(join(s.dir, 'results.jsonl'), { strict: true }).kept;
    if (n !== s.file.ids.length || summaries[i]!.result.total + (summaries[i]!.refusedPrompts?.length ?? 0) !== n) {
      throw new LeafError(`${s.dir}: shard ${s.file.shard.index}/${s.file.shard.count} is incomplete (${n} of ${s.file.ids.length} problems); resume it`);
    }
  });
  makeMergeOut(out);
  const resultsFile = join(out, 'results.jsonl');
  mergeRecordFiles(set.shards.map((s) => join(s.dir, 'results.jsonl')), resultsFile, 'id', set.rank);
  const records = readJsonl<EvalRecord>(resultsFile, { strict: true }).records;
  const answered = records.filter((r) => r.refused === undefined); // refused prompts are left out, as in one run
  const summary: EvalSummary = {
    ...summaries[0]!,
    result: accuracy(answered.filter((r) => r.correct).length, answered.length),
    refusedPrompts: records.filter((r) => r.refused !== undefined).map((r) => `${r.id}: ${r.refused}`),
    seconds: summaries.reduce((a, s) => a + s.seconds, 0),
  };
  writeMergedRunFile(out, set.identity);
  writeFileAtomicSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
