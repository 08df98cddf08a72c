/**
 * Shared pieces of the benchmark: the benchmark configuration, the SmolLM2-135M-shaped model config,
 * timing statistics and memory readings.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** What one benchmark run measures (passed to the leaf child processes and to the PyTorch peer as JSON). */
export interface BenchConfig {
  /** Transformer layers (30 for SmolLM2-135M; fewer in the reduced configuration). */
  layers: number;
  /** Tokens of the forward/backward measurements (batch 1). */
  seqLen: number;
  /** Decoding: prompt length and number of new tokens. */
  promptLen: number;
  newTokens: number;
  /** Timed repetitions after one warm-up, per measurement (the median is reported). */
  reps: number;
  decodeReps: number;
  /** Timed samples per GEMM shape. */
  gemmReps: number;
  /** True when this is not the full SmolLM2-135M configuration (the JS fallback, or flags). */
  reduced: boolean;
  /** torch.set_num_threads for the peer; informational for leaf (the native addon decides its own threads). */
  threads: number;
  seed: number;
  /** Weight matrices as float32 (default) or bfloat16 (leaf: bf16 weights, float32 activations; torch: the whole model in bfloat16). */
  dtype?: 'f32' | 'bf16';
}

export const FULL_CONFIG: BenchConfig = {
  layers: 30, seqLen: 256, promptLen: 32, newTokens: 64,
  reps: 7, decodeReps: 3, gemmReps: 5, reduced: false, threads: 2, seed: 1234,
};

/** What the TypeScript fallback can finish in a few minutes: same widths and vocabulary, 2 layers, 64 tokens. */
export const REDUCED_CONFIG: BenchConfig = {
  layers: 2, seqLen: 64, promptLen: 8, newTokens: 8,
  reps: 2, decodeReps: 2, gemmReps: 2, reduced: true, threads: 2, seed: 1234,
};

/** SmolLM2-135M's config.json (dimensions only; weights are random), with a chosen layer count. */
export function smolLM2Config(layers: number): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: layers,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    head_dim: 64,
    vocab_size: 49152,
    tie_word_embeddings: true,
    rope_theta: 100000,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 8192,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: 0,
    eos_token_id: 0,
    torch_dtype: 'float32',
  };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function nowMs(): number {
  return performance.now();
}

/** Peak resident set size of this process so far, in MiB (VmHWM; falls back to getrusage's maxRSS). */
export function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Current resident set size in MiB. */
export function rssMiB(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}

/** CPU time (user + system, all threads) of this process so far, ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Busy CPU time of the whole machine so far (all processes, from /proc/stat), ms; null when unreadable. */
export function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait (USER_HZ = 100).
    const busy = f[0] + f[1] + f[2] + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy * 10;
  } catch {
    return null;
  }
}

export function minorFaults(): number {
  return process.resourceUsage().minorPageFault;
}

/** Deterministic token ids in [1, vocab) (xorshift, so that it needs nothing from the model). */
export function tokenIds(n: number, vocab: number, seed: number): Int32Array {
  const ids = new Int32Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    ids[i] = 1 + (x % (vocab - 1));
  }
  return ids;
}

/** Timing of one measurement: one warm-up call, then `reps` timed calls. */
export interface Timing {
  warmupMs: number;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  /** Peak RSS after the warm-up call (one iteration) and after all repetitions, MiB. */
  peakAfterWarmupMiB: number;
  peakMiB: number;
}

/**
 * Runs `fn` once as a warm-up and then `reps` times, timing each call. `before` runs ahead of every
 * call outside the timed region (e.g. resetting gradient buffers).
 */
export function timeIt(fn: () => void, reps: number, before?: () => void): Timing {
  before?.();
  let t0 = nowMs();
  fn();
  const warmupMs = nowMs() - t0;
  const peakAfterWarmupMiB = peakRssMiB();
  const samplesMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    before?.();
    t0 = nowMs();
    fn();
    samplesMs.push(nowMs() - t0);
  }
  return {
    warmupMs, samplesMs, medianMs: median(samplesMs), minMs: Math.min(...samplesMs),
    peakAfterWarmupMiB, peakMiB: peakRssMiB(),
  };
}

export function fmtMs(ms: number): string {
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
