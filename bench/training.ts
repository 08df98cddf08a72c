/**
 * The training line of `npm run bench`: tokens/s of one distillation optimizer step — a SmolLM2-135M-shaped
 * student and a SmolLM2-360M-shaped teacher (random weights, float32), micro-batch 1 × 256 tokens (64 prompt
 * + 192 supervised), forward KL — through the trainer's own code path (micro-step.ts: teacher rows,
 * student forward with saved activations, batched KD loss, backward; then the gradient norm, clipping
 * fused into AdamW), with the teacher online and from the top-K cache, against the same step in plain
 * PyTorch (bench/torch_train_peer.py) in the same run. Each measurement runs in a fresh process.
 *
 *   node dist/bench/training.js [--no-torch] [--quick] [--reps=N] [--no-bf16]     these lines alone
 *   (bench/run.ts calls runTrainingBench after its table)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getKernels } from '../src/kernels/index.js';
import { parseConfig } from '../src/model/config.js';
import { randomModel } from '../src/model/random-init.js';
import { clipScale } from '../src/training/adamw.js';
import { setupOptimizer } from '../src/training/optimizer.js';
import { BatchKdLoss } from '../src/training/kd-batch.js';
import { microStep, type TeacherSource } from '../src/training/micro-step.js';
import type { TrainSample } from '../src/training/samples.js';
import { TeacherCache } from '../src/training/teacher-cache.js';
import { cpuMs, fmtMs, median, nowMs, peakRssMiB, smolLM2Config, tokenIds } from './common.js';
import { ensureTorch, peerPython } from './torch-peer.js';

export interface TrainBenchConfig {
  studentLayers: number;
  teacherLayers: number;
  seqLen: number;
  promptLen: number;
  reps: number;
  topK: number;
  temperature: number;
  seed: number;
  threads: number;
  reduced: boolean;
  /** Weight matrices of both models (leaf: bf16 weights, float32 activations, float32 masters; torch: everything bfloat16). */
  dtype?: 'f32' | 'bf16';
}

export const TRAIN_FULL: TrainBenchConfig = { studentLayers: 30, teacherLayers: 32, seqLen: 256, promptLen: 64, reps: 3, topK: 64, temperature: 1, seed: 1234, threads: 2, reduced: false };
export const TRAIN_REDUCED: TrainBenchConfig = { ...TRAIN_FULL, studentLayers: 2, teacherLayers: 2, seqLen: 64, promptLen: 16, reps: 2, reduced: true };
/**
 * The bfloat16 lines: the same widths with 4-layer models, 128 tokens (96 supervised), 2 repetitions — PyTorch 1.13
 * multiplies bfloat16 at a few GFLOP/s on CPUs without bf16 instructions, so the full shapes would take many minutes.
 */
export const TRAIN_BF16: TrainBenchConfig = { ...TRAIN_FULL, studentLayers: 4, teacherLayers: 4, seqLen: 128, promptLen: 32, reps: 2, reduced: true, dtype: 'bf16' };

/** SmolLM2-360M's dimensions. */
export function teacherConfig(layers: number): Record<string, unknown> {
  return { ...smolLM2Config(layers), hidden_size: 960, intermediate_size: 2560, num_attention_heads: 15, num_key_value_heads: 5 };
}

interface StepResult {
  mode: string;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  warmupMs: number;
  tokensPerSec: number;
  loss: number;
  gradNorm: number;
  peakMiB: number;
  cpuMs: number;
}

const thisFile = fileURLToPath(import.meta.url);

/** One measurement, in this (child) process. */
function runStep(mode: 'online' | 'cached', cfg: TrainBenchConfig): StepResult {
  const kernels = getKernels();
  const dtype = cfg.dtype ?? 'f32';
  const student = randomModel(parseConfig(smolLM2Config(cfg.studentLayers), 'bench-student'), kernels, Float32Array, { seed: cfg.seed, dtype });
  const V = student.config.vocabSize;
  const sample: TrainSample = { id: 'bench', kind: 'original', ids: Array.from(tokenIds(cfg.seqLen, V, cfg.seed)), responseStart: cfg.promptLen, weight: 1, truncated: false };
  const samples = [sample];
  const makeTeacher = () => randomModel(parseConfig(teacherConfig(cfg.teacherLayers), 'bench-teacher'), kernels, Float32Array, { seed: cfg.seed + 1, dtype });
  let source: TeacherSource;
  let tmp: string | null = null;
  let cache: TeacherCache | null = null;
  if (mode === 'cached') {
    // The teacher only lives while the cache is built (as in distill()); it is garbage once built.
    tmp = mkdtempSync(join(tmpdir(), 'leaf-bench-cache-'));
    cache = TeacherCache.openOrBuild(tmp, makeTeacher(), samples, { k: cfg.topK, temperature: cfg.temperature, vocab: V, batchSize: 1 });
    source = { kind: 'cache', cache };
  } else {
    source = { kind: 'online', model: makeTeacher() };
  }
  const loss = new BatchKdLoss(student.kernels, V, { kind: 'fkl', temperature: cfg.temperature });
  const { optimizer: opt, grads, gradNorm, close } = setupOptimizer(student, { lr: 1e-5 });
  let last = { loss: NaN, norm: NaN };
  const step = () => {
    for (const g of grads.values()) g.fill(0);
    const r = microStep(student, samples, [0], source, loss, grads, 1);
    const norm = gradNorm();
    opt.update(grads, 1e-5, clipScale(norm, 1));
    last = { loss: r.objective, norm };
  };
  let t0 = nowMs();
  step();
  const warmupMs = nowMs() - t0;
  const samplesMs: number[] = [];
  for (let i = 0; i < cfg.reps; i++) {
    t0 = nowMs();
    step();
    samplesMs.push(nowMs() - t0);
  }
  cache?.close();
  close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const med = median(samplesMs);
  return {
    mode, samplesMs, medianMs: med, minMs: Math.min(...samplesMs), warmupMs, tokensPerSec: (cfg.seqLen / med) * 1000,
    loss: last.loss, gradNorm: last.norm, peakMiB: peakRssMiB(), cpuMs: cpuMs(),
  };
}

