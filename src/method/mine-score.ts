/**
 * `leaf mine`'s scoring phase: a selected problem's units (the prompt; or, at response level, the
 * response before each segment j ≥ 2), each scored with the chosen method (score.ts) and its
 * scores record appended.
 */
import { LeafError } from '../errors.js';
import type { MiningProblem } from './input.js';
import type { NoCandidateReason, ScoreRecord } from './mine.js';
import type { MineRun } from './mine-run.js';
import { protectOf } from './mine-units.js';
import { scoreUnit, type ScoreSettings, type UnitScore } from './score.js';
import { splitResponse } from './segments.js';
import type { Unit } from './units.js';

/** A unit to score: segment j (response level) or null (the prompt), and where the segment starts in the response. */
export interface MineUnit {
  unit: Unit;
  segment: number | null;
  segStart: number;
}

/** Says a unit could not be scored (counted, listed, warned about). */
function unscored(run: MineRun, sourceId: string, segment: number | null, reason: string): void {
  run.tally.unscored({ sourceId, segment, reason });
  run.warn(`problem ${sourceId}${segment !== null ? ` segment ${segment}` : ''}: not scored: ${reason}`);
}

/** The units of a problem; none (the problem listed as unscored) when its response cannot be split into k segments. */
export function problemUnits(run: MineRun, m: MiningProblem, response: string): MineUnit[] {
  const k = run.settings.segments;
  if (k === null) return [{ unit: { level: 'instruction' }, segment: null, segStart: 0 }];
  const starts = run.student.tokenizer.encode(response, { addSpecialTokens: false }).offsets.map((o) => o[0]);
  const b = splitResponse(response, k, starts);
  if (!b) {
    unscored(run, m.problem.id, null, `the response cannot be split into ${k} non-blank segments`);
    return [];
  }
  const units: MineUnit[] = [];
  for (let j = 2; j <= k; j++) units.push({ unit: { level: 'response', segStart: b[j - 1], segEnd: b[j], last: j === k }, segment: j, segStart: b[j - 1] });
  return units;
}

/** Scores one unit and appends its scores record; null (listed as unscored) when it cannot be scored. */
export function scoreOne(run: MineRun, m: MiningProblem, response: string, u: MineUnit): UnitScore | null {
  const { settings: s, tally } = run;
  const p = m.problem;
  const scoreSettings: ScoreSettings = { method: s.method, rule: s.threshold, seed: s.seed, batchSize: s.batchSize, unit: s.unit, topUnits: s.topUnits, studentWeight: s.studentWeight };
  const ctx = s.level === 'instruction' ? { protect: protectOf(m, s.protectLastSentence), truth: m.truth } : {};
  const key = `${p.id}/${s.level}${u.segment !== null ? `/segment-${u.segment}` : ''}`;
  const ts = performance.now();
  let sc: UnitScore;
  try {
    sc = scoreUnit(run.student, run.teacher, p.prompt, response, u.unit, scoreSettings, key, ctx);
  } catch (e) {
    tally.timing.score += performance.now() - ts;
    if (e instanceof LeafError) {
      unscored(run, p.id, u.segment, e.message);
      return null;
    }
    throw e;
  }
  tally.timing.score += performance.now() - ts;
  tally.timing.model += sc.computeMs;
  const rec: ScoreRecord = {
    id: `${p.id}/${s.level}/${s.method}${u.segment !== null ? `/segment-${u.segment}` : ''}`,
    source_id: p.id, level: s.level, segment: u.segment, method: s.method, text: sc.text, tokens: sc.tokens, student: sc.student, teacher: sc.teacher,
    diff: sc.diff, threshold: sc.threshold, candidates: sc.candidates, spans: sc.spans, units: sc.units, protected: sc.protected, loss: sc.loss,
  };
  run.logs.scores.append(rec);
  tally.scored(rec);
  run.options.onRecord?.('scores', rec);
  if (sc.candidates.length === 0) noCandidate(run, p.id, u.segment, sc);
  return sc;
}

/** Lists a scored unit without a candidate, and why (warned about when D is constant). */
function noCandidate(run: MineRun, sourceId: string, segment: number | null, sc: UnitScore): void {
  const reason: NoCandidateReason = sc.tokens.length === 0 ? 'no-tokens' : sc.constantDiff ? 'constant-diff' : 'none-flaggable';
  run.tally.noCandidate({ sourceId, segment, reason, tokens: sc.tokens.length });
  if (reason === 'constant-diff') run.warn(`problem ${sourceId}${segment !== null ? ` segment ${segment}` : ''}: D is constant over its ${sc.tokens.length} token${sc.tokens.length === 1 ? '' : 's'} (no ranking): no candidates`);
}
