/** Which option spec's table lives in which doc (scripts/docs-tables.mjs writes them; a test checks them). */
import { DEMO_SPEC } from '../demo/demo-options.js';
import { EVAL_SPEC } from '../eval/eval-options.js';
import { MINE_SPEC } from '../method/mine-options.js';
import { MODEL_SPEC } from '../model/weights.js';
import { DISTILL_SPEC } from '../training/distill-options.js';
import { TEACHER_CACHE_SPEC } from '../training/teacher-cache-run.js';
import type { Spec } from '../util/option-spec.js';

export const DOC_TABLES: ReadonlyArray<{ doc: string; name: string; spec: Spec }> = [
  { doc: 'docs/distill.md', name: 'distill', spec: DISTILL_SPEC },
  { doc: 'docs/distill.md', name: 'teacher-cache', spec: TEACHER_CACHE_SPEC },
  { doc: 'docs/mine.md', name: 'mine', spec: MINE_SPEC },
  { doc: 'docs/eval.md', name: 'eval', spec: { ...MODEL_SPEC, ...EVAL_SPEC } },
  { doc: 'docs/demo.md', name: 'demo', spec: DEMO_SPEC },
];
