/**
 * OUT/run.json of a resumable job (mining, evaluation): what the job was started with — settings,
 * input paths and digests, model fingerprints — written atomically before the first record. A
 * `--resume` must match it field by field, so records of different models, data or settings are
 * never mixed in one output.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';

export type RunIdentity = Record<string, unknown>;

/** sha256 (16 hex digits) of a file's bytes, for run identities. */
export function fileDigest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/**
 * Checks a resume against OUT/run.json, or (re)writes it for a fresh start. `hasRecords`: the output
 * already holds records; resuming those without a run.json is refused unless `legacy` says the
 * settings were checked another way (outputs written before run.json existed).
 */
export function checkRunFile(file: string, identity: RunIdentity, o: { resume: boolean; hasRecords: boolean; legacy?: boolean }): void {
  if (o.resume && existsSync(file)) {
    let prev: RunIdentity;
    try {
      prev = (JSON.parse(readFileSync(file, 'utf8')) as { identity?: RunIdentity }).identity ?? {};
    } catch (e) {
      throw new LeafError(`${file}: unreadable (${(e as Error).message}); cannot check what the run being resumed used — use another --out, or --overwrite`);
    }
    for (const key of new Set([...Object.keys(prev), ...Object.keys(identity)])) {
      const was = JSON.stringify(prev[key]), now = JSON.stringify(identity[key]);
      if (was !== now) throw new LeafError(`${file}: --resume with a different ${key} (${now ?? 'none'}, the run being resumed used ${was ?? 'none'}); use the same models, data and settings, or another --out`);
    }
    return;
  }
  if (o.resume && o.hasRecords && !o.legacy) {
    throw new LeafError(`${file}: missing, so the records already in this output cannot be checked against this run's models, data and settings; use --overwrite to start over, or another --out`);
  }
  writeFileAtomicSync(file, JSON.stringify({ identity }, null, 2) + '\n');
}
