/** Which option spec's table lives in which doc (scripts/docs-tables.mjs writes them; a test checks them). */
import { DISTILL_SPEC } from '../training/distill-options.js';
import { TEACHER_CACHE_SPEC } from '../training/teacher-cache-run.js';
import type { Spec } from '../util/option-spec.js';

export const DOC_TABLES: ReadonlyArray<{ doc: string; name: string; spec: Spec }> = [
  { doc: 'docs/distill.md', name: 'distill', spec: DISTILL_SPEC },
  { doc: 'docs/distill.md', name: 'teacher-cache', spec: TEACHER_CACHE_SPEC },
];
