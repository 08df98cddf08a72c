/**
 * `leaf mine`'s open run: the models, the record logs, the generation cache, the code sandbox pool
 * and the tally, which every phase (selection, scoring, pruning, verification) works with.
 */
import type { RunFolder, SummaryWriter } from '../data/run-folder.js';
import type { RecordLog } from '../data/record-log.js';
import { CodePool, probeIsolation, sandboxRecord, type SandboxRecord } from '../eval/code/index.js';
import type { Pretrained } from '../model/pretrained.js';
import type { CounterfactualRecord } from './counterfactuals.js';
import { GenerationCache, type GenerationRecord, type GenerationRequest } from './generations.js';
import type { LoadedMiningData } from './input.js';
import type { MineOptions, ScoreRecord } from './mine.js';
import type { MineFiles, MineSettings } from './mine-setup.js';
import type { MineTally, TimingBucket } from './mine-tally.js';

export interface MineRun {
  options: MineOptions;
  settings: MineSettings;
  files: MineFiles;
  /** The problems to mine (this shard's), with the input's line and skip counts. */
  data: LoadedMiningData;
  /** Problems a resumed run finished (their records are kept and counted, not mined again). */
  done: Set<string>;
  student: Pretrained;
  teacher: Pretrained;
  /** Given teacher answers by problem id (--teacher-outputs), or null (the teacher answers). */
  given: Map<string, string> | null;
  pool: CodePool | null;
  cache: GenerationCache;
  logs: { generations: RecordLog<GenerationRecord>; scores: RecordLog<ScoreRecord>; counterfactuals: RecordLog<CounterfactualRecord> };
  tally: MineTally;
  summaryFile: SummaryWriter;
  warn: (message: string) => void;
  /** The stale cached answers have been warned about (once a run). */
  staleWarned: boolean;
}

/** Opens the record logs (generations resumed always; scores and counterfactuals per the folder's policy). */
export function openLogs(folder: RunFolder, o: MineOptions, files: MineFiles): MineRun['logs'] {
  const fsync = o.fsync ?? true;
  return {
    generations: folder.openLog<GenerationRecord>(files.generations, { resume: true, fsync, onAppend: (r) => o.onRecord?.('generations', r) }),
    scores: folder.openLog<ScoreRecord>(files.scores, { fsync }),
    counterfactuals: folder.openLog<CounterfactualRecord>(files.counterfactuals, { fsync }),
  };
}

export function closeLogs(logs: MineRun['logs']): void {
  logs.generations.close();
  logs.scores.close();
  logs.counterfactuals.close();
}

/**
 * The code sandbox pool when the input has code problems, with what the isolation probe found (a weak
 * sandbox is warned about; summary.json records the tier), else null for both.
 */
export async function openPool(
  o: MineOptions, data: LoadedMiningData, warn: (m: string) => void,
): Promise<{ pool: CodePool | null; sandbox: SandboxRecord | null }> {
  const code = data.problems.some((p) => p.problem.task === 'code');
  if (o.workers !== undefined && !code) warn('--workers only applies to code problems (the sandbox workers); ignored');
  if (!code) return { pool: null, sandbox: null };
  const pool = new CodePool({ ...(o.workers ? { concurrency: o.workers } : {}), defaults: { allowNetwork: o.allowNetwork ?? false } });
  const sandbox = sandboxRecord(await probeIsolation());
  if (sandbox.warning) warn(sandbox.warning);
  return { pool, sandbox };
}

/** Makes sure `who` has answered every request (decoded in batches, cached), timed in `bucket`; counts what was decoded. */
export async function decode(run: MineRun, who: 'student' | 'teacher', reqs: GenerationRequest[], bucket: TimingBucket): Promise<void> {
  const { cache, tally } = run;
  const before = cache.generated;
  const tg = performance.now();
  await cache.ensure(who, run[who], reqs, run.settings.batchSize, run.pool);
  if (cache.stale > 0 && !run.staleWarned) {
    run.staleWarned = true;
    run.warn(`${run.files.generations}: cached answers from another model or another rendering of the prompt (weights, chat template or leaf version changed) are not used and are decoded again; summary.json counts them (staleCachedAnswers)`);
  }
  tally.timing[bucket] += performance.now() - tg;
  tally.generated[who] += cache.generated - before;
}
