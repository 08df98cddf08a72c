/** Worker thread of tensor-pool.ts: waits for a job on the shared control word, runs its share, reports. */
import { workerData } from 'node:worker_threads';
import { DONE, GEN, JOB, JOB_EXIT, runShare, type PoolWorkerData } from './tensor-pool.js';

const d = workerData as PoolWorkerData;
let seen = 0;
for (;;) {
  Atomics.wait(d.control, GEN, seen);
  seen = Atomics.load(d.control, GEN);
  const job = Atomics.load(d.control, JOB);
  if (job === JOB_EXIT) break;
  runShare(d, job);
  Atomics.add(d.control, DONE, 1);
  Atomics.notify(d.control, DONE);
}
