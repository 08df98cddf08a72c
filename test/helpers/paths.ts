/**
 * Locations for tests, valid both from test/ sources and from compiled dist/test/ files:
 * `repoRoot` is the nearest folder above this file whose package.json has name "leaf";
 * `goldenDir` holds the golden reference sets (test/fixtures/golden, see its README). Tests read
 * nothing outside the repository.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'leaf') return dir;
    } catch {
      // no package.json here (or unreadable): keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json named "leaf" above ${start}`);
    dir = parent;
  }
}

export const repoRoot: string = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
export const goldenDir: string = path.join(repoRoot, 'test', 'fixtures', 'golden');
