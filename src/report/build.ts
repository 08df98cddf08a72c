/**
 * Builds the report from files: a mining output folder, optionally the problems file with ground-truth
 * distractors, distillation run folders (metrics.jsonl → training curves) and model folders (attention
 * maps before / after), plus any tables the caller adds (the demo adds accuracy).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { loadPretrained, type Pretrained } from '../model/pretrained.js';
import { detectionByMethod, thresholdSweep } from '../method/detection-sweep.js';
import { counterfactualTable, curveView, detectionTable, problemViews, seriesFromMetrics, sweepTable } from './assemble.js';
import { attentionView } from './attention-view.js';
import type { CurveView, ProblemView, ReportData, TableView } from './data.js';
import { renderReportHtml } from './html.js';
import { readMined, readTruth, type TruthRecord } from './mined.js';

export interface ReportRun {
  label: string;
  /** Runs of one group (e.g. the seeds of one method) share a colour. */
  group: string;
  dir: string;
}

export interface ReportOptions {
  mined: string;
  /** Problems with ground truth (`distractors`); default: the mining summary's `data` file when it exists. */
  data?: string | null;
  runs?: ReportRun[];
  /** Models whose attention is drawn (e.g. student before, after LeaF). */
  attention?: { label: string; dir: string }[];
  /**
   * Find the attention models from the inputs instead: the student (given, else the mining summary's student
   * folder) as "before", and each run's model/ folder as "after".
   */
  attentionFrom?: {
    student: string | null;
    runs: string[];
    /**
     * Draw a student whose weights are not those the mining run recorded (run.json) instead of refusing;
     * it is then labelled "other student".
     */
    allowOtherStudent?: boolean;
  };
  /** Problems shown (default 30). */
  limit?: number;
  title?: string;
  subtitle?: string;
  notes?: string[];
  /** Tables shown first (e.g. accuracy). */
  tables?: TableView[];
  /** Thresholds of the sweep (default 0.05, 0.10, 0.15). */
  sweep?: number[];
  /** Extra columns for the sweep table, one value per threshold. */
  sweepColumns?: { name: string; values: (string | number | null)[] }[];
  /** Compute the detection, sweep and counterfactual tables from the mining output (default true). */
  ownTables?: boolean;
  /** Facts per problem id (shown next to the problem). */
  facts?: Map<string, string[]>;
}

/** The student's weights fingerprint the mining run recorded (run.json), or null for outputs made before run.json. */
function recordedStudentWeights(mined: string): string | null {
  const file = join(mined, 'run.json');
  if (!existsSync(file)) return null;
  let run: unknown;
  try {
    run = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new LeafError(`${file}: not valid JSON`);
  }
  const w = (run as { identity?: { student_weights?: unknown } } | null)?.identity?.student_weights;
  return typeof w === 'string' && w.length > 0 ? w : null;
}

/**
 * The "student before" of the attention maps, loaded and checked against the mining run: another model
 * (other weights or config) is refused with a one-line error unless `allowOther`, then labelled as such.
 */
function minedStudent(mined: string, dir: string, given: boolean, allowOther: boolean, notes: string[]): { label: string; dir: string; loaded: Pretrained } {
  const loaded = loadPretrained(dir);
  const recorded = recordedStudentWeights(mined);
  if (recorded === null) {
    notes.push(`${join(mined, 'run.json')} records no student fingerprint: cannot check that ${dir} is the mined student.`);
    return { label: 'student before', dir, loaded };
  }
  const actual = modelFingerprint(loaded.model).slice(0, recorded.length);
  if (actual === recorded) return { label: 'student before', dir, loaded };
  const what = `${dir} is not the student of the mining run ${mined} (weights fingerprint ${actual}, run.json has ${recorded})`;
  if (!allowOther) throw new LeafError(`${given ? '--student ' : 'the summary\'s student folder '}${what}; give the mined student, or --allow-other-student to draw it anyway`);
  notes.push(`The attention maps' "other student": ${what}.`);
  return { label: 'other student (not the mined one)', dir, loaded };
}

