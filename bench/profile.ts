/**
 * Profile mode (run.js --profile): where one forward+backward spends its time.
 *
 * 1. Kernel breakdown: the model runs on a timing proxy of the kernels; every kernel call is timed and
 *    attributed to forward / loss / backward, gemm also per shape. What is left of each part's wall
 *    time is TypeScript model code (residual copies, bias/residual adds, embedding, RoPE tables, ...)
 *    plus allocation; CausalLM.prototype.alloc is wrapped to count what the model allocates.
 * 2. A V8 CPU profile (node:inspector) of another forward+backward: self time per JS function, which
 *    names the TypeScript code behind the non-kernel share (and GC).
 * 3. The PyTorch peer's autograd-profiler breakdown of the same step, when torch is available.
 */
import { Session } from 'node:inspector/promises';
import { getKernels } from '../src/kernels/index.js';
import type { FArray } from '../src/kernels/types.js';
import { backward, zeroGrads } from '../src/model/backward.js';
import { CausalLM } from '../src/model/causal-lm.js';
import { meanCrossEntropy, shiftedTargets } from '../src/model/loss.js';
import { fmtMs, minorFaults, nowMs, peakRssMiB, tokenIds, type BenchConfig } from './common.js';
import { buildModel } from './phases.js';
import { KernelTimer, type CallStat } from './timed-kernels.js';
import { ensureTorch, runPeer } from './torch-peer.js';

export type ProfileTarget = 'params' | 'input';

interface TorchProfile {
  torch: string;
  threads: number;
  ompWaitPolicy?: string;
  partsMs: Record<string, number>;
  minorFaults: number;
  peakMiB: number;
  ops: Array<{ name: string; calls: number; selfMs: number }>;
}

interface AllocStat {
  calls: number;
  bytes: number;
  ms: number;
}

const PARTS = ['forward', 'loss', 'backward'] as const;

function pct(x: number, total: number): string {
  return `${((100 * x) / total).toFixed(1)}%`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function table(header: string[], rows: string[][], rightFrom = 1): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => pad(c, w[i], i >= rightFrom)).join(' │ ');
  return [line(header), w.map((x) => '─'.repeat(x)).join('─┼─'), ...rows.map(line)].join('\n');
}

/** One forward+backward of the profiled model, timed per part, with CausalLM.alloc counted while `record`. */
interface Stepper {
  model: CausalLM;
  timer: KernelTimer;
  partMs: Record<string, number>;
  alloc: AllocStat;
  step(record: boolean): void;
}

function makeStepper(cfg: BenchConfig, target: ProfileTarget, timer: KernelTimer): Stepper {
  const model = buildModel(cfg, timer.wrap(getKernels()));
  const T = cfg.seqLen;
  const ids = tokenIds(T, model.config.vocabSize, cfg.seed);
  const targets = shiftedTargets(ids, null, 1, T);
  const embeds = target === 'input' ? model.embed(ids) : null;
  const grads = target === 'params' ? zeroGrads(model) : null;
  // Count what the model allocates through CausalLM.alloc (the backward pass and forward use it for every buffer).
  const alloc: AllocStat = { calls: 0, bytes: 0, ms: 0 };
  const origAlloc = CausalLM.prototype.alloc;
  let counting = false;
  CausalLM.prototype.alloc = function (this: CausalLM, n: number): FArray {
    if (!counting) return origAlloc.call(this, n);
    const t0 = nowMs();
    const r = origAlloc.call(this, n);
    alloc.ms += nowMs() - t0;
    alloc.calls++;
    alloc.bytes += r.byteLength;
    return r;
  };
  const partMs: Record<string, number> = {};
  const step = (record: boolean): void => {
    counting = record;
    if (grads) for (const g of grads.values()) g.fill(0);
    let t0 = nowMs();
    const lap = (part: string, next: string | null) => {
      const t1 = nowMs();
      if (record) partMs[part] = t1 - t0;
      t0 = t1;
      if (next) timer.phase = next;
    };
    timer.phase = 'forward';
    const out = model.forward(
      embeds
        ? { batch: 1, seqLen: T, inputsEmbeds: embeds, logitRows: 'all', saveForBackward: true }
        : { batch: 1, seqLen: T, inputIds: ids, logitRows: 'all', saveForBackward: true },
    );
    lap('forward', 'loss');
    const logits = out.logits as FArray;
    meanCrossEntropy(model.kernels, logits, targets, model.config.vocabSize, true);
    lap('loss', 'backward');
    backward(model, out.tape!, logits, { inputGrad: embeds !== null, paramGrads: grads });
    lap('backward', null);
    counting = false;
  };
  return { model, timer, partMs, alloc, step };
}

