import assert from 'node:assert/strict';
import type { Progress } from '../../src/util/progress.js';

/**
 * Checks a stage's progress events: at least one, all of `phase`, one `total`, `done` never going back and
 * within [0, total], and ending at `total` (the run finished). Returns the events for further checks.
 */
export function assertProgress<P extends Progress>(events: readonly P[], phase: string): readonly P[] {
  assert.ok(events.length > 0, `no ${phase} progress event`);
  const total = events[0].total;
  let last = 0;
  for (const e of events) {
    assert.equal(e.phase, phase);
    assert.equal(e.total, total, `${phase}: the total changed`);
    assert.ok(e.done >= last && e.done <= total, `${phase}: done ${e.done} after ${last}, total ${total}`);
    last = e.done;
  }
  assert.equal(last, total, `${phase}: ended at ${last} of ${total}`);
  return events;
}