function lastJson<T>(stdout: string): T | null {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as T) : null;
}

function leafChild(mode: string, cfg: TrainBenchConfig): StepResult {
  const r = spawnSync(process.execPath, [thisFile, `--child=${mode}`, `--config=${JSON.stringify(cfg)}`], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LEAF_KERNELS: getKernels().name },
  });
  const res = r.status === 0 ? lastJson<StepResult>(r.stdout) : null;
  if (!res) throw new Error(`training bench child ${mode} failed (${r.status ?? r.signal})`);
  return res;
}

function torchConfig(cfg: TrainBenchConfig): Record<string, unknown> {
  const dims = (c: Record<string, unknown>, layers: number) => ({
    hidden: c.hidden_size, intermediate: c.intermediate_size, layers, heads: c.num_attention_heads, kvHeads: c.num_key_value_heads,
    headDim: c.head_dim, vocab: c.vocab_size, ropeTheta: c.rope_theta, rmsNormEps: c.rms_norm_eps,
  });
  return {
    student: dims(smolLM2Config(cfg.studentLayers), cfg.studentLayers), teacher: dims(teacherConfig(cfg.teacherLayers), cfg.teacherLayers),
    seqLen: cfg.seqLen, promptLen: cfg.promptLen, reps: cfg.reps, seed: cfg.seed, threads: cfg.threads, temperature: cfg.temperature, topK: cfg.topK,
    dtype: cfg.dtype ?? 'f32',
  };
}

function torchScript(): string {
  for (const rel of ['../../bench/torch_train_peer.py', './torch_train_peer.py']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('bench/torch_train_peer.py not found');
}

export function torchChild(mode: string, cfg: TrainBenchConfig): { ok: true; value: StepResult & { torch: string; threads: number } } | { ok: false; reason: string } {
  const r = spawnSync(peerPython(), [torchScript(), '--config', JSON.stringify(torchConfig(cfg)), '--mode', mode], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 900_000,
  });
  if (r.error) return { ok: false, reason: r.error.message };
  if (r.status !== 0) return { ok: false, reason: `torch_train_peer.py exited with ${r.status ?? r.signal}` };
  const v = lastJson<StepResult & { torch: string; threads: number }>(r.stdout);
  return v ? { ok: true, value: v } : { ok: false, reason: 'torch_train_peer.py printed no JSON' };
}

export interface TrainingBenchResult {
  config: TrainBenchConfig;
  leaf: Record<string, StepResult>;
  torch: Record<string, StepResult> | null;
  torchReason: string;
  lines: string[];
}

/** Runs the training measurements (leaf and torch interleaved) and returns the printed lines. */
export function runTrainingBench(cfg: TrainBenchConfig, withTorch: boolean, log: (s: string) => void): TrainingBenchResult {
  let torchReason = withTorch ? '' : 'disabled (--no-torch)';
  if (withTorch) {
    const t = ensureTorch(log);
    if (!t.ok) torchReason = t.reason;
  }
  const ours: Record<string, StepResult> = {};
  const theirs: Record<string, StepResult> = {};
  for (const mode of ['online', 'cached'] as const) {
    log(`  leaf distillation step, ${mode} teacher …`);
    ours[mode] = leafChild(mode, cfg);
    log(`    median ${fmtMs(ours[mode].medianMs)} (min ${fmtMs(ours[mode].minMs)}), peak RSS ${ours[mode].peakMiB.toFixed(0)} MiB`);
    if (!torchReason) {
      log(`  torch distillation step, ${mode} teacher …`);
      const r = torchChild(mode, cfg);
      if (r.ok) {
        theirs[mode] = r.value;
        log(`    median ${fmtMs(r.value.medianMs)} (min ${fmtMs(r.value.minMs)}), peak RSS ${r.value.peakMiB.toFixed(0)} MiB`);
      } else {
        torchReason = r.reason;
        log(`    failed: ${r.reason}`);
      }
    }
  }
  return { config: cfg, leaf: ours, torch: Object.keys(theirs).length ? theirs : null, torchReason, lines: trainingLines(cfg, ours, theirs, torchReason) };
}

