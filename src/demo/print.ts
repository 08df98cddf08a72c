/** The demo's results as plain-text tables (what `leaf demo` prints). */
import type { DemoSummary } from './demo.js';
import { HEADLINE_COLUMNS, headlineCells } from './headline.js';
import { pct } from '../util/format.js';

function table(title: string, header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [title, line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}


function distillLine(s: DemoSummary): string {
  const d = s.distill, cf = d.counterfactuals;
  return `Distillation: ${d.steps} steps per run (${d.epochs} epochs over the ${d.originals} train problems, ${s.recipe.distill.batchSize} a step, ` +
    `the same batches for every run at each seed); a LeaF step adds its problems' counterfactuals, weight ${s.recipe.distill.cfWeight} each ` +
    `(${Object.entries(cf).filter(([k]) => k !== 'kd').map(([k, n]) => `${k} +${n}`).join(', ')} per epoch)` +
    `${d.missingSource > 0 ? `; ${d.missingSource} counterfactual(s) with no original left out` : ''}.`;
}

export function formatDemoSummary(s: DemoSummary): string {
  const m = s.recipe.mining;
  const n = s.split === 'test' ? s.recipe.testProblems : s.recipe.validationProblems;
  const d = s.diagnostics;
  const head = table(
    `Headline: ${s.split} accuracy (${n} problems, 1–3 distractors each), paired difference vs KD over ${s.seeds.length} seed(s) (points; pair seed ${s.seed})`,
    HEADLINE_COLUMNS,
    [
      ...s.headline.map(headlineCells),
      ['student (before)', pct(d.student.split.distracted), '', '', '', '', '', pct(d.student.split.clean), ''],
      ['teacher', pct(d.teacher.split.distracted), '', '', '', '', '', pct(d.teacher.split.clean), ''],
    ],
  );
  const det = table(
    'Detection of the distractors on the selected train problems (vs ground truth; P / R / F1 %)',
    ['mining run', 'token P', 'token R', 'token F1', 'sentence P', 'sentence R', 'sentence F1', 'CFs', 'verified'],
    s.detection.map((r) => [r.run, pct(r.token.precision), pct(r.token.recall), pct(r.token.f1), pct(r.unit.precision), pct(r.unit.recall), pct(r.unit.f1), String(r.counterfactuals), String(r.verified)]),
  );
  const sweep = s.sweep.length === 0 ? '' : '\n' + table(
    'Token-level q sweep (reference rule; outside the headline)',
    ['q', 'precision %', 'recall %', 'F1 %', 'flagged / problem', 'verified CFs', `LeaF acc % (seed ${s.seeds[0]})`],
    s.sweep.map((r) => [r.q.toFixed(2), pct(r.precision), pct(r.recall), pct(r.f1), r.flaggedPerProblem.toFixed(2), String(r.verified), r.accuracy === null ? '–' : pct(r.accuracy)]),
  ) + '\n';
  const lines = [
    `Mining (headline): ${m.unit} unit, ${m.topUnits !== null ? `the ${m.topUnits} lowest per prompt` : `q = ${m.threshold}`}${m.protectLastSentence ? ', the question protected' : ''}, verified by ${m.verify === 'both' ? 'both models' : m.verify}${m.verifyEquations ? ' (same worked equations as the reference)' : ''}; ${s.mining.gradient.selected} problems selected.`,
    `Validation before distillation: teacher ${pct(d.teacher.distracted)}% (distractors removed ${pct(d.teacher.clean)}%), student ${pct(d.student.distracted)}% (distractors removed ${pct(d.student.clean)}%).`,
    distillLine(s),
    `Time: ${Object.entries(s.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')} (kernels: ${s.kernels}, ${s.jobs} worker(s)).`,
  ];
  return [head, '', det, sweep, ...lines, '', s.verdict, `Report: ${s.report}`].join('\n') + '\n';
}
