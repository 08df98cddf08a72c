#!/usr/bin/env node
// Writes the option tables of docs/*.md from the commands' option specs (run after `npm run build`):
// the text between `<!-- options:NAME -->` and `<!-- /options -->` becomes specTable(SPEC).
// test/cli/docs-tables.test.ts fails when a table and its spec disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { specTable } = await import(join(root, 'dist/src/cli/spec-options.js'));
const { DOC_TABLES } = await import(join(root, 'dist/src/cli/doc-tables.js'));
for (const { doc, name, spec } of DOC_TABLES) {
  const file = join(root, doc);
  const text = readFileSync(file, 'utf8');
  const re = new RegExp(`(<!-- options:${name} -->\\n)[\\s\\S]*?(<!-- /options -->)`);
  if (!re.test(text)) throw new Error(`${doc}: no <!-- options:${name} --> … <!-- /options --> block`);
  writeFileSync(file, text.replace(re, (_, a, b) => a + specTable(spec) + b));
  console.log(`${doc}: options:${name}`);
}