export function buildReportData(o: ReportOptions): ReportData {
  const mined = readMined(o.mined);
  const notes = [...(o.notes ?? [])];
  let dataFile = o.data ?? null;
  if (dataFile === null && typeof mined.summary?.data === 'string' && existsSync(mined.summary.data)) dataFile = mined.summary.data;
  let truth: Map<string, TruthRecord> | null = null;
  if (dataFile) {
    if (!existsSync(dataFile)) throw new LeafError(`${dataFile}: problems file not found`);
    truth = readTruth(dataFile, mined.warnings);
    if (![...truth.values()].some((t) => t.distractors !== null)) {
      notes.push(`${dataFile} has no ground-truth 'distractors': detection quality is not computed.`);
    }
  } else {
    notes.push('No problems file with ground truth: detection quality is not computed (give --data).');
  }
  const tables: TableView[] = [...(o.tables ?? [])];
  if (truth && o.ownTables !== false) {
    const det = detectionByMethod(mined.scores, truth);
    if (det.length > 0) tables.push(detectionTable(det, 'A token counts as a true distractor token when it overlaps an inserted sentence; flagged = the miner\'s candidates. Micro-averaged over the scored (selected) problems of this mining output.'));
    const sw = thresholdSweep(mined.scores, truth, o.sweep ?? [0.05, 0.1, 0.15]);
    if (sw.some((r) => r.quality.problems > 0)) tables.push(sweepTable(sw, o.sweepColumns ?? [], 'The gradient scores re-thresholded at each q (the reference rule thr = min(q-quantile of D, 0.5)).'));
  }
  if (mined.counterfactuals.length > 0 && o.ownTables !== false) tables.push(counterfactualTable(mined));

  const curves: CurveView[] = [];
  const runs = o.runs ?? [];
  if (runs.length > 0) {
    curves.push(curveView('train-loss', 'Training objective per step (KD / LeaF runs)', runs.map((r) => seriesFromMetrics(join(r.dir, 'metrics.jsonl'), r.label, r.group, ['loss']))));
    const orig = curveView('kd-original', 'KD loss on the original samples', runs.map((r) => seriesFromMetrics(join(r.dir, 'metrics.jsonl'), r.label, r.group, ['kd_original'])));
    if (orig.series.length > 0) curves.push(orig);
    const val = curveView('val-loss', 'Student cross-entropy on held-out data', runs.map((r) => seriesFromMetrics(join(r.dir, 'metrics.jsonl'), r.label, r.group, ['val_loss'])), 'validation CE');
    if (val.series.length > 0) curves.push(val);
  }

  const problems = problemViews(mined, truth, o.limit ?? 30);
  for (const p of problems) p.facts.push(...(o.facts?.get(p.id) ?? []));
  const attention: { label: string; dir: string; loaded?: Pretrained }[] = [...(o.attention ?? [])];
  if (o.attentionFrom) {
    const student = o.attentionFrom.student ?? (typeof mined.summary?.student === 'string' ? mined.summary.student : null);
    if (student && existsSync(join(student, 'config.json'))) attention.push(minedStudent(o.mined, student, o.attentionFrom.student !== null, o.attentionFrom.allowOtherStudent === true, notes));
    for (const r of o.attentionFrom.runs) {
      if (existsSync(join(r, 'model', 'config.json'))) attention.push({ label: `after ${basename(r)}`, dir: join(r, 'model') });
    }
    if (attention.length === 0) notes.push('No model folders found for the attention maps (give --student and --run with a model/ folder).');
  }
  const models = attention.map((a) => ({ label: a.label, model: a.loaded ?? loadPretrained(a.dir) }));
  if (models.length > 0) {
    for (const p of problems) {
      const response = p.response ?? truth?.get(p.id)?.response ?? null;
      if (response) p.attention = attentionView(models, p.prompt, response);
    }
  }
  const share = attentionShareTable(problems);
  if (share) tables.push(share);
  for (const w of mined.warnings) notes.push(`skipped ${w}`);
  return {
    title: o.title ?? 'LeaF report', subtitle: o.subtitle ?? `mining output ${o.mined}`, created: new Date().toISOString(),
    notes, tables, curves, problems,
  };
}

/**
 * Share of the answer positions' attention (all layers and heads) that falls on ground-truth distractor
 * tokens, per model, averaged over the problems shown; null without attention maps or ground truth.
 */
export function attentionShareTable(problems: ProblemView[]): TableView | null {
  const sums = new Map<string, { share: number; n: number }>();
  for (const p of problems) {
    if (!p.attention || !p.distractors || p.distractors.length === 0) continue;
    const inD = p.attention.tokens.map((t) => p.distractors!.some((d) => t.start < d.end && t.end > d.start));
    for (const m of p.attention.models) {
      let on = 0, all = 0;
      for (const layer of m.weights) for (const head of layer) head.forEach((w, i) => { all += w; if (inD[i]) on += w; });
      const e = sums.get(m.label) ?? { share: 0, n: 0 };
      e.share += all > 0 ? on / all : 0;
      e.n++;
      sums.set(m.label, e);
    }
  }
  if (sums.size === 0) return null;
  const rows = [...sums.entries()].map(([label, e]) => [label, Number((100 * e.share / e.n).toFixed(1)), e.n]);
  return {
    id: 'attention-share', title: 'Attention from the answer positions on the distractor tokens',
    columns: ['model', 'share of prompt attention on distractors %', 'problems'], rows,
    caption: 'Mean over the problems shown below and over all layers and heads; queries = the reference response tokens (teacher forcing).',
  };
}

/** Builds the report and writes it as one self-contained HTML file (atomically). */
export function writeReport(o: ReportOptions & { out: string }): ReportData {
  const data = buildReportData(o);
  writeFileAtomicSync(o.out, renderReportHtml(data));
  return data;
}
