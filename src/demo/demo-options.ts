/**
 * The options of runDemo(): the tunable ones declared once in DEMO_SPEC (flag, help, kind, default, rule) —
 * `leaf demo`'s flags, the library's defaults and checks and docs/demo.md's flag table come from it — then
 * the folder, the recipe, the policy and the log.
 */
import { intAtLeast, option, resolveSpec, type ResolvedOf } from '../util/option-spec.js';
import type { GraphProgress } from './pool.js';
import type { DemoRecipe } from './recipes.js';

/** runDemo()'s tunable options, each declared once (util/option-spec.ts). */
export const DEMO_SPEC = {
  seeds: option<number>({
    flag: '--seeds <n>', help: 'distillation seeds per run', kind: 'int', default: 3,
    rule: { ok: (v) => Number.isInteger(v) && v >= 1 && v <= 20, what: 'an integer in 1..20' },
  }),
  seed: option<number>({
    flag: '--seed <s>', help: "teacher/student pair: the benchmark generator's seed and both models' initialisation", kind: 'int', default: 1, rule: intAtLeast(1),
  }),
  extras: option<boolean>({
    flag: '--extras', kind: 'boolean', default: false,
    help: 'also the runs outside the headline: LeaF at token level (reference rule), with response-level counterfactuals, the q sweep',
  }),
  validationOnly: option<boolean>({
    flag: '--validation-only', kind: 'boolean', default: false,
    help: 'evaluate on the validation split only (choosing settings; the test split is not written or read)',
  }),
  jobs: option<number | null>({
    flag: '--jobs <n>', help: 'worker processes (1 = in this process)', kind: 'int', default: null,
    defaultHelp: '2 when two cores are available, else 1', rule: intAtLeast(1),
  }),
};

/** The tunable options with their defaults applied (jobs null: by the cores, see runDemo). */
export type DemoResolved = ResolvedOf<typeof DEMO_SPEC>;

export interface DemoOptions extends Partial<DemoResolved> {
  out: string;
  recipe?: DemoRecipe;
  /** One line per stage and per finished task (default: none). */
  log?: (line: string) => void;
  /** After each task of the work graph (model training, mining run, distillation run, evaluation): done of total tasks. */
  onProgress?: (p: GraphProgress) => void;
  /** Reuse what the folder holds and is still valid (also the default: see run-reuse.ts and models.ts). */
  resume?: boolean;
  /** Start over: remove what an earlier demo wrote to the folder (models, mined runs, distillation runs, results). */
  overwrite?: boolean;
}

/** The options with their defaults, checked (one-line LeafError naming the flag). */
export function resolveDemoOptions(o: DemoOptions): DemoResolved {
  return resolveSpec(DEMO_SPEC, o);
}
