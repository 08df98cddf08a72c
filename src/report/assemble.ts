/**
 * From mining output (+ ground truth) to the report's problem views and tables (detection quality per
 * method and the threshold sweep, computed by method/detection-sweep.ts) and training curves from
 * metrics.jsonl files.
 */
import { existsSync } from 'node:fs';
import { readJsonl } from '../data/jsonl.js';
import type { CurveSeries, CurveView, ProblemView, TableView } from './data.js';
import type { DetectionQuality } from '../method/detection.js';
import { byMethod } from '../method/detection-sweep.js';
import type { MinedOutput, TruthRecord } from './mined.js';

/** Problem views: one per mined source problem (those with ground-truth distractors and counterfactuals first), at most `limit`. */
export function problemViews(mined: MinedOutput, truth: Map<string, TruthRecord> | null, limit: number): ProblemView[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const s of mined.scores) if (!seen.has(s.sourceId)) {
    seen.add(s.sourceId);
    ids.push(s.sourceId);
  }
  const cfBySource = new Map<string, MinedOutput['counterfactuals']>();
  for (const c of mined.counterfactuals) {
    const list = cfBySource.get(c.sourceId) ?? [];
    list.push(c);
    cfBySource.set(c.sourceId, list);
  }
  const rank = (id: string) => {
    const t = truth?.get(id);
    const gt = t?.distractors && t.distractors.length > 0 ? 0 : 1;
    const cf = (cfBySource.get(id)?.some((c) => c.verified === true) ? 0 : 1);
    return gt * 2 + cf;
  };
  const chosen = ids.map((id, i) => ({ id, i, r: rank(id) })).sort((a, b) => a.r - b.r || a.i - b.i).slice(0, limit).sort((a, b) => a.i - b.i);
  return chosen.map(({ id }) => {
    const scores = mined.scores.filter((s) => s.sourceId === id)
      .sort((a, b) => (a.level === b.level ? 0 : a.level === 'instruction' ? -1 : 1) || (a.segment ?? 0) - (b.segment ?? 0) || byMethod(a.method, b.method));
    const t = truth?.get(id) ?? null;
    const instr = scores.find((s) => s.level === 'instruction');
    const cfs = cfBySource.get(id) ?? [];
    const prompt = t?.prompt ?? instr?.text ?? cfs[0]?.originalPrompt ?? '';
    return {
      id, prompt, answer: t?.answer ?? null, response: t?.response ?? null, distractors: t?.distractors ?? null,
      scores: scores.map(({ id: _id, sourceId: _s, ...view }) => view),
      counterfactuals: cfs.map(({ sourceId: _s, originalPrompt: _o, ...view }) => view),
      attention: null, facts: [],
    };
  });
}

const pct = (x: number) => Number((100 * x).toFixed(1));

export function detectionTable(rows: { method: string; quality: DetectionQuality }[], caption?: string): TableView {
  return {
    id: 'detection', title: 'Detection of the distractor tokens (token level, vs ground truth)',
    columns: ['method', 'precision %', 'recall %', 'F1 %', 'flagged tokens', 'distractor tokens', 'problems'],
    rows: rows.map(({ method, quality: q }) => [method, pct(q.precision), pct(q.recall), pct(q.f1), q.tp + q.fp, q.positives, q.problems]),
    ...(caption ? { caption } : {}),
  };
}

export function sweepTable(rows: { q: number; quality: DetectionQuality; flaggedPerProblem: number }[], extraColumns: { name: string; values: (string | number | null)[] }[] = [], caption?: string): TableView {
  return {
    id: 'sweep', title: 'Threshold sweep (gradient method): fraction q of prompt tokens flagged',
    columns: ['q', 'precision %', 'recall %', 'F1 %', 'flagged / problem', ...extraColumns.map((c) => c.name)],
    rows: rows.map((r, i) => [r.q, pct(r.quality.precision), pct(r.quality.recall), pct(r.quality.f1), Number(r.flaggedPerProblem.toFixed(2)), ...extraColumns.map((c) => c.values[i] ?? null)]),
    ...(caption ? { caption } : {}),
  };
}

/** Counts of counterfactuals per method and level, and how many passed verification. */
export function counterfactualTable(mined: MinedOutput): TableView {
  const key = (m: string, l: string) => `${m}\u0000${l}`;
  const counts = new Map<string, { method: string; level: string; n: number; ok: number; rejected: number; unchecked: number }>();
  for (const c of mined.counterfactuals) {
    const k = key(c.method, c.level);
    const e = counts.get(k) ?? { method: c.method, level: c.level, n: 0, ok: 0, rejected: 0, unchecked: 0 };
    e.n++;
    if (c.verified === true) e.ok++;
    else if (c.verified === false) e.rejected++;
    else e.unchecked++;
    counts.set(k, e);
  }
  const rows = [...counts.values()].sort((a, b) => byMethod(a.method, b.method) || a.level.localeCompare(b.level));
  return {
    id: 'counterfactuals', title: 'Counterfactuals (span pruning) and their verification',
    columns: ['method', 'level', 'counterfactuals', 'verified', 'rejected', 'not checked'],
    rows: rows.map((r) => [r.method, r.level, r.n, r.ok, r.rejected, r.unchecked]),
  };
}

/**
 * A training-curve series from a metrics.jsonl file: every record with a numeric `step` and the first of
 * `keys` present as a number. Missing files give no series.
 */
export function seriesFromMetrics(file: string, label: string, group: string, keys: readonly string[] = ['loss', 'train_loss']): CurveSeries | null {
  if (!existsSync(file)) return null;
  const points: [number, number][] = [];
  for (const r of readJsonl(file).records) {
    const step = r.step;
    if (typeof step !== 'number') continue;
    const k = keys.find((x) => typeof r[x] === 'number' && Number.isFinite(r[x]));
    if (k) points.push([step, r[k] as number]);
  }
  return points.length > 0 ? { label, group, points } : null;
}

export function curveView(id: string, title: string, series: (CurveSeries | null)[], yLabel = 'training loss', xLabel = 'optimizer step'): CurveView {
  return { id, title, xLabel, yLabel, series: series.filter((s): s is CurveSeries => s !== null) };
}
