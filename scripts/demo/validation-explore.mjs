#!/usr/bin/env node
// The validation exploration behind the demo's recipe (src/demo/recipes.ts): runs `leaf demo` with the test
// split neither written nor read (runDemo with validationOnly: true) for named variants of the mining and distillation
// settings, and prints each variant's validation headline (paired differences vs KD) and detection table.
// Models and unchanged distillation runs are reused between variants (same --out).
//   node scripts/demo/validation-explore.mjs OUT [--variants a,b,…] [--seed 1] [--seeds 3]
// What was tried, and what it gave, is in docs/demo.md.
import { parseArgs } from 'node:util';
import { runDemo } from '../../dist/src/demo/demo.js';
import { formatDemoSummary } from '../../dist/src/demo/print.js';
import { DEMO_RECIPE } from '../../dist/src/demo/recipes.js';

const M = DEMO_RECIPE.mining;
/** Each variant changes the recipe's mining (headline runs) or distillation settings. */
const VARIANTS = {
  default: {},
  'teacher-no-equations': { mining: { ...M, verifyEquations: false } },
  'both-equations': { mining: { ...M, verify: 'both' } },
  'top1': { mining: { ...M, topUnits: 1 } },
  'top3': { mining: { ...M, topUnits: 3 } },
  'q0.25': { mining: { ...M, topUnits: null, threshold: 0.25 } },
  'lambda0.5': { distill: { ...DEMO_RECIPE.distill, cfWeight: 0.5 } },
};

const { positionals, values } = parseArgs({ allowPositionals: true, options: { variants: { type: 'string', default: 'default' }, seed: { type: 'string', default: '1' }, seeds: { type: 'string', default: '3' } } });
const out = positionals[0];
if (!out) throw new Error('usage: validation-explore.mjs OUT [--variants a,b,…] [--seed S] [--seeds N]');
for (const name of values.variants.split(',')) {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const t0 = Date.now();
  const s = await runDemo({ out, seed: Number(values.seed), seeds: Number(values.seeds), validationOnly: true, recipe: { ...DEMO_RECIPE, ...v }, log: (l) => process.stderr.write(`${name}: ${l}\n`) });
  process.stdout.write(`\n=== variant ${name} (pair seed ${values.seed}, ${values.seeds} seeds, ${((Date.now() - t0) / 1000).toFixed(0)} s) ===\n${formatDemoSummary(s)}`);
}
