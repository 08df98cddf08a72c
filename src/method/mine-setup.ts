/**
 * `leaf mine`'s setup phase: the settings (defaults filled in), the output files, what a resumed run
 * left (its summary's settings must match), the input problems (and given teacher answers), and the
 * run's identity (run.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LeafError } from '../errors.js';
import { fileDigest, nonEmpty, type RunFolder } from '../data/run-folder.js';
import { takeShard, writeShardFile } from '../data/shard.js';
import { modelFingerprint } from '../model/fingerprint.js';
import type { Pretrained } from '../model/pretrained.js';
import { loadMiningData, loadTeacherOutputs, type LoadedMiningData } from './input.js';
import type { MineSummary } from './mine.js';
import type { MineOptions, MineResolved } from './mine-options.js';

export type MineSettings = MineSummary['settings'];

export interface MineFiles {
  scores: string;
  counterfactuals: string;
  generations: string;
  summary: string;
}

/** What a resumed run left in its summary.json: the lists a resume reads back, and whether its settings were there. */
export interface PreviousRun {
  unscored: MineSummary['unscored'];
  noCandidates: MineSummary['noCandidates'];
  /** The previous summary held settings (checked here): outputs written before run.json existed are accepted. */
  legacy: boolean;
}

/** Settings a resume must keep (--limit and --batch-size may change). */
export const RESUME_KEYS = ['level', 'segments', 'method', 'threshold', 'pruning', 'verify', 'teacherOutputs', 'seed', 'maxNewTokens', 'task', 'unit', 'topUnits', 'protectLastSentence', 'verifyEquations', 'studentWeight'] as const;

/** The run's settings, every default filled in (as summary.json records them). */
export function mineSettings(r: MineResolved, o: MineOptions): MineSettings {
  return {
    level: r.level, segments: r.segments, method: r.method,
    threshold: r.thresholdAbs !== null ? { kind: 'absolute', tau: r.thresholdAbs } : { kind: 'quantile', q: r.threshold },
    pruning: r.pruning, verify: r.verify, teacherOutputs: o.teacherOutputs ?? null,
    limit: r.limit, seed: r.seed, batchSize: r.batchSize, maxNewTokens: r.maxNewTokens, task: r.task, decoding: 'greedy',
    unit: r.unit, topUnits: r.topUnits, protectLastSentence: r.protectLastSentence, verifyEquations: r.verifyEquations,
    studentWeight: r.studentWeight,
  };
}

export function mineFiles(o: MineOptions): MineFiles {
  return {
    scores: join(o.out, 'scores.jsonl'),
    counterfactuals: join(o.out, 'counterfactuals.jsonl'),
    generations: o.generations ?? join(o.out, 'generations.jsonl'),
    summary: join(o.out, 'summary.json'),
  };
}

/** On resume: the previous summary.json's lists, after checking its settings against this run's; nothing otherwise. */
export function readPreviousRun(resume: boolean, file: string, settings: MineSettings): PreviousRun {
  if (!resume) return { unscored: [], noCandidates: [], legacy: false };
  let prev: Partial<MineSummary> | null = null;
  if (existsSync(file)) {
    try {
      prev = JSON.parse(readFileSync(file, 'utf8')) as Partial<MineSummary>;
    } catch {
      prev = null;
    }
  }
  if (prev) checkSummaryFormat(file, prev);
  if (prev?.settings) {
    // Records of different settings must not be mixed in one output (limit and batch size may change).
    for (const key of RESUME_KEYS) {
      const was = JSON.stringify(prev.settings[key]), now = JSON.stringify(settings[key]);
      if (was !== now) throw new LeafError(`${file}: --resume with a different ${key} (${now}, the run being resumed used ${was}); use the same settings or another --out`);
    }
  }
  return { unscored: prev?.unscored ?? [], noCandidates: prev?.noCandidates ?? [], legacy: prev?.settings !== undefined };
}

/** A mine summary.json in the snake_case format of earlier versions (e.g. `counts.skipped_lines`) is refused in one line naming it. */
export function checkSummaryFormat(file: string, s: Partial<MineSummary>): void {
  const old = ['skipped_lines', 'scored_units'].some((k) => Object.hasOwn(s.counts ?? {}, k)) || Object.hasOwn(s, 'no_candidates');
  if (old) throw new LeafError(`${file}: a summary.json in the snake_case format of an earlier leaf (summaries are camelCase now); mine that folder again (--overwrite keeps its cached generations)`);
}

/** The input, the problems to mine (this shard's), and the given teacher answers (checked to cover them) when --teacher-outputs is given. */
export function loadMineInput(o: MineOptions, s: MineSettings, warn: (m: string) => void): { input: LoadedMiningData; data: LoadedMiningData; given: Map<string, string> | null } {
  const input = loadMiningData(o.data, {
    ...(o.strict !== undefined ? { strict: o.strict } : {}),
    ...(s.limit !== null ? { limit: s.limit } : {}),
    ...(s.task !== null ? { task: s.task } : {}),
    onIssue: (m) => warn(`skipped ${m}`),
  });
  const data = { ...input, problems: takeShard(input.problems, o.shard) };
  if (input.problems.length === 0) throw new LeafError(`${o.data}: no problems to mine`);
  const given = o.teacherOutputs !== undefined ? loadTeacherOutputs(o.teacherOutputs) : null;
  if (given) {
    const missing = data.problems.find((p) => !given.has(p.problem.id));
    if (missing) throw new LeafError(`${o.teacherOutputs}: no teacher output for problem '${missing.problem.id}' (line ${missing.line} of ${o.data})`);
  }
  return { input, data, given };
}

/** What this output is made of (run.json, written before any record; a resume must match it); the shard's file (naming every input problem). Returns the models' fingerprints. */
export function writeIdentity(
  folder: RunFolder, o: MineOptions, settings: MineSettings, files: MineFiles, models: { student: Pretrained; teacher: Pretrained },
  legacy: boolean, input: LoadedMiningData,
): { student: string; teacher: string } {
  const { student, teacher } = models;
  const fingerprints = { student: modelFingerprint(student.model), teacher: modelFingerprint(teacher.model) };
  folder.identity({
    ...Object.fromEntries(RESUME_KEYS.map((key) => [key, settings[key]])),
    data: resolve(o.data), data_sha256: fileDigest(o.data),
    teacher_outputs_sha256: o.teacherOutputs !== undefined ? fileDigest(o.teacherOutputs) : null,
    student: resolve(student.dir), student_weights: fingerprints.student.slice(0, 16),
    teacher: resolve(teacher.dir), teacher_weights: fingerprints.teacher.slice(0, 16),
    ...(o.shard ? { shard: o.shard } : {}),
  }, { hasRecords: nonEmpty(files.scores) || nonEmpty(files.counterfactuals), legacy });
  if (o.shard) writeShardFile(folder.dir, o.shard, input.problems.map((m) => m.problem.id));
  return fingerprints;
}