/** The per-kernel table of the recorded step: every kernel's calls, time and share, per part, and the TypeScript remainder. */
function kernelBreakdown(st: Stepper, total: number): { totals: Map<string, CallStat>; kernelSum: number; rows: string[][] } {
  const { timer, partMs, alloc } = st;
  const totals = new Map<string, CallStat>();
  const inPart = new Map<string, number>();
  for (const [key, s] of timer.byKernel) {
    const [part, name] = key.split('\t');
    const k = totals.get(name) ?? { calls: 0, ms: 0, flops: 0 };
    k.calls += s.calls;
    k.ms += s.ms;
    k.flops += s.flops;
    totals.set(name, k);
    inPart.set(part, (inPart.get(part) ?? 0) + s.ms);
  }
  const kernelSum = [...totals.values()].reduce((a, s) => a + s.ms, 0);
  const rows: string[][] = [...totals.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, s]) => {
      const perPart = PARTS.map((p) => {
        const x = timer.byKernel.get(`${p}\t${name}`);
        return x ? fmtMs(x.ms) : '';
      });
      return [name, String(s.calls), fmtMs(s.ms), pct(s.ms, total), ...perPart, s.flops ? `${(s.flops / (s.ms * 1e6)).toFixed(1)}` : ''];
    });
  const nonKernel = PARTS.map((p) => partMs[p] - (inPart.get(p) ?? 0));
  rows.push(['(TypeScript model code, not in a kernel)', '', fmtMs(total - kernelSum), pct(total - kernelSum, total), ...nonKernel.map(fmtMs), '']);
  rows.push(['  of which CausalLM.alloc', String(alloc.calls), fmtMs(alloc.ms), pct(alloc.ms, total), '', '', '', `${(alloc.bytes / 2 ** 20).toFixed(0)} MiB`]);
  rows.push(['total (wall)', '', fmtMs(total), '100%', ...PARTS.map((p) => fmtMs(partMs[p])), '']);
  return { totals, kernelSum, rows };
}

/** GEMM time by shape, the 16 slowest. */
function gemmShapeTable(shapes: Array<[string, CallStat]>, total: number): string {
  return table(
    ['part', 'shape', 'calls', 'time', 'share', 'GFLOP/s'],
    shapes.slice(0, 16).map(([key, s]) => {
      const [part, shape] = key.split('\t');
      return [part, shape, String(s.calls), fmtMs(s.ms), pct(s.ms, total), (s.flops / (s.ms * 1e6)).toFixed(1)];
    }),
    2,
  );
}

/** A V8 CPU profile of one more step: self time per JS function (the 18 largest) and the sampled time. */
async function v8SelfTimes(step: () => void): Promise<{ rows: string[][]; ms: number }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  step();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const selfByFn = new Map<string, number>();
  let hits = 0;
  for (const node of profile.nodes) {
    const h = node.hitCount ?? 0;
    if (!h) continue;
    hits += h;
    const cf = node.callFrame;
    const file = cf.url ? cf.url.replace(/^file:\/\/.*?\/dist\//, 'dist/') : '';
    const key = `${cf.functionName || '(anonymous)'}${file ? `  ${file}:${cf.lineNumber + 1}` : ''}`;
    selfByFn.set(key, (selfByFn.get(key) ?? 0) + h);
  }
  const ms = (profile.endTime - profile.startTime) / 1000;
  const rows = [...selfByFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 18).map(([fn, h]) => [fn, fmtMs((h / hits) * ms), pct(h, hits)]);
  return { rows, ms };
}

/** The PyTorch peer's autograd-profiler breakdown of the same step, or why there is none. */
function torchPeerProfile(cfg: BenchConfig, target: ProfileTarget, withTorch: boolean, log: (s: string) => void): { profile: TorchProfile | null; reason: string } {
  if (!withTorch) return { profile: null, reason: 'disabled (--no-torch)' };
  const t = ensureTorch(log);
  if (!t.ok) return { profile: null, reason: t.reason };
  const r = runPeer<TorchProfile>({ ...cfg, profileTarget: target } as BenchConfig, ['--profile'], 600_000);
  return r.ok ? { profile: r.value, reason: '' } : { profile: null, reason: r.reason };
}

