/**
 * `metrics.jsonl`: one line per optimizer step, appended as the run goes (a killed run loses at most
 * the line in flight). Resuming from a checkpoint at step N keeps the lines of steps ≤ N and drops the
 * rest (they are recomputed), so a resumed run's file lists every step once.
 *
 * Fields: step (1-based), epoch (1-based), loss (the step's objective: Σ weight·loss / samples; / originals
 * with pairCounterfactuals),
 * kd_original / kd_counterfactual (mean per-sample loss of the step's original / counterfactual samples,
 * null when it had none), lr, grad_norm (before clipping), tokens_per_s (input tokens of the step / its
 * wall time), val_loss (student cross-entropy on --eval-data at evaluation steps, else null), skipped
 * (true when a non-finite loss or gradient skipped the update), tokens, response_tokens, samples,
 * elapsed_s (since this process started training). Non-finite numbers are written as null with the raw
 * value in `nonfinite`.
 */
import * as fs from 'node:fs';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';

export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  kd_original: number | null;
  kd_counterfactual: number | null;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
  val_loss: number | null;
  skipped: boolean;
  tokens: number;
  response_tokens: number;
  samples: number;
  elapsed_s: number;
}

/** The JSON object written for one step (non-finite numbers → null, listed in `nonfinite`). */
export function metricsJson(m: StepMetrics): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const nonfinite: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      out[k] = null;
      nonfinite[k] = String(v);
    } else out[k] = v;
  }
  if (Object.keys(nonfinite).length > 0) out.nonfinite = nonfinite;
  return out;
}

export class MetricsLog {
  private constructor(private fd: number) {}

  /** Opens `file` for appending; `keepUpTo` null starts it empty, a step number keeps the lines of steps ≤ it. */
  static open(file: string, keepUpTo: number | null): MetricsLog {
    if (keepUpTo === null) writeFileAtomicSync(file, '');
    else if (fs.existsSync(file)) {
      const kept: string[] = [];
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        let rec: { step?: unknown };
        try {
          rec = JSON.parse(line) as { step?: unknown };
        } catch {
          continue; // the partial last line of a killed run
        }
        if (typeof rec.step === 'number' && rec.step <= keepUpTo) kept.push(line + '\n');
      }
      writeFileAtomicSync(file, kept.join(''));
    } else writeFileAtomicSync(file, '');
    try {
      return new MetricsLog(fs.openSync(file, 'a'));
    } catch (e) {
      throw new LeafError(`${file}: cannot open: ${(e as Error).message}`);
    }
  }

  append(m: StepMetrics): void {
    fs.writeSync(this.fd, JSON.stringify(metricsJson(m)) + '\n');
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
