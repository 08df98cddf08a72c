/**
 * `leaf mine`'s tally: every count, list, timing and detection figure of summary.json, kept in one
 * object as the phases report what they did, and written (summary.json) as it stands.
 */
import type { SummaryWriter } from '../data/run-folder.js';
import type { CounterfactualRecord } from './counterfactuals.js';
import { DetectionTally, detectionLabels } from './detection.js';
import type { LoadedMiningData, MiningProblem } from './input.js';
import type { MineSummary, ScoreRecord } from './mine.js';
import { protectOf } from './mine-units.js';
import type { PreviousRun } from './mine-setup.js';

/** What a done problem's records (read back on resume) add to the counts. */
interface DoneRecords {
  units: number;
  candidates: number;
  spans: number;
  cfs: Array<Pick<CounterfactualRecord, 'verified'>>;
  scores: ScoreRecord[];
}

export type TimingBucket = 'gen' | 'score' | 'model' | 'verify';

export class MineTally {
  readonly summary: MineSummary;
  /** Milliseconds spent per phase: selection decoding, scoring (of which in the models), verification. */
  readonly timing: Record<TimingBucket, number> = { gen: 0, score: 0, model: 0, verify: 0 };
  /** Answers decoded by this process, per model. */
  readonly generated = { student: 0, teacher: 0 };
  /** Problems gone through (selected or not). */
  processed = 0;
  private readonly detection = new DetectionTally();
  private readonly truthOf: Map<string, MiningProblem>;
  private readonly done = new Map<string, DoneRecords>();
  private listedWritten: number;

  constructor(
    head: Pick<MineSummary, 'data' | 'out' | 'teacher' | 'student' | 'tokenizers' | 'settings' | 'sandbox'>, data: LoadedMiningData,
    private readonly previous: PreviousRun, private readonly times: { t0: number; loadMs: number },
  ) {
    this.summary = {
      complete: false,
      ...head,
      counts: {
        lines: data.lines, problems: data.problems.length, skippedLines: data.skipped.length, resumedProblems: 0,
        studentWrong: 0, teacherRight: 0, selected: 0, scoredUnits: 0, unscoredUnits: 0, unitsWithoutCandidates: 0, constantDiffUnits: 0,
        candidates: 0, spans: 0,
        counterfactuals: 0, emptyAfterPruning: 0, verified: 0, rejected: 0, unverified: 0,
      },
      skipped: data.skipped,
      unscored: [...previous.unscored],
      refused: [],
      noCandidates: [],
      generated: { student: 0, teacher: 0 },
      staleCachedAnswers: 0,
      detection: null,
      timings: { load: times.loadMs / 1000, selection: 0, scoring: 0, scoringModel: 0, verification: 0, total: 0 },
    };
    this.summary.counts.unscoredUnits = this.summary.unscored.length;
    this.truthOf = new Map(data.problems.map((m) => [m.problem.id, m]));
    this.listedWritten = this.listed();
  }

  get counts(): MineSummary['counts'] {
    return this.summary.counts;
  }

  /** The records a resumed run finds (counted when their problem comes up: resumed()). */
  readBack(scores: readonly ScoreRecord[], counterfactuals: readonly CounterfactualRecord[]): void {
    const entry = (sid: string) => {
      let e = this.done.get(sid);
      if (!e) this.done.set(sid, (e = { units: 0, candidates: 0, spans: 0, cfs: [], scores: [] }));
      return e;
    };
    for (const r of scores) {
      const e = entry(r.source_id);
      e.units++;
      e.candidates += r.candidates.length;
      e.spans += r.spans.length;
      e.scores.push(r);
    }
    for (const r of counterfactuals) entry(r.source_id).cfs.push({ verified: r.verified });
  }

  /** A selected problem mined by the run being resumed: its records' counts. */
  resumed(sid: string): void {
    const c = this.counts;
    c.resumedProblems++;
    for (const u of this.previous.noCandidates) if (u.sourceId === sid) this.noCandidate(u);
    const e = this.done.get(sid);
    if (!e) return;
    c.scoredUnits += e.units;
    c.candidates += e.candidates;
    c.spans += e.spans;
    for (const r of e.scores) this.detect(r);
    for (const r of e.cfs) this.counterfactual(r);
  }

  selection(studentCorrect: boolean, teacherCorrect: boolean): boolean {
    const c = this.counts;
    if (!studentCorrect) c.studentWrong++;
    if (teacherCorrect) c.teacherRight++;
    const selected = !studentCorrect && teacherCorrect;
    if (selected) c.selected++;
    return selected;
  }

  /** A problem left out before decoding (see mine-select.ts refusal); warned about once a run. Never selected. */
  refuse(sourceId: string, reason: string, warn: (m: string) => void): null {
    if (this.summary.refused.length === 0) warn(`problem ${sourceId} left out: ${reason} (every such problem is listed in summary.json refused)`);
    this.summary.refused.push({ sourceId, reason });
    return null;
  }

  unscored(u: MineSummary['unscored'][number]): void {
    this.summary.unscored.push(u);
    this.counts.unscoredUnits++;
  }

  /** A scores record appended: its counts and detection against the ground truth. */
  scored(r: ScoreRecord): void {
    this.detect(r);
    this.counts.scoredUnits++;
    this.counts.candidates += r.candidates.length;
    this.counts.spans += r.spans.length;
  }

  noCandidate(u: MineSummary['noCandidates'][number]): void {
    this.summary.noCandidates.push(u);
    this.counts.unitsWithoutCandidates++;
    if (u.reason === 'constant-diff') this.counts.constantDiffUnits++;
  }

  counterfactual(r: Pick<CounterfactualRecord, 'verified'>): void {
    const c = this.counts;
    c.counterfactuals++;
    if (r.verified === true) c.verified++;
    else if (r.verified === false) c.rejected++;
    else c.unverified++;
  }

  /** summary.json as it stands: a snapshot at most once a second, and whenever a unit could not be scored or has no candidate (which a resume reads back). */
  snapshot(file: SummaryWriter): void {
    const n = this.listed();
    if (file.write(() => this.current(), n !== this.listedWritten)) this.listedWritten = n;
  }

  /** The summary, complete, written (forced). */
  finish(file: SummaryWriter, staleCachedAnswers: number): MineSummary {
    this.summary.complete = true;
    this.summary.staleCachedAnswers = staleCachedAnswers;
    file.write(() => this.current(), true);
    return this.summary;
  }

  /** Adds a scores record to the detection tally when its problem has ground truth (instruction level: the ranges are the prompt's). */
  private detect(r: ScoreRecord): void {
    const m = this.truthOf.get(r.source_id);
    if (m?.truth && r.level === 'instruction') {
      this.detection.add(r.text, r.tokens, r.candidates, m.truth, protectOf(m, this.summary.settings.protectLastSentence), detectionLabels(m.problem.metadata));
    }
  }

  /** The lists a resume reads back (per done problem), as last written. */
  private listed(): number {
    return this.summary.unscored.length + this.summary.noCandidates.length;
  }

  private current(): MineSummary {
    const t = this.timing;
    this.summary.timings = {
      load: this.times.loadMs / 1000, selection: t.gen / 1000, scoring: t.score / 1000, scoringModel: t.model / 1000,
      verification: t.verify / 1000, total: (performance.now() - this.times.t0) / 1000,
    };
    this.summary.generated = { student: this.generated.student, teacher: this.generated.teacher };
    this.summary.detection = this.detection.summary();
    return this.summary;
  }
}
