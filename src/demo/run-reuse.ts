/**
 * Reusing finished distillation runs on a rerun of `leaf demo`. A run's result (its job's outcome and
 * evaluation) is kept in OUT/runs/<run>/demo-result.json with a key over everything the result depends
 * on: the job (settings, seed, paths), the bytes of its inputs (train data, counterfactuals, evaluation
 * splits, the student's and teacher's model files), the kernels and worker count, and the code that
 * ran it (a digest of leaf's compiled modules). Any change retrains the run from scratch.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../io/atomic.js';
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

function hashFile(h: ReturnType<typeof createHash>, file: string | null): void {
  h.update(`${file ?? '-'}\0`);
  if (file !== null && existsSync(file)) h.update(readFileSync(file));
  h.update('\0');
}

/** The key of a distillation job's result (see the module comment). */
export function runKey(job: DistillJob, runtime: { kernels: string; concurrency: number }): string {
  const o = job.options;
  const h = createHash('sha256');
  h.update(JSON.stringify({ job, runtime, code: codeDigest() }));
  for (const f of [o.data, o.counterfactuals, ...job.evaluate.map((e) => e.file)]) hashFile(h, f);
  for (const dir of [o.student, o.teacher]) for (const f of MODEL_FILES) hashFile(h, join(dir, f));
  return h.digest('hex');
}

/** The saved result of a finished run with this key, or null (none, another key, or its model is gone). */
export function reusableResult(job: DistillJob, key: string): DistillJobResult | null {
  const f = join(job.options.out, RESULT_FILE);
  if (!existsSync(f)) return null;
  try {
    const saved = JSON.parse(readFileSync(f, 'utf8')) as { key?: string; result?: DistillJobResult };
    if (saved.key !== key || !saved.result || !existsSync(join(saved.result.modelDir, 'model.safetensors'))) return null;
    return saved.result;
  } catch {
    return null; // unreadable: train again
  }
}

/** Records a finished run's result under its key (atomically). */
export function saveResult(job: DistillJob, key: string, result: DistillJobResult): void {
  writeFileAtomicSync(join(job.options.out, RESULT_FILE), JSON.stringify({ key, result }) + '\n');
}
