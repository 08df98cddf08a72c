import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeafError } from '../../src/errors.js';
import { atLeast, intAtLeast, option, resolveSpec } from '../../src/util/option-spec.js';

const spec = {
  batch: option<number>({ flag: '--batch <B>', help: '', kind: 'int', default: 8, rule: intAtLeast(1) }),
  micro: option<number>({ flag: '--micro <b>', help: '', kind: 'int', default: (r) => Math.min(2, r.batch as number), rule: { ok: (v, r) => v <= (r.batch as number), what: (r) => `at most --batch ${String(r.batch)}` } }),
  loss: option<'a' | 'b'>({ flag: '--loss <l>', help: '', kind: 'choice', choices: ['a', 'b'], default: 'a' }),
  beta: option<number>({ flag: '--beta <b>', help: '', kind: 'number', default: 0.5, when: (r) => r.loss === 'b', rule: atLeast(0) }),
};
const err = (message: string) => (e: unknown) => e instanceof LeafError && e.message === message;

test('resolveSpec: defaults (also computed from earlier options), kinds and rules with one-line errors naming the flag', () => {
  assert.deepEqual(resolveSpec(spec, {}), { batch: 8, micro: 2, loss: 'a', beta: 0.5 });
  assert.deepEqual(resolveSpec(spec, { batch: 1 }), { batch: 1, micro: 1, loss: 'a', beta: 0.5 });
  assert.throws(() => resolveSpec(spec, { batch: 0 }), err('--batch must be an integer ≥ 1, got 0'));
  assert.throws(() => resolveSpec(spec, { batch: 2.5 }), err('--batch must be an integer, got 2.5'));
  assert.throws(() => resolveSpec(spec, { batch: 4, micro: 5 }), err('--micro must be at most --batch 4, got 5'));
  assert.throws(() => resolveSpec(spec, { loss: 'c' }), err('--loss must be one of a, b, got c'));
  assert.deepEqual(resolveSpec(spec, { beta: -1 }).beta, -1, 'the rule applies only when its condition holds');
  assert.throws(() => resolveSpec(spec, { loss: 'b', beta: -1 }), err('--beta must be ≥ 0, got -1'));
  assert.throws(() => resolveSpec(spec, { beta: 'x' }), err('--beta must be a number, got x'));
});
