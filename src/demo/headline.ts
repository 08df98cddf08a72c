/**
 * The demo's headline: every distilled student against plain KD at the same seeds, as paired
 * differences (eval/paired.ts) — over seeds (mean, standard error, 95% t interval: the headline) and
 * over problems (paired bootstrap, seed-averaged verdicts) — plus accuracy on the same problems with
 * the distractors removed; the verdict says whether the goal (LeaF-gradient above KD with the t
 * interval above 0; oracle ≥ gradient > random) holds, in plain words either way.
 */
import { pairedBootstrap, pairedT, type PairedT } from '../eval/paired.js';
import type { TableView } from '../report/data.js';
import type { DistillJobResult } from './jobs.js';
import { pct } from '../util/format.js';

export interface HeadlineRow {
  key: string;
  label: string;
  /** Accuracy per seed on the headline split, its mean, and the same with the distractors removed. */
  values: number[];
  mean: number;
  clean: number[];
  cleanMean: number;
  /** Validation accuracy per seed (what choices were made on). */
  validation: number[];
  /** Paired difference vs KD over seeds on the headline split (null for KD itself). */
  diff: PairedT | null;
  /** Paired bootstrap over the headline split's problems (seed-averaged verdicts; null for KD). */
  bootstrap: { mean: number; lower: number; upper: number } | null;
  /** Paired difference vs KD over seeds on validation (null for KD). */
  validationDiff: PairedT | null;
  /** Wrong answers folding a distractor's number in, summed over seeds. */
  folded: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The rows of the headline, `runs[0]` being the baseline (KD); `split` = test, or validation when the test split is not read. */
export function headlineRows(runs: ReadonlyArray<{ key: string; label: string }>, results: Record<string, DistillJobResult[]>, split: 'test' | 'validation'): HeadlineRow[] {
  const base = results[runs[0].key];
  const acc = (rs: DistillJobResult[], name: string) => rs.map((r) => r.eval[name].accuracy);
  return runs.map((run, k) => {
    const rs = results[run.key];
    const values = acc(rs, split), clean = acc(rs, `${split}-clean`), validation = acc(rs, 'validation');
    const paired = k > 0 && rs.length === base.length;
    return {
      key: run.key, label: run.label, values, mean: mean(values), clean, cleanMean: mean(clean), validation,
      diff: paired ? pairedT(values.map((v, i) => v - acc(base, split)[i])) : null,
      bootstrap: paired ? pairedBootstrap(rs.map((r) => r.eval[split].verdicts), base.map((r) => r.eval[split].verdicts)) : null,
      validationDiff: paired ? pairedT(validation.map((v, i) => v - acc(base, 'validation')[i])) : null,
      folded: rs.reduce((a, r) => a + r.eval[split].folded, 0),
    };
  });
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${pct(Math.abs(x))}`;
const interval = (lo: number, hi: number) => (Number.isFinite(lo) ? `[${signed(lo)}, ${signed(hi)}]` : '–');

/** The cells of a headline row: accuracy, difference vs KD ± SE, t interval, seeds above KD, bootstrap interval, clean, validation difference. */
export function headlineCells(r: HeadlineRow): string[] {
  const d = r.diff, b = r.bootstrap, v = r.validationDiff;
  return [
    r.label, pct(r.mean), r.values.map(pct).join(' / '),
    d ? `${signed(d.mean)} ± ${Number.isFinite(d.se) ? pct(d.se) : '–'}` : '–', d ? interval(d.lower, d.upper) : '–', d ? `${d.positive}/${d.n}` : '–',
    b ? interval(b.lower, b.upper) : '–', pct(r.cleanMean), v ? signed(v.mean) : '–',
  ];
}

export const HEADLINE_COLUMNS = ['run', 'acc %', 'per seed %', 'Δ vs KD ± SE', '95% t interval', 'seeds > KD', 'bootstrap 95%', 'no distractors %', 'Δ validation'];

export function headlineTable(rows: HeadlineRow[], split: string, problems: number): TableView {
  return {
    id: 'accuracy', title: `Headline: ${split} accuracy (${problems} problems) and the paired difference vs KD, ${rows[0].values.length} seed(s)`,
    columns: HEADLINE_COLUMNS, rows: rows.map(headlineCells),
    caption: 'Δ = per-seed accuracy minus KD\'s at the same seed (same steps, seeds and original batches); mean ± standard error over seeds, 95% Student t interval over seeds; bootstrap = paired bootstrap over the problems of seed-averaged verdicts (2,000 resamples; problem sampling only). "no distractors" = the same problems with the inserted sentences removed.',
  };
}

/** One run's paired difference vs KD in words: a win only when the 95% t interval is above 0. */
function versusKd(name: string, d: NonNullable<HeadlineRow['diff']>, split: string): string {
  if (d.n > 1 && d.lower > 0) return `${name} beats plain KD on the ${split} split: ${signed(d.mean)} points (95% t interval over ${d.n} seeds ${interval(d.lower, d.upper)}, above 0).`;
  if (d.mean > 0) return `${name} is ahead of plain KD on the ${split} split by ${signed(d.mean)} points, but the 95% t interval over ${d.n} seed(s) ${interval(d.lower, d.upper)} includes 0: no clear win.`;
  return `${name} does not beat plain KD on the ${split} split: ${signed(d.mean)} points (95% t interval ${interval(d.lower, d.upper)}).`;
}

/**
 * Whether the goal holds, in words, from the rows (keys kd, leaf-gradient, leaf-random, leaf-oracle; the
 * teacher-saliency variant leaf-gradient-teacher when present, reported beside the paper's rule, never instead of it).
 */
export function verdictText(rows: HeadlineRow[], split: string): string {
  const get = (key: string) => rows.find((r) => r.key === key)?.diff ?? null;
  const g = get('leaf-gradient'), t = get('leaf-gradient-teacher'), r = get('leaf-random'), o = get('leaf-oracle');
  if (!g) return 'No LeaF-gradient run to compare with KD.';
  const parts = [versusKd('LeaF-gradient', g, split)];
  if (t) parts.push(versusKd("LeaF with the teacher's saliency alone", t, split));
  if (r && o) {
    const order = (x: number) => (o.mean >= x && x > r.mean ? 'holds' : 'does not hold');
    parts.push(`Oracle ${signed(o.mean)}, gradient ${signed(g.mean)}${t ? `, teacher saliency ${signed(t.mean)}` : ''}, random ${signed(r.mean)}: ` +
      `oracle ≥ gradient > random ${order(g.mean)}${t ? `; oracle ≥ teacher saliency > random ${order(t.mean)}` : ''}.`);
  }
  return parts.join(' ');
}
