import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { DOC_TABLES } from '../../src/cli/doc-tables.js';
import { addSpecOptions, specTable } from '../../src/cli/spec-options.js';
import { option, resolveSpec } from '../../src/util/option-spec.js';
import { repoRoot } from '../helpers/paths.js';

test('the option tables of docs/*.md are their specs (regenerate with node scripts/docs-tables.mjs)', () => {
  for (const { doc, name, spec } of DOC_TABLES) {
    const text = readFileSync(join(repoRoot, doc), 'utf8');
    const m = new RegExp(`<!-- options:${name} -->\\n([\\s\\S]*?)<!-- /options -->`).exec(text);
    assert.ok(m, `${doc}: no options:${name} block`);
    assert.equal(m[1], specTable(spec), `${doc}: the options:${name} table differs from its spec`);
    assert.equal(m[1].trim().split('\n').length, Object.keys(spec).length + 2);
  }
});

test('commander options from a spec: help with the default, values passed through (numbers converted) and unset when left out; resolveSpec checks them', () => {
  const spec = {
    lr: option<number>({ flag: '--lr <x>', help: 'rate', kind: 'number', default: 0.5 }),
    steps: option<number>({ flag: '--steps <n>', help: 'steps', kind: 'int', default: 3 }),
    mode: option<'a' | 'b'>({ flag: '--mode <m>', help: 'mode', kind: 'choice', choices: ['a', 'b'], default: 'a' }),
    fast: option<boolean>({ flag: '--fast', help: 'go fast', kind: 'boolean', default: false }),
  };
  const parse = (...args: string[]) => {
    const cmd = addSpecOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }), spec);
    return cmd.parse(args, { from: 'user' }).opts();
  };
  assert.deepEqual(parse(), {});
  assert.deepEqual(parse('--lr', '1e-3', '--steps', '7', '--mode', 'b', '--fast'), { lr: 1e-3, steps: 7, mode: 'b', fast: true });
  // Bad values reach the library as given, which names them in one line (one error style for every command).
  assert.throws(() => resolveSpec(spec, parse('--steps', '1.5')), /^LeafError: --steps must be an integer, got 1\.5$/);
  assert.throws(() => resolveSpec(spec, parse('--lr', 'x')), /^LeafError: --lr must be a number, got x$/);
  assert.throws(() => resolveSpec(spec, parse('--lr', ' ')), /^LeafError: --lr must be a number, got  $/);
  assert.throws(() => resolveSpec(spec, parse('--mode', 'c')), /^LeafError: --mode must be one of a, b, got c$/);
  const help = addSpecOptions(new Command(), spec).helpInformation();
  assert.match(help, /--lr <x>\s+rate \(default: 0\.5\)/);
  assert.throws(() => addSpecOptions(new Command(), { rate: spec.lr }), /option spec: --lr <x> does not name rate/);
});