/** leaf's step against the peer's, by matched categories, and the peer's top ops. */
function torchComparison(tp: TorchProfile, totals: Map<string, CallStat>, total: number): string {
  const tTotal = tp.partsMs.total;
  const opSelf = tp.ops.reduce((a, o) => a + o.selfMs, 0);
  const sum = (names: string[]) => tp.ops.filter((o) => names.includes(o.name)).reduce((a, o) => a + o.selfMs, 0);
  const gemmTorch = sum(['aten::mm', 'aten::addmm']);
  const attnTorch = sum(['aten::bmm', 'aten::_softmax', 'aten::_softmax_backward_data']);
  const gemmOurs = totals.get('gemm')?.ms ?? 0;
  const attnOurs = (totals.get('attention')?.ms ?? 0) + (totals.get('attentionBackward')?.ms ?? 0);
  const out: string[] = [];
  out.push(`\nPyTorch ${tp.torch} (${tp.threads} threads, OMP_WAIT_POLICY=${tp.ompWaitPolicy ?? '?'}), same step: forward ${fmtMs(tp.partsMs.forward)}, loss ${fmtMs(tp.partsMs.loss)}, backward ${fmtMs(tp.partsMs.backward)}, total ${fmtMs(tTotal)} (leaf ${fmtMs(total)}, ratio ${(total / tTotal).toFixed(2)}×); minor page faults ${tp.minorFaults}`);
  out.push('Matched categories (torch: autograd-profiler self CPU time of a separate, profiled step, scaled to the unprofiled wall time):');
  const scale = tTotal / opSelf;
  const cat = (name: string, ours: number, theirs: number) => [name, fmtMs(ours), fmtMs(theirs * scale), (ours / (theirs * scale)).toFixed(2) + '×'];
  out.push(table(['category', 'leaf', 'torch', 'leaf/torch'], [
    cat('GEMM (leaf gemm | aten::mm + addmm)', gemmOurs, gemmTorch),
    cat('attention matmuls + softmax (leaf attention* | bmm + softmax)', attnOurs, attnTorch),
    cat('everything else', total - gemmOurs - attnOurs, opSelf - gemmTorch - attnTorch),
    cat('total', total, opSelf),
  ]));
  out.push('Top PyTorch ops by self CPU time (profiled step):');
  out.push(table(['op', 'calls', 'self', 'share'], tp.ops.slice(0, 15).map((o) => [o.name, String(o.calls), fmtMs(o.selfMs), pct(o.selfMs, opSelf)])));
  return out.join('\n');
}

export async function runProfile(
  cfg: BenchConfig, target: ProfileTarget, withTorch: boolean, log: (s: string) => void, print: (s: string) => void,
): Promise<Record<string, unknown>> {
  const timer = new KernelTimer();
  const st = makeStepper(cfg, target, timer);
  log(`profile: warm-up forward+backward (${cfg.layers} layers, ${cfg.seqLen} tokens, target ${target}) …`);
  st.step(false);
  timer.enabled = true;
  const f0 = minorFaults();
  st.step(true);
  const faults = minorFaults() - f0;
  timer.enabled = false;
  const total = st.partMs.forward + st.partMs.loss + st.partMs.backward;
  const kernels = getKernels().name;
  const k = kernelBreakdown(st, total);
  const shapes = [...timer.byGemmShape.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const cpu = await v8SelfTimes(() => st.step(false));
  print([
    `\nPer-kernel time of one forward+backward (${target === 'params' ? 'to all parameters' : 'to inputs_embeds only'}), kernels "${kernels}", ${cfg.layers} layers × ${cfg.seqLen} tokens`,
    table(['kernel', 'calls', 'time', 'share', 'forward', 'loss', 'backward', 'GFLOP/s'], k.rows),
    `minor page faults during the step: ${faults} (≈ ${((faults * 4096) / 2 ** 20).toFixed(0)} MiB of first-touched pages)`,
    '\nGEMM by shape (m×n×k; NT = x·Wᵀ, NN = dY·W, TN = dYᵀ·x weight gradients)', gemmShapeTable(shapes, total),
    `\nV8 CPU profile of one more step (${fmtMs(cpu.ms)} sampled): self time per function`, table(['function (dist/ file:line)', 'self', 'share'], cpu.rows),
  ].join('\n'));
  const torch = torchPeerProfile(cfg, target, withTorch, log);
  print(torch.profile ? torchComparison(torch.profile, k.totals, total) : `\nPyTorch profile unavailable: ${torch.reason}`);
  return {
    mode: 'profile', target, kernels, config: cfg, partsMs: st.partMs, totalMs: total, minorFaults: faults,
    peakMiB: peakRssMiB(),
    kernelsMs: Object.fromEntries([...k.totals.entries()].map(([name, s]) => [name, s])),
    byPart: Object.fromEntries([...timer.byKernel.entries()].map(([key, s]) => [key.replace('\t', ' '), s])),
    gemmShapes: Object.fromEntries(shapes.map(([key, s]) => [key.replace('\t', ' '), s])),
    nonKernelMs: total - k.kernelSum, alloc: st.alloc,
    cpuProfile: cpu.rows.map(([fn, ms, share]) => ({ fn, ms, share })),
    torch: torch.profile ?? { unavailable: torch.reason },
  };
}
