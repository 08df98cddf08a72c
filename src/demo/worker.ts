/**
 * Child-process entry of the demo's job pool: `node worker.js JOB.json RESULT.json` runs the job and
 * writes its result (or `{ "error": message }`, exit status 1).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic.js';
import { runJob, type DemoJob } from './jobs.js';

const [jobFile, resultFile] = process.argv.slice(2);
runJob(JSON.parse(readFileSync(jobFile, 'utf8')) as DemoJob).then(
  (result) => writeFileAtomicSync(resultFile, JSON.stringify({ result })),
  (e: unknown) => {
    writeFileAtomicSync(resultFile, JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
    process.exitCode = 1;
  },
);
