/**
 * Reusing finished distillation runs on a rerun of `leaf demo`. A run's result (its job's outcome and
 * evaluation) is stamped in OUT/runs/<run>/demo-result.json (data/run-stamp.ts) under a key (a digest) over
 * everything the result depends on: the job (settings, seed, paths), the digests of its inputs (train
 * data, counterfactuals, evaluation splits, the student's and teacher's model files), the kernels and
 * worker count, and the code that ran it (a digest of leaf's compiled modules). Any change retrains the
 * run from scratch.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileDigest } from '../data/run-folder.js';
import { keyDigest, readStamp, writeStamp } from '../data/run-stamp.js';
import type { DistillJob, DistillJobResult } from './jobs.js';

const RESULT_FILE = 'demo-result.json';
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

let buildDigest: string | null = null;

/** A digest of every compiled module of leaf (dist/src), so that a rebuilt leaf never reuses an older build's runs. */
function codeDigest(): string {
  if (buildDigest !== null) return buildDigest;
  const root = dirname(dirname(fileURLToPath(import.meta.url))); // dist/src
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.js')) h.update(`${p.slice(root.length)}\0`).update(readFileSync(p));
    }
  };
  walk(root);
  return (buildDigest = h.digest('hex'));
}

/**
 * The key of a distillation job's result (see the module comment): the digest (data/run-stamp.ts keyDigest) of
 * the job, the runtime, the code digest and each input file's digest (null when missing).
 */
export function runKey(job: DistillJob, runtime: { kernels: string; concurrency: number }): string {
  const o = job.options;
  const files = [o.data, o.counterfactuals, ...job.evaluate.map((e) => e.file)].filter((f): f is string => f !== null);
  for (const dir of [o.student, o.teacher]) for (const f of MODEL_FILES) files.push(join(dir, f));
  return keyDigest({ job, runtime, code: codeDigest(), inputs: Object.fromEntries(files.map((f) => [f, existsSync(f) ? fileDigest(f) : null])) });
}

/** The saved result of a finished run with this key, or null (none, another key, unreadable, or its model is gone). */
export function reusableResult(job: DistillJob, key: string): DistillJobResult | null {
  const stamp = readStamp<DistillJobResult>(join(job.options.out, RESULT_FILE), key, {
    requires: (result) => [resolve(result.modelDir, 'model.safetensors')], // modelDir is relative to the working folder, as --out
  });
  return stamp?.payload ?? null;
}

/** Records a finished run's result under its key (atomically). */
export function saveResult(job: DistillJob, key: string, result: DistillJobResult): void {
  writeStamp(join(job.options.out, RESULT_FILE), key, result);
}
