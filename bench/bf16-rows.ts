/**
 * The bfloat16 rows of `npm run bench`: leaf with bf16 weight matrices (float32 activations and
 * accumulation) against PyTorch with the whole model in bfloat16, same shapes, same run; and the opt-in
 * 8B-shape saliency row (bench/big.ts) run in its own process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmtMs, type BenchConfig } from './common.js';
import type { PhaseResult } from './phases.js';

export const BF16_PHASES = ['forward', 'backward-input', 'backward-params', 'decode'] as const;

/** The benchmark configuration in bf16: at most 3 repetitions (decode 1): torch's bf16 GEMM is slow on CPUs without bf16 instructions. */
export function bf16Config(cfg: BenchConfig): BenchConfig {
  return { ...cfg, dtype: 'bf16', reps: Math.min(cfg.reps, 3), decodeReps: 1 };
}

type Phases = Record<string, PhaseResult>;

/** Runs the bf16 phases (leaf, then the peer, per phase; nothing when off), logging each median. */
export function runBf16Phases(
  on: boolean, log: (s: string) => void, leaf: (phase: string) => PhaseResult, peer: (phase: string) => PhaseResult | null,
): { ours: Phases; theirs: Phases } {
  const ours: Phases = {}, theirs: Phases = {};
  const say = (r: PhaseResult) => log(`    median ${fmtMs(r.timing.medianMs)} (min ${fmtMs(r.timing.minMs)}), peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  for (const phase of on ? BF16_PHASES : []) {
    log(`  leaf ${phase} (bf16) …`);
    say((ours[phase] = leaf(phase)));
    const t = peer(phase);
    if (t) say((theirs[phase] = t));
  }
  return { ours, theirs };
}

/** Adds one row to the bench table (run.ts): best = [leaf, torch] times of the fastest repetitions. */
export type AddRow = (name: string, unit: string, ours: number, theirs: number | null, higherIsBetter: boolean, fmt: (x: number) => string, best?: [number, number | null]) => void;

/** The bf16 rows of the table: time (decode: tokens/s) and peak RSS per phase, leaf bf16 against torch bfloat16. */
export function addBf16Rows(ours: Phases, theirs: Phases, labels: Record<string, string>, add: AddRow): void {
  const tps = (x: number) => `${x.toFixed(1)} tok/s`, mib = (x: number) => `${x.toFixed(0)} MiB`;
  for (const p of BF16_PHASES) {
    const o = ours[p], t = theirs[p] ?? null;
    if (!o) continue;
    if (p === 'decode') add(`bf16 ${labels[p]}`, 'tokens/s', o.extra.tokensPerSec, t?.extra.tokensPerSec ?? null, true, tps);
    else add(`bf16 ${labels[p]}`, 'ms', o.timing.medianMs, t?.timing.medianMs ?? null, false, fmtMs, [o.timing.minMs, t?.timing.minMs ?? null]);
    add(`    bf16 peak RSS ${p}`, 'MiB', o.peakMiB, t?.peakMiB ?? null, false, mib);
  }
}

/** One line: leaf's bf16 time against its own float32 time per phase, and the resident weights. */
export function bf16Summary(f32: Phases, bf16: Phases, cfg: BenchConfig): string {
  const parts = BF16_PHASES.filter((p) => bf16[p] && f32[p]).map((p) => {
    const r = p === 'decode' ? f32[p].extra.tokensPerSec / bf16[p].extra.tokensPerSec : bf16[p].timing.medianMs / f32[p].timing.medianMs;
    return `${p} ${r.toFixed(2)}×`;
  });
  const rss = bf16.forward && f32.forward ? `; RSS after model init ${bf16.forward.rssAfterInitMiB.toFixed(0)} vs ${f32.forward.rssAfterInitMiB.toFixed(0)} MiB` : '';
  return `leaf bf16 / leaf float32 time (${cfg.reps} reps, decode ${cfg.decodeReps}): ${parts.join(', ')}${rss}.`;
}

/** Runs bench/big.ts in a child process; returns its line (or why it failed). */
export function runBigChild(log: (s: string) => void): string {
  log('  8B-shape saliency (bench/big.ts, ~19 GB) …');
  const file = fileURLToPath(new URL('./big.js', import.meta.url));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) return `8B-shape saliency failed (${r.status ?? r.signal}) after ${fmtMs(Date.now() - t0)}`;
  return r.stdout.trim().split('\n')[0];
}
