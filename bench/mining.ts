/**
 * The mining line of `npm run bench`: confounder-mining throughput (problems per minute) for a
 * student with SmolLM2-135M's shapes and a teacher with SmolLM2-360M's shapes (random weights), at
 * 128 prompt + 128 response tokens, generation excluded: per problem, the whole scoring path of
 * `leaf mine` — chat-template encoding with character spans, one forward + one backward to the input
 * embeddings per model, normalisation, threshold, spans, counterfactual records — and the share of
 * that time spent in the two models' forward/backward passes (goal ≥ 85%).
 *
 *   node dist/bench/mining.js [--reduced] [--bf16] [--problems=N]     standalone (prints the line and JSON)
 *   run.ts calls miningBenchLine() after its table (skip with --no-mining), then miningBf16Line(): the same
 *   path with bf16 weights at MINING_BF16's smaller shapes against PyTorch in bfloat16 (torch_train_peer.py
 *   --mode mining: both models' forward + backward to the input embeddings and the gradient norms).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getKernels } from '../src/kernels/index.js';
import { buildCounterfactuals } from '../src/method/counterfactuals.js';
import { scoreUnit } from '../src/method/score.js';
import type { FArray } from '../src/kernels/types.js';
import { CausalLM } from '../src/model/causal-lm.js';
import { parseConfig, type ModelConfig } from '../src/model/config.js';
import { numel, paramSpecs } from '../src/model/params.js';
import type { Pretrained } from '../src/model/pretrained.js';
import { LeafTokenizer } from '../src/tokenizer/index.js';
import { isMatrixShape, toBf16, type Weight, type WeightDtype } from '../src/model/weights.js';
import { Rng } from '../src/util/rng.js';
import { fmtMs, median, nowMs, peakRssMiB, smolLM2Config } from './common.js';
import { TRAIN_FULL, torchChild, type TrainBenchConfig } from './training.js';

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = resolve(dirname(thisFile), '..', '..');
const TOKENIZER = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'qwen2-bytelevel');

/** SmolLM2-360M's config.json dimensions (weights random), with a chosen layer count. */
export function smolLM2_360MConfig(layers: number): Record<string, unknown> {
  return {
    ...smolLM2Config(layers), hidden_size: 960, intermediate_size: 2560, num_hidden_layers: layers,
    num_attention_heads: 15, num_key_value_heads: 5, head_dim: 64,
  };
}

/** Layers of the two models, token counts and the weights' dtype of one mining measurement. */
export interface MiningShape {
  student: number;
  teacher: number;
  promptTokens: number;
  responseTokens: number;
  dtype: WeightDtype;
}

export const MINING_FULL: MiningShape = { student: 30, teacher: 32, promptTokens: 128, responseTokens: 128, dtype: 'f32' };
export const MINING_REDUCED: MiningShape = { ...MINING_FULL, student: 2, teacher: 2 };
/** The bf16 line: 4-layer models, 64 + 64 tokens (PyTorch 1.13's bfloat16 is slow on CPUs without bf16 instructions). */
export const MINING_BF16: MiningShape = { student: 4, teacher: 4, promptTokens: 64, responseTokens: 64, dtype: 'bf16' };

export interface MiningBenchResult {
  kernels: string;
  reduced: boolean;
  dtype: WeightDtype;
  layers: { student: number; teacher: number };
  promptTokens: number;
  responseTokens: number;
  problems: number;
  perProblemMs: number[];
  medianMs: number;
  problemsPerMinute: number;
  /** Share of the per-problem time in the two models' forward + backward passes, and in the backward passes alone. */
  modelShare: number;
  backwardShare: number;
  initMs: number;
  peakMiB: number;
}

const WORDS = ['Tom', 'has', 'apples', 'and', 'buys', 'more', 'at', 'the', 'market', 'each', 'costs', 'dollars', 'how', 'many', 'left', 'after',
  'giving', 'some', 'to', 'his', 'sister', 'who', 'likes', 'pears', 'total', 'sum', 'so', 'we', 'add', 'then', 'subtract'];

/**
 * Random float32 weights, quickly: uniform with standard deviation 0.02 from an xorshift stream
 * (randomModel's Box–Muller normals take about a minute for 500M parameters; timings do not care).
 */
