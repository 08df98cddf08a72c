/**
 * `leaf mine`'s tally: every count, list, timing and detection figure of summary.json, kept in one
 * object as the phases report what they did, and written (summary.json) as it stands.
 */
import type { SummaryWriter } from '../data/run-folder.js';
import type { CounterfactualRecord } from './counterfactuals.js';
import { DetectionTally } from './detection.js';
import type { LoadedMiningData, MiningProblem } from './input.js';
import type { MineSummary, NoCandidateReason, ScoreRecord } from './mine.js';
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
        lines: data.lines, problems: data.problems.length, skipped_lines: data.skipped.length, resumed_problems: 0,
        student_wrong: 0, teacher_right: 0, selected: 0, scored_units: 0, unscored_units: 0, units_without_candidates: 0, constant_diff_units: 0,
        candidates: 0, spans: 0,
        counterfactuals: 0, empty_after_pruning: 0, verified: 0, rejected: 0, unverified: 0,
      },
      skipped: data.skipped,
      unscored: [...previous.unscored],
      refused: [],
      no_candidates: [],
      generated: { student: 0, teacher: 0 },
      stale_cached_answers: 0,
      detection: null,
      timings: { load_s: times.loadMs / 1000, selection_s: 0, scoring_s: 0, scoring_model_s: 0, verification_s: 0, total_s: 0 },
    };
    this.summary.counts.unscored_units = this.summary.unscored.length;
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
    c.resumed_problems++;
    for (const u of this.previous.noCandidates) if (u.source_id === sid) this.noCandidate(u);
    const e = this.done.get(sid);
    if (!e) return;
    c.scored_units += e.units;
    c.candidates += e.candidates;
    c.spans += e.spans;
    for (const r of e.scores) this.detect(r);
    for (const r of e.cfs) this.counterfactual(r);
  }

  selection(studentCorrect: boolean, teacherCorrect: boolean): boolean {
    const c = this.counts;
    if (!studentCorrect) c.student_wrong++;
    if (teacherCorrect) c.teacher_right++;
    const selected = !studentCorrect && teacherCorrect;
    if (selected) c.selected++;
    return selected;
  }

  /** A problem left out before decoding (see mine-select.ts refusal); warned about once a run. Never selected. */
  refuse(sourceId: string, reason: string, warn: (m: string) => void): null {
    if (this.summary.refused.length === 0) warn(`problem ${sourceId} left out: ${reason} (every such problem is listed in summary.json refused)`);
    this.summary.refused.push({ source_id: sourceId, reason });
    return null;
  }

  unscored(u: MineSummary['unscored'][number]): void {
    this.summary.unscored.push(u);
    this.counts.unscored_units++;
  }

  /** A scores record appended: its counts and detection against the ground truth. */
  scored(r: ScoreRecord): void {
    this.detect(r);
    this.counts.scored_units++;
    this.counts.candidates += r.candidates.length;
    this.counts.spans += r.spans.length;
  }

  noCandidate(u: { source_id: string; segment: number | null; reason: NoCandidateReason; tokens: number }): void {
    this.summary.no_candidates.push(u);
    this.counts.units_without_candidates++;
    if (u.reason === 'constant-diff') this.counts.constant_diff_units++;
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
    this.summary.stale_cached_answers = staleCachedAnswers;
    file.write(() => this.current(), true);
    return this.summary;
  }

  /** Adds a scores record to the detection tally when its problem has ground truth (instruction level: the ranges are the prompt's). */
  private detect(r: ScoreRecord): void {
    const m = this.truthOf.get(r.source_id);
    if (m?.truth && r.level === 'instruction') this.detection.add(r.text, r.tokens, r.candidates, m.truth, protectOf(m, this.summary.settings.protect_last_sentence));
  }

  /** The lists a resume reads back (per done problem), as last written. */
  private listed(): number {
    return this.summary.unscored.length + this.summary.no_candidates.length;
  }

  private current(): MineSummary {
    const t = this.timing;
    this.summary.timings = {
      load_s: this.times.loadMs / 1000, selection_s: t.gen / 1000, scoring_s: t.score / 1000, scoring_model_s: t.model / 1000,
      verification_s: t.verify / 1000, total_s: (performance.now() - this.times.t0) / 1000,
    };
    this.summary.generated = { student: this.generated.student, teacher: this.generated.teacher };
    this.summary.detection = this.detection.summary();
    return this.summary;
  }
}
