/** The demo's results as plain-text tables (what `leaf demo` prints). */
import type { DemoSummary } from './demo.js';

function table(title: string, header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [title, line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

const pct = (x: number) => (100 * x).toFixed(1);

function distillLine(s: DemoSummary): string {
  const d = s.distill, cf = d.counterfactuals;
  return `Distillation: ${d.steps} steps per run (${d.epochs} epochs over the ${d.originals} train problems, ${s.recipe.distill.batchSize} a step, ` +
    `the same batches for KD and LeaF at each seed); a LeaF step adds its problems' counterfactuals, weight 1 each ` +
    `(instr +${cf['leaf-instr']}, instr+resp +${cf['leaf-instr-resp']} per epoch)` +
    `${d.missingSource > 0 ? `; ${d.missingSource} counterfactual(s) with no original left out` : ''}.`;
}

export function formatDemoSummary(s: DemoSummary): string {
  const acc = table(
    `Test accuracy (${s.recipe.testProblems} held-out problems, 1–3 distractors each), mean ± std over ${s.seeds.length} seed(s)`,
    ['model', 'test %', 'per seed %', 'validation %', 'folded'],
    s.accuracy.map((r) => [r.model, r.stats.n > 1 ? `${pct(r.stats.mean)} ± ${pct(r.stats.std)}` : pct(r.stats.mean), r.values.map(pct).join(' / '), pct(r.validation), String(r.folded)]),
  );
  const det = table(
    `Detection of distractor tokens (token level vs ground truth, q = ${s.recipe.mining.threshold}, same budget)`,
    ['method', 'precision %', 'recall %', 'F1 %', 'flagged', 'problems'],
    s.detection.map((d) => [d.method, pct(d.precision), pct(d.recall), pct(d.f1), String(d.flagged), String(d.problems)]),
  );
  const sweep = table(
    'Threshold sweep, gradient method (fraction q of prompt tokens flagged)',
    ['q', 'precision %', 'recall %', 'F1 %', 'flagged / problem', 'verified CFs', `LeaF instr acc % (seed ${s.seeds[0]})`],
    s.sweep.map((r) => [r.q.toFixed(2), pct(r.precision), pct(r.recall), pct(r.f1), r.flaggedPerProblem.toFixed(2), String(r.verified), r.leafInstrAccuracy === null ? '–' : pct(r.leafInstrAccuracy)]),
  );
  const att = s.attention.length === 0 ? '' : '\n' + table(
    `Attention from the answer positions on distractor tokens (${s.attention[0].problems} report problems, all layers and heads)`,
    ['model', 'share %'], s.attention.map((a) => [a.model, pct(a.distractorShare)]),
  ) + '\n';
  const d = s.diagnostics;
  const lines = [
    `Validation before distillation: teacher ${pct(d.teacher.distracted)}% (distractors removed ${pct(d.teacher.clean)}%), student ${pct(d.student.distracted)}% (distractors removed ${pct(d.student.clean)}%).`,
    `Mining: ${Object.entries(s.mining).map(([k, v]) => `${k} ${v.verified}/${v.counterfactuals} verified`).join(', ')} (${s.mining.gradient.selected} problems selected).`,
    distillLine(s),
    `Time: ${Object.entries(s.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')} (kernels: ${s.kernels}, ${s.concurrency} worker(s)).`,
  ];
  return [acc, '', det, '', sweep, att, ...lines, '', s.verdict, `Report: ${s.report}`].join('\n') + '\n';
}
