/**
 * `leaf mine` on one selected problem: score each unit → prune its flagged spans into
 * counterfactuals → verify them → append their records.
 */
import { buildCounterfactuals, type CounterfactualDraft } from './counterfactuals.js';
import type { Answer } from './generations.js';
import type { MiningProblem } from './input.js';
import type { MineRun } from './mine-run.js';
import { problemUnits, scoreOne, type MineUnit } from './mine-score.js';
import { verifyDrafts, writeCounterfactuals } from './mine-verify.js';
import type { UnitScore } from './score.js';

export async function mineProblem(run: MineRun, m: MiningProblem, teacherAnswer: Answer): Promise<void> {
  const response = m.problem.response ?? teacherAnswer.response;
  const drafts: CounterfactualDraft[] = [];
  for (const u of problemUnits(run, m, response)) {
    const sc = scoreOne(run, m, response, u);
    if (sc) drafts.push(...prune(run, m, response, u, sc));
  }
  await verifyDrafts(run, m.problem, response, drafts);
  writeCounterfactuals(run, drafts);
}

/** The counterfactuals of a scored unit: its spans cut (one per span, or all at once; counterfactuals.ts). */
function prune(run: MineRun, m: MiningProblem, response: string, u: MineUnit, sc: UnitScore): CounterfactualDraft[] {
  const { level, method, pruning } = run.settings;
  const built = buildCounterfactuals(
    { sourceId: m.problem.id, level, method, segment: u.segment, prompt: m.problem.prompt, response, segStart: u.segStart, passthrough: m.passthrough },
    sc.text, sc.spans, pruning,
  );
  run.tally.counts.emptyAfterPruning += built.empty;
  return built.drafts;
}
