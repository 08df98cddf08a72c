/**
 * Paths of the repository's own test fixtures (test/fixtures/…), valid both from test/ sources
 * and from compiled dist/test/ files: walks up from this file to the folder whose package.json
 * has name "leaf".
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function leafRoot(start: string): string {
  let dir = start;
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'leaf') return dir;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named "leaf" above ${start}`);
    dir = parent;
  }
}

/** The repository root (the folder holding leaf's package.json). */
export const leafRepoRoot: string = leafRoot(dirname(fileURLToPath(import.meta.url)));

/** A path under test/fixtures, e.g. fixturePath('tokenizers', 'word-level'). */
export function fixturePath(...parts: string[]): string {
  return join(leafRepoRoot, 'test', 'fixtures', ...parts);
}
