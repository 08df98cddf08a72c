/**
 * The `leaf` command as npm runs it (`npx leaf`, an installed bin): package.json's bin target is
 * executed directly, through its shebang, so it must be built executable (scripts/chmod-bin.mjs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

test('the bin target is executable and runs by itself', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
  assert.deepEqual(Object.keys(pkg.bin), ['leaf']);
  const file = join(repoRoot, pkg.bin.leaf);
  assert.equal(statSync(file).mode & 0o111, 0o111, `${pkg.bin.leaf} is not executable (mode ${(statSync(file).mode & 0o777).toString(8)})`);
  assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const r = spawnSync(file, ['--version'], { encoding: 'utf8' });
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});