/** The printed lines of one configuration: a header, then online and cached, leaf against torch. */
function trainingLines(cfg: TrainBenchConfig, ours: Record<string, StepResult>, theirs: Record<string, StepResult>, torchReason: string): string[] {
  const resp = cfg.seqLen - cfg.promptLen;
  const bf16 = cfg.dtype === 'bf16';
  const lines = [
    `training${bf16 ? ' bf16' : ''}: one distillation step (student SmolLM2-135M-shaped, teacher 360M-shaped${cfg.reduced ? `, ${cfg.studentLayers}/${cfg.teacherLayers} layers — REDUCED` : ''}; ` +
      (bf16 ? 'leaf: bf16 weights, float32 activations and AdamW masters; PyTorch: both models in bfloat16; ' : '') +
      `micro-batch 1 × ${cfg.seqLen} tokens, ${resp} supervised; forward KL, clip 1.0, AdamW; median of ${cfg.reps} after one warm-up; ratio = leaf time / torch time, goal ≤ 1.00×)`,
  ];
  for (const mode of ['online', 'cached'] as const) {
    const o = ours[mode], t = theirs[mode] ?? null;
    const label = mode === 'online' ? 'online teacher' : `cached teacher (top-${cfg.topK})`;
    const ratio = t ? o.medianMs / t.medianMs : null;
    const best = t ? o.minMs / t.minMs : null;
    lines.push(`  ${label.padEnd(26)} leaf ${fmtMs(o.medianMs).padStart(8)} (${o.tokensPerSec.toFixed(1)} tok/s)` +
      (t ? ` │ PyTorch ${fmtMs(t.medianMs).padStart(8)} (${t.tokensPerSec.toFixed(1)} tok/s) │ ratio ${ratio!.toFixed(2)}× (best ${best!.toFixed(2)}×)` : ` │ PyTorch — (${torchReason})`) +
      ` │ peak RSS ${o.peakMiB.toFixed(0)}${t ? ` / ${t.peakMiB.toFixed(0)}` : ''} MiB`);
  }
  return lines;
}

/**
 * The hook bench/run.ts calls after its table: prints the training lines (float32, then — unless `bf16` is
 * false — bfloat16 at TRAIN_BF16's shapes) and writes dist/bench-results/training.json.
 */
export function printTrainingBench(opts: { quick: boolean; torch: boolean; reps?: number | null; bf16?: boolean }, log: (s: string) => void): void {
  const reduced = opts.quick || getKernels().name === 'js';
  const cfg: TrainBenchConfig = { ...(reduced ? TRAIN_REDUCED : TRAIN_FULL) };
  if (opts.reps) cfg.reps = opts.reps;
  const configs = opts.bf16 === false ? [cfg] : [cfg, reduced ? { ...TRAIN_REDUCED, dtype: 'bf16' as const } : TRAIN_BF16];
  const results: TrainingBenchResult[] = [];
  for (const c of configs) {
    log('');
    log(`leaf training bench${c.dtype === 'bf16' ? ' (bf16)' : ''}: ${c.studentLayers}-layer student, ${c.teacherLayers}-layer teacher, ${c.seqLen} tokens${c.reduced ? ' [REDUCED CONFIGURATION]' : ''}`);
    const res = runTrainingBench(c, opts.torch, log);
    process.stdout.write('\n' + res.lines.join('\n') + '\n');
    results.push(res);
  }
  const out = resolve(dirname(thisFile), '..', 'bench-results', 'training.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), kernels: getKernels().name, ...results[0], bf16: results[1] ?? null }, null, 2) + '\n');
  log(`wrote ${out}`);
}

function main(argv: string[]): void {
  const child = argv.find((a) => a.startsWith('--child='))?.slice('--child='.length);
  if (child) {
    const cfg = JSON.parse(argv.find((a) => a.startsWith('--config='))!.slice('--config='.length)) as TrainBenchConfig;
    process.stdout.write(JSON.stringify(runStep(child as 'online' | 'cached', cfg)) + '\n');
    return;
  }
  const reps = argv.find((a) => a.startsWith('--reps='));
  printTrainingBench({
    quick: argv.includes('--quick'), torch: !argv.includes('--no-torch'), reps: reps ? Number(reps.slice(7)) : null, bf16: !argv.includes('--no-bf16'),
  }, (s) => process.stderr.write(s + '\n'));
}

if (process.argv[1] && resolve(process.argv[1]) === thisFile) main(process.argv.slice(2));
