/**
 * Does mining in bf16 flag the same tokens as mining in float32? Gradient saliency of a teacher and a
 * student (random weights, SmolLM2-135M widths, a few layers) on random prompts, once with float32 weights
 * and once with the same weights rounded to bfloat16; per prompt: Spearman rank correlation of the
 * mining score D = minmax(minmax(teacher) − minmax(student)) (and of each model's raw saliency) between
 * the two, and the overlap |A ∩ B| / |A ∪ B| of the tokens flagged at q = 0.10 (D ≤ the 0.10-quantile,
 * leaf mine's default rule).
 *
 *   node dist/bench/bf16-agreement.js [--prompts=N] [--layers=N] [--tokens=N]
 */
import { getKernels } from '../src/kernels/index.js';
import { inputSaliency } from '../src/method/saliency.js';
import { flagCandidates, normalisedDiff } from '../src/method/normalize.js';
import { CausalLM } from '../src/model/causal-lm.js';
import { parseConfig } from '../src/model/config.js';
import { randomModel } from '../src/model/random-init.js';
import { isMatrixShape, toBf16, type Weight } from '../src/model/weights.js';
import { median, smolLM2Config, tokenIds } from './common.js';

/** Ranks (ties get their mean rank). */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a), rb = ranks(b), n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

function bf16Copy(m: CausalLM): CausalLM {
  const params = new Map<string, Weight>();
  for (const s of m.specs) params.set(s.name, isMatrixShape(s.shape) ? toBf16(m.param(s.name) as Float32Array) : m.param(s.name));
  return new CausalLM(m.config, params, m.kernels);
}

function flagged(diff: number[]): Set<number> {
  return new Set(flagCandidates(diff, diff.map(() => false), { kind: 'quantile', q: 0.1 }).candidates);
}

function main(argv: string[]): void {
  const arg = (k: string, d: number) => Number(argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
  const prompts = arg('prompts', 8), layers = arg('layers', 4), T = arg('tokens', 128), R = 32;
  const config = parseConfig(smolLM2Config(layers), 'agreement');
  const K = getKernels();
  const teacher = randomModel(config, K, Float32Array, { seed: 11 }), student = randomModel(config, K, Float32Array, { seed: 12 });
  const pairs = { f32: [teacher, student], bf16: [bf16Copy(teacher), bf16Copy(student)] };
  const rows: Array<{ d: number; teacher: number; student: number; overlap: number }> = [];
  for (let p = 0; p < prompts; p++) {
    const ids = Array.from(tokenIds(T + R, config.vocabSize, 100 + p));
    const scored = Array.from({ length: T }, (_, i) => i), loss = Array.from({ length: R }, (_, i) => T + i);
    const sal = (k: 'f32' | 'bf16') => pairs[k].map((m) => inputSaliency(m, ids, scored, loss).norms);
    const [t32, s32] = sal('f32'), [t16, s16] = sal('bf16');
    const d32 = normalisedDiff(s32, t32).diff, d16 = normalisedDiff(s16, t16).diff;
    const a = flagged(d32), b = flagged(d16);
    const inter = [...a].filter((i) => b.has(i)).length;
    rows.push({ d: spearman(d32, d16), teacher: spearman(t32, t16), student: spearman(s32, s16), overlap: inter / (a.size + b.size - inter) });
  }
  const stat = (k: keyof (typeof rows)[number]) => {
    const xs = rows.map((r) => r[k]);
    return `median ${median(xs).toFixed(4)}, min ${Math.min(...xs).toFixed(4)}`;
  };
  process.stdout.write(
    `bf16 vs float32 mining agreement (${prompts} random prompts of ${T} scored + ${R} loss tokens, SmolLM2-135M widths, ${layers} layers, random weights):\n` +
    `  Spearman of D per prompt: ${stat('d')}; of teacher saliency: ${stat('teacher')}; of student saliency: ${stat('student')}\n` +
    `  flagged tokens at q = 0.10, Jaccard overlap per prompt: ${stat('overlap')}\n` + JSON.stringify(rows) + '\n',
  );
}

main(process.argv.slice(2));
