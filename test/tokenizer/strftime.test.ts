import assert from 'node:assert/strict';
import { test } from 'node:test';
import { strftime } from '../../src/tokenizer/strftime.js';

// Expected strings are Python's datetime.strftime output for the same (local) dates.
test('strftime: the directives chat templates use, as Python formats them', () => {
  const d = new Date(2024, 6, 26, 9, 5, 3, 123);
  assert.equal(strftime(d, '%d %b %Y'), '26 Jul 2024');
  assert.equal(strftime(d, '%Y-%m-%d %H:%M:%S'), '2024-07-26 09:05:03');
  assert.equal(strftime(d, '%A %a %B %b %j %I %p %y %-d %e %%'), 'Friday Fri July Jul 208 09 AM 24 26 26 %');
  assert.equal(strftime(d, '%U %W %V %G %u %w'), '29 30 30 2024 5 5');
  assert.equal(strftime(d, '%c'), 'Fri Jul 26 09:05:03 2024');
  assert.equal(strftime(d, '%x %X'), '07/26/24 09:05:03');
  assert.equal(strftime(d, '%D %F %T %R %h'), '07/26/24 2024-07-26 09:05:03 09:05 Jul');
  assert.equal(strftime(d, '%Q %f'), '%Q 123000');
});

test('strftime: year boundaries, midnight, no-padding flag', () => {
  const d = new Date(2021, 0, 3, 0, 0, 0);
  assert.equal(strftime(d, '%U %W %V %G %j %I %p %-m'), '01 00 53 2020 003 12 AM 1');
  assert.equal(strftime(new Date(2024, 11, 5, 15, 0, 0), '%-d %B %Y, %-I%p'), '5 December 2024, 3PM');
});

test('strftime: %z is the local UTC offset', () => {
  assert.match(strftime(new Date(2024, 0, 1), '%z'), /^[+-]\d{4}$/);
});