function fastRandomModel(config: ModelConfig, seed: number, dtype: WeightDtype): CausalLM {
  const params = new Map<string, Weight>();
  let x = (seed * 2654435761) >>> 0 || 1;
  const a = 0.02 * Math.sqrt(3) / 2147483648;
  for (const spec of paramSpecs(config)) {
    const p = new Float32Array(numel(spec.shape));
    if (spec.name.endsWith('norm.weight')) p.fill(1);
    else if (!spec.name.endsWith('.bias')) {
      for (let i = 0; i < p.length; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        p[i] = (x | 0) * a;
      }
    }
    params.set(spec.name, dtype === 'bf16' && isMatrixShape(spec.shape) ? toBf16(p) : p);
  }
  return new CausalLM(config, params, getKernels(), Float32Array);
}

/** A text of exactly `n` tokens of `tok` (encoded alone), from seeded words and numbers. */
function textOfTokens(tok: LeafTokenizer, n: number, rng: Rng): string {
  let text = '';
  while (tok.encode(text, { addSpecialTokens: false }).ids.length < n + 8) {
    text += (text ? ' ' : '') + (rng.next() < 0.2 ? String(rng.int(1000)) : WORDS[rng.int(WORDS.length)]) + (rng.next() < 0.1 ? '.' : '');
  }
  for (;;) {
    const enc = tok.encode(text, { addSpecialTokens: false });
    if (enc.ids.length <= n) return text;
    text = text.slice(0, enc.offsets[n][0]);
  }
}

/** Runs the measurement in this process. */
export function runMiningBench(shape: MiningShape, problems: number): MiningBenchResult {
  const kernels = getKernels();
  const layers = { student: shape.student, teacher: shape.teacher };
  const P = shape.promptTokens, R = shape.responseTokens;
  const t0 = nowMs();
  const tok = LeafTokenizer.load(TOKENIZER);
  const make = (cfg: Record<string, unknown>, seed: number): Pretrained => {
    const model = fastRandomModel(parseConfig(cfg, 'bench-config'), seed, shape.dtype);
    return { dir: `random-${String(cfg.hidden_size)}`, model, tokenizer: tok, eosTokenIds: [tok.eosToken!.id] };
  };
  const student = make(smolLM2Config(layers.student), 1);
  const teacher = make(smolLM2_360MConfig(layers.teacher), 2);
  const initMs = nowMs() - t0;
  const rng = new Rng(7);
  const settings = { method: 'gradient' as const, rule: { kind: 'quantile' as const, q: 0.1 }, seed: 1, batchSize: 8 };
  const perProblemMs: number[] = [];
  let modelMs = 0, backwardMs = 0, totalMs = 0;
  for (let i = 0; i <= problems; i++) {
    const prompt = textOfTokens(tok, P, rng);
    const response = textOfTokens(tok, R, rng);
    const s = nowMs();
    const sc = scoreUnit(student, teacher, prompt, response, { level: 'instruction' }, settings, `bench-${i}`);
    const built = buildCounterfactuals(
      { sourceId: `bench-${i}`, level: 'instruction', method: 'gradient', segment: null, prompt, response, segStart: 0, passthrough: { answer: '1' } },
      sc.text, sc.spans, 'span',
    );
    const lines = JSON.stringify(sc) + built.drafts.map((d) => JSON.stringify(d.record)).join('\n');
    const ms = nowMs() - s;
    if (lines.length === 0) throw new Error('no records');
    if (i === 0) continue; // warm-up
    perProblemMs.push(ms);
    totalMs += ms;
    modelMs += sc.computeMs;
    backwardMs += sc.backwardMs;
  }
  const med = median(perProblemMs);
  return {
    kernels: kernels.name, reduced: shape.student !== MINING_FULL.student || shape.teacher !== MINING_FULL.teacher, dtype: shape.dtype,
    layers, promptTokens: P, responseTokens: R, problems, perProblemMs, medianMs: med,
    problemsPerMinute: 60000 / med, modelShare: modelMs / totalMs, backwardShare: backwardMs / totalMs, initMs, peakMiB: peakRssMiB(),
  };
}

