/**
 * `leaf merge` of `leaf mine` shards: scores.jsonl, counterfactuals.jsonl and generations.jsonl in
 * input order (byte for byte, a problem's records in their order), and summary.json as one run over
 * the whole input would write it: every count is a sum over problems, so the shards' counts add;
 * the per-unit lists are put in input order; detection precision / recall / F1 (totals and per label) are
 * recomputed from the summed confusion counts by the same tally (detection.ts `DetectionTally`). The input's `lines`
 * and `skipped` are the same in every shard and taken once; `timings` are summed (compute, not wall
 * time) and `resumedProblems` counts the shards' resumes.
 */
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeMergeOut, mergeRecordFiles, readSummary, writeMergedRunFile, type ShardSet } from '../data/merge-shards.js';
import { DetectionTally } from './detection.js';
import type { MineSummary } from './mine.js';
import { checkSummaryFormat } from './mine-setup.js';

const ONCE = new Set(['lines', 'skippedLines']);

/** The shards' detection as one tally over all their problems would give it (totals and per label). */
function mergeDetection(summaries: MineSummary[]): MineSummary['detection'] {
  const tally = new DetectionTally();
  for (const s of summaries) if (s.detection) tally.addSummary(s.detection);
  return tally.summary();
}

/** Field-wise sums of objects of numbers (the fields in `once` are taken from the first). */
function sumFields<T extends object>(items: readonly T[], once: ReadonlySet<string> = new Set()): T {
  const out: Record<string, number> = { ...(items[0] as Record<string, number>) };
  for (const k of Object.keys(out)) if (!once.has(k)) out[k] = items.reduce((a, x) => a + (x as Record<string, number>)[k]!, 0);
  return out as T;
}

export function mergeMinedShards(set: ShardSet, out: string): MineSummary {
  const summaries = set.shards.map((s) => readSummary<MineSummary>(s.dir));
  set.shards.forEach((s, i) => checkSummaryFormat(join(s.dir, 'summary.json'), summaries[i]!));
  set.shards.forEach((s, i) => {
    if (!summaries[i]!.complete) throw new LeafError(`${s.dir}: shard ${s.file.shard.index}/${s.file.shard.count} has not finished (summary.json complete: false); resume it`);
  });
  makeMergeOut(out);
  for (const name of ['scores.jsonl', 'counterfactuals.jsonl', 'generations.jsonl']) {
    mergeRecordFiles(set.shards.map((s) => join(s.dir, name)), join(out, name), 'source_id', set.rank);
  }
  const inOrder = <T extends { sourceId: string }>(lists: T[][]): T[] =>
    lists.flat().map((x, at) => ({ x, at })).sort((a, b) => set.rank.get(a.x.sourceId)! - set.rank.get(b.x.sourceId)! || a.at - b.at).map((e) => e.x);
  const first = summaries[0]!;
  const summary: MineSummary = {
    ...first,
    complete: true,
    out,
    counts: sumFields(summaries.map((s) => s.counts), ONCE),
    unscored: inOrder(summaries.map((s) => s.unscored)),
    refused: inOrder(summaries.map((s) => s.refused)),
    noCandidates: inOrder(summaries.map((s) => s.noCandidates)),
    generated: sumFields(summaries.map((s) => s.generated)),
    staleCachedAnswers: summaries.reduce((a, s) => a + s.staleCachedAnswers, 0),
    detection: mergeDetection(summaries),
    timings: sumFields(summaries.map((s) => s.timings)),
  };
  writeMergedRunFile(out, set.identity);
  writeFileAtomicSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