export function formatMiningLine(r: MiningBenchResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return `mining: ${r.problemsPerMinute.toFixed(1)} problems/min (${(r.medianMs / 1000).toFixed(2)} s/problem, median of ${r.problems}) — ` +
    `student SmolLM2-135M shape (${r.layers.student} layers), teacher SmolLM2-360M shape (${r.layers.teacher} layers), random ${r.dtype === 'bf16' ? 'bf16' : 'float32'} weights, ` +
    `${r.promptTokens} prompt + ${r.responseTokens} response tokens, gradient method, generation excluded; ` +
    `${pct(r.modelShare)} of the time in the two models' forward+backward passes (goal ≥ 85%), ${pct(r.backwardShare)} in the two backward passes; ` +
    `peak RSS ${r.peakMiB.toFixed(0)} MiB${r.reduced ? ' [REDUCED CONFIGURATION]' : ''}`;
}

/** Runs the measurement in a fresh Node process; the result, or why it failed. */
function miningChild(kernelName: string, args: string[]): MiningBenchResult | string {
  const r = spawnSync(process.execPath, [thisFile, '--child', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LEAF_KERNELS: kernelName },
  });
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) return `measurement failed (${r.status ?? r.signal})`;
  return JSON.parse(line) as MiningBenchResult;
}

function writeResult(name: string, res: object): void {
  const out = resolve(repoRoot, 'dist', 'bench-results', name);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...res }, null, 2) + '\n');
}

/** Runs the measurement in a fresh Node process and returns the formatted line (run.ts's hook). */
export function miningBenchLine(kernelName: string, reduced: boolean, log: (s: string) => void): string {
  log('  leaf mining …');
  const res = miningChild(kernelName, reduced ? ['--reduced'] : []);
  if (typeof res === 'string') return `mining: ${res}`;
  writeResult('mining.json', res);
  return formatMiningLine(res);
}

/**
 * The bf16 mining line: leaf's scoring path with bf16 weights (MINING_BF16's shapes; 2 problems after a warm-up)
 * against PyTorch with both models in bfloat16 (forward + backward to the input embeddings and the gradient
 * norms per model, the same token counts without leaf's chat-template tokens), in the same run.
 */
export function miningBf16Line(kernelName: string, withTorch: boolean, log: (s: string) => void): string {
  const problems = 2, S = MINING_BF16;
  log('  leaf mining (bf16) …');
  const res = miningChild(kernelName, ['--bf16', `--problems=${problems}`]);
  if (typeof res === 'string') return `mining bf16: ${res}`;
  let peer = '— (--no-torch)';
  let torchRes: unknown = null;
  if (withTorch) {
    log('  torch mining (bfloat16) …');
    const cfg: TrainBenchConfig = {
      ...TRAIN_FULL, studentLayers: S.student, teacherLayers: S.teacher, seqLen: S.promptTokens + S.responseTokens, promptLen: S.promptTokens,
      reps: problems, reduced: true, dtype: 'bf16',
    };
    const t = torchChild('mining', cfg);
    if (t.ok) {
      torchRes = t.value;
      peer = `${fmtMs(t.value.medianMs)}/problem │ ratio ${(res.medianMs / t.value.medianMs).toFixed(2)}× (best ${(Math.min(...res.perProblemMs) / t.value.minMs).toFixed(2)}×) │ ` +
        `peak RSS ${res.peakMiB.toFixed(0)} / ${t.value.peakMiB.toFixed(0)} MiB`;
    } else peer = `— (${t.reason})`;
  }
  writeResult('mining-bf16.json', { leaf: res, torch: torchRes });
  return `mining bf16 (${S.student}/${S.teacher}-layer student/teacher, ${S.promptTokens} + ${S.responseTokens} tokens, bf16 weights; PyTorch: both models in bfloat16, ` +
    `forward + backward to the input embeddings per model; median of ${problems}; ratio = leaf time / torch time, goal ≤ 1.00×): ` +
    `leaf ${fmtMs(res.medianMs)}/problem │ PyTorch ${peer}`;
}

if (process.argv[1] && resolve(process.argv[1]) === thisFile) {
  const args = process.argv.slice(2);
  const reduced = args.includes('--reduced');
  const shape = args.includes('--bf16') ? MINING_BF16 : reduced ? MINING_REDUCED : MINING_FULL;
  const n = Number(args.find((a) => a.startsWith('--problems='))?.split('=')[1] ?? (reduced ? 2 : 3));
  const res = runMiningBench(shape, n);
  if (args.includes('--child')) process.stdout.write(JSON.stringify(res) + '\n');
  else process.stdout.write(formatMiningLine(res) + '\n' + JSON.stringify(res) + '\n');
}
