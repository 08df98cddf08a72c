/**
 * leaf's benchmark: SmolLM2-135M-shaped model (random weights), batch 1, on the kernels getKernels()
 * picks, against a plain-PyTorch peer (bench/torch_peer.py) on the same shapes in the same run.
 *
 *   npm run bench                        full benchmark (reduced configuration on the JS fallback)
 *   node dist/bench/run.js --profile     per-kernel time of one forward+backward (+ V8 and torch profiles)
 *
 * Flags: --no-torch, --quick (reduced configuration), --full (full configuration even on the JS fallback),
 * --layers=N --seq=N --reps=N, --profile-target=params|input, --out=FILE, --no-bf16 (skip the bfloat16 rows),
 * --no-training, --big (also the opt-in 8B-shape saliency row: bench/big.ts, ~19 GB of memory).
 * See bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getKernels } from '../src/kernels/index.js';
import type { Kernels } from '../src/kernels/types.js';
import { FULL_CONFIG, REDUCED_CONFIG, cpuMs, fmtMs, machineBusyMs, median, nowMs, type BenchConfig } from './common.js';
import { runGemmProbe, type GemmResult } from './gemm-probe.js';
import { MODEL_PHASES, runPhase, type ModelPhase, type PhaseResult } from './phases.js';
import { runProfile, type ProfileTarget } from './profile.js';
import { ensureTorch, runPeer } from './torch-peer.js';
import { miningBenchLine, miningBf16Line } from './mining.js';
import { shardingBenchLine } from './sharding.js';
import { printTrainingBench } from './training.js';
import { addBf16Rows, bf16Config, bf16Summary, runBf16Phases, runBigChild, type AddRow } from './bf16-rows.js';

interface PeerInfo {
  torch: string;
  threads: number;
  blas: string;
  ompWaitPolicy: string;
}

interface Args {
  child: string | null;
  config: BenchConfig | null;
  profile: boolean;
  profileTarget: ProfileTarget;
  torch: boolean;
  quick: boolean;
  full: boolean;
  layers: number | null;
  seq: number | null;
  reps: number | null;
  out: string | null;
  bf16: boolean;
  big: boolean;
}

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = resolve(dirname(thisFile), '..', '..');

function parseArgs(argv: string[]): Args {
  const a: Args = {
    child: null, config: null, profile: false, profileTarget: 'params', torch: true, quick: false, full: false,
    layers: null, seq: null, reps: null, out: null, bf16: true, big: false,
  };
  const int = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${v}`);
    return n;
  };
  for (const arg of argv) {
    const [k, v = ''] = arg.split(/=(.*)/s, 2);
    switch (k) {
      case '--child': a.child = v; break;
      case '--config': a.config = JSON.parse(v) as BenchConfig; break;
      case '--profile': a.profile = true; break;
      case '--profile-target':
        if (v !== 'params' && v !== 'input') throw new Error('--profile-target is params or input');
        a.profileTarget = v;
        break;
      case '--no-torch': a.torch = false; break;
      case '--quick': a.quick = true; break;
      case '--full': a.full = true; break;
      case '--layers': a.layers = int(k, v); break;
      case '--seq': a.seq = int(k, v); break;
      case '--reps': a.reps = int(k, v); break;
      case '--out': a.out = v; break;
      case '--no-mining': break; // skips the mining line (read in main)
      case '--no-sharding': break; // skips the sharding line (read in main)
      case '--no-bf16': a.bf16 = false; break;
      case '--no-training': break; // skips the training bench (read in main)
      case '--big': a.big = true; break;
      case '--help': case '-h':
        process.stdout.write(
          'usage: node dist/bench/run.js [--profile [--profile-target=params|input]] [--no-torch] [--quick|--full]\n' +
            '                             [--layers=N] [--seq=N] [--reps=N] [--out=FILE]\n',
        );
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${arg} (try --help)`);
    }
  }
  return a;
}

function chooseConfig(a: Args, kernelName: string): BenchConfig {
  const useFull = a.full || (!a.quick && kernelName !== 'js');
  const cfg: BenchConfig = { ...(useFull ? FULL_CONFIG : REDUCED_CONFIG) };
  if (a.layers !== null) cfg.layers = a.layers;
  if (a.seq !== null) {
    cfg.seqLen = a.seq;
    cfg.promptLen = Math.min(cfg.promptLen, a.seq);
  }
  if (a.reps !== null) {
    cfg.reps = a.reps;
    cfg.decodeReps = a.reps;
  }
  cfg.reduced = !(cfg.layers === FULL_CONFIG.layers && cfg.seqLen === FULL_CONFIG.seqLen &&
    cfg.promptLen === FULL_CONFIG.promptLen && cfg.newTokens === FULL_CONFIG.newTokens);
  return cfg;
}

const log = (s: string) => process.stderr.write(s + '\n');

/** Runs one measurement in a fresh Node process (so its peak RSS is its own). */
function runChild(phase: string, cfg: BenchConfig, kernelName: string): PhaseResult | { gemm: GemmResult[]; cpuMs: number } {
  const r = spawnSync(process.execPath, [thisFile, `--child=${phase}`, `--config=${JSON.stringify(cfg)}`], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 1024 * 1024,
    // The parent already chose (and warned about) the kernels; the children use the same ones, silently.
    env: { ...process.env, LEAF_KERNELS: kernelName },
  });
  if (r.status !== 0) throw new Error(`bench child ${phase} failed (${r.status ?? r.signal})`);
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`bench child ${phase} printed no result`);
  return JSON.parse(line) as PhaseResult | { gemm: GemmResult[]; cpuMs: number };
}

function childMain(a: Args): void {
  const cfg = a.config ?? FULL_CONFIG;
  const res = a.child === 'gemm' ? { gemm: runGemmProbe(cfg), cpuMs: cpuMs() } : runPhase(a.child as ModelPhase, cfg);
  process.stdout.write(JSON.stringify(res) + '\n');
}

/** The native kernels' info() (BLAS library, threads), when the implementation has one. */
function kernelDiagnostics(k: Kernels): string {
  const info = (k as Kernels & { info?: unknown }).info;
  if (typeof info !== 'function') return '';
  try {
    return String(info.call(k));
  } catch {
    return '';
  }
}

function fmtRatio(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`;
}

function renderTable(rows: string[][]): string {
  const header = ['measurement', 'leaf', 'PyTorch', 'ratio', 'best'];
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' │ ');
  return [line(header), w.map((x) => '─'.repeat(x)).join('─┼─'), ...rows.map(line)].join('\n');
}

/** The peer's availability, its failures during the run, and the CPU time of every measurement process (ours and its). */
interface Session {
  cfg: BenchConfig;
  kernelName: string;
  peerInfo: PeerInfo | null;
  peerReason: string;
  peerFailures: string[];
  ownCpu: number;
}

/** Everything measured: the model phases (float32 and bf16), the GEMM probes and the machine's foreign load. */
interface Measurements {
  ours: Record<string, PhaseResult>;
  theirs: Record<string, PhaseResult>;
  oursBf: Record<string, PhaseResult>;
  theirsBf: Record<string, PhaseResult>;
  bcfg: BenchConfig;
  ourGemm: GemmResult[];
  theirGemm: GemmResult[] | null;
  foreignCpuMs: number | null;
  wallMs: number;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) return childMain(a);
  const kernels = getKernels();
  const cfg = chooseConfig(a, kernels.name);
  const kernelInfo = kernelDiagnostics(kernels);
  warnIfFallback(kernels.name, cfg);
  const outFile = a.out ?? resolve(repoRoot, 'dist', 'bench-results', a.profile ? 'profile.json' : 'latest.json');
  const started = nowMs();
  if (a.profile) return profileMain(a, cfg, outFile, started);

  announce(cfg);
  const session = openSession(a, cfg, kernels.name);
  const m = measure(a, session, started);
  const { rows, json } = buildTable(session, m);
  process.stdout.write(report(session, m, kernelInfo, rows) + '\n');
  if (!process.argv.includes('--no-mining')) {
    process.stdout.write(miningBenchLine(kernels.name, cfg.reduced, log) + '\n');
    if (a.bf16) process.stdout.write(miningBf16Line(kernels.name, session.peerInfo !== null, log) + '\n');
  }
  if (!process.argv.includes('--no-sharding')) process.stdout.write((await shardingBenchLine()).line + '\n');
  writeResults(outFile, session, m, kernelInfo, json);
  if (!process.argv.includes('--no-training')) printTrainingBench({ quick: a.quick, torch: a.torch, reps: a.reps, bf16: a.bf16 }, log);
  if (a.big) process.stdout.write(runBigChild(log) + '\n');
}

function warnIfFallback(kernelName: string, cfg: BenchConfig): void {
  if (kernelName !== 'js') return;
  log('WARNING: running on the pure-TypeScript fallback kernels ("js"); these numbers are NOT representative of leaf ' +
    'with the native addon (run `npm run build:native`). ' + (cfg.reduced ? 'Using a reduced configuration so that it finishes.' : ''));
}

async function profileMain(a: Args, cfg: BenchConfig, outFile: string, started: number): Promise<void> {
  const res = await runProfile(cfg, a.profileTarget, a.torch, log, (s) => process.stdout.write(s + '\n'));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ ...res, date: new Date().toISOString(), wallMs: nowMs() - started }, null, 2) + '\n');
  log(`\nwrote ${outFile}`);
}

function announce(cfg: BenchConfig): void {
  log(`leaf bench: kernels "${getKernels().name}", ${cfg.layers} layers, ${cfg.seqLen} tokens, decode ${cfg.promptLen}+${cfg.newTokens}, ` +
    `${cfg.reps} reps (decode ${cfg.decodeReps}) after one warm-up, median reported${cfg.reduced ? ' [REDUCED CONFIGURATION]' : ''}`);
  const load = loadAverage();
  if (load !== null && load > 0.5) {
    log(`note: the 1-minute load average is ${load.toFixed(2)} on ${cpuCount()} CPUs: other work is running, timings will be noisy.`);
  }
}

/** Is the PyTorch peer usable? (Installs python3-torch when root and missing.) */
function openSession(a: Args, cfg: BenchConfig, kernelName: string): Session {
  const s: Session = { cfg, kernelName, peerInfo: null, peerReason: '', peerFailures: [], ownCpu: 0 };
  if (a.torch) {
    const t = ensureTorch(log);
    if (t.ok) {
      const r = runPeer<PeerInfo>(cfg, ['--info'], 300_000);
      if (r.ok) s.peerInfo = r.value;
      else s.peerReason = r.reason;
    } else {
      s.peerReason = t.reason;
    }
  } else {
    s.peerReason = 'disabled (--no-torch)';
  }
  if (!s.peerInfo) log(`PyTorch peer unavailable: ${s.peerReason}; showing leaf's numbers only.`);
  return s;
}

/** One measurement of ours in a fresh process (its CPU time counted as ours). */
function leafStep<T extends { cpuMs: number }>(s: Session, phase: string, config: BenchConfig = s.cfg): T {
  const o = runChild(phase, config, s.kernelName) as unknown as T;
  s.ownCpu += o.cpuMs;
  return o;
}

/** One measurement of the peer (null when it is unavailable or failed; failures are collected). */
function peerStep<T extends { cpuMs?: number }>(s: Session, args: string[], what: string, config: BenchConfig = s.cfg): T | null {
  if (!s.peerInfo) return null;
  log(`  torch ${what} …`);
  const r = runPeer<T>(config, args, 600_000);
  if (!r.ok) {
    s.peerFailures.push(`${what}: ${r.reason}`);
    log(`    failed: ${r.reason}`);
    return null;
  }
  s.ownCpu += r.value.cpuMs ?? 0;
  return r.value;
}

/**
 * Every measurement in a fresh process, leaf's and torch's interleaved so that both see the same machine
 * conditions (other work on the box shows up as noise on both sides, not on one): the float32 phases, the
 * bfloat16 phases (leaf bf16 weights against torch's whole model in bfloat16, fewer repetitions), the GEMMs.
 */
function measure(a: Args, s: Session, started: number): Measurements {
  const busy0 = machineBusyMs();
  s.ownCpu = cpuMs();
  const ours: Record<string, PhaseResult> = {};
  const theirs: Record<string, PhaseResult> = {};
  for (const phase of MODEL_PHASES) {
    log(`  leaf ${phase} …`);
    const o = (ours[phase] = leafStep<PhaseResult>(s, phase));
    log(`    median ${fmtMs(o.timing.medianMs)} (min ${fmtMs(o.timing.minMs)}), peak RSS ${o.peakMiB.toFixed(0)} MiB (model init ${fmtMs(o.initMs)})`);
    const t = peerStep<PhaseResult>(s, ['--phase', phase], phase);
    if (t) {
      theirs[phase] = t;
      log(`    median ${fmtMs(t.timing.medianMs)} (min ${fmtMs(t.timing.minMs)}), peak RSS ${t.peakMiB.toFixed(0)} MiB`);
    }
  }
  const bcfg = bf16Config(s.cfg);
  const { ours: oursBf, theirs: theirsBf } = runBf16Phases(a.bf16, log, (phase) => leafStep<PhaseResult>(s, phase, bcfg),
    (phase) => peerStep<PhaseResult>(s, ['--phase', phase], `${phase} (bfloat16)`, bcfg));
  const { ourGemm, theirGemm } = measureGemm(s, GEMM_ROUNDS);
  const busy1 = machineBusyMs();
  const foreignCpuMs = busy0 !== null && busy1 !== null ? Math.max(0, busy1 - busy0 - s.ownCpu) : null;
  return { ours, theirs, oursBf, theirsBf, bcfg, ourGemm, theirGemm, foreignCpuMs, wallMs: nowMs() - started };
}

/** Rounds of the GEMM probes, leaf's and torch's alternating (a single pass each saw a different load: ratios swung 0.3–2.8× between rounds). */
const GEMM_ROUNDS = 3;

/** The GEMM probes in alternating rounds; per shape the median over rounds of each round's median, and the fastest sample of all. */
function measureGemm(s: Session, rounds: number): { ourGemm: GemmResult[]; theirGemm: GemmResult[] | null } {
  const ours: GemmResult[][] = [], theirs: GemmResult[][] = [];
  for (let r = 0; r < rounds; r++) {
    log(`  leaf gemm (round ${r + 1} of ${rounds}) …`);
    ours.push(leafStep<{ gemm: GemmResult[]; cpuMs: number }>(s, 'gemm').gemm);
    const t = peerStep<{ gemm: GemmResult[]; cpuMs: number }>(s, ['--gemm'], `gemm (round ${r + 1} of ${rounds})`)?.gemm;
    if (t) theirs.push(t);
  }
  return { ourGemm: mergeGemmRounds(ours), theirGemm: theirs.length ? mergeGemmRounds(theirs) : null };
}

function mergeGemmRounds(rounds: GemmResult[][]): GemmResult[] {
  return rounds[0].map((g, i) => {
    const ms = median(rounds.map((r) => r[i].ms));
    const minMs = Math.min(...rounds.map((r) => r[i].minMs ?? r[i].ms));
    return { ...g, ms, minMs, gflops: (2 * g.m * g.n * g.k) / (ms * 1e6) };
  });
}

/** The table's rows (and their JSON form): the float32 phases, peak memory, the bf16 rows, the GEMM shapes. */
function buildTable(s: Session, m: Measurements): { rows: string[][]; json: Array<Record<string, unknown>> } {
  const rows: string[][] = [];
  const json: Array<Record<string, unknown>> = [];
  const add: AddRow = (name, unit, ours, theirs, higherIsBetter, fmt, best) => {
    const ratio = theirs === null ? null : higherIsBetter ? theirs / ours : ours / theirs;
    const bestRatio = best && best[1] !== null ? best[0] / best[1] : null;
    rows.push([name, fmt(ours), theirs === null ? '—' : fmt(theirs), fmtRatio(ratio), fmtRatio(bestRatio)]);
    json.push({ measurement: name, unit, leaf: ours, torch: theirs, ratio, ratioMeaning: higherIsBetter ? 'torch/leaf' : 'leaf/torch', ratioOfBest: bestRatio });
  };
  const labels = phaseLabels(s.cfg);
  addPhaseRows(m.ours, m.theirs, labels, add);
  addBf16Rows(m.oursBf, m.theirsBf, labels, add);
  const gf = (x: number) => `${x.toFixed(1)} GFLOP/s`;
  for (const g of m.ourGemm) {
    const t = m.theirGemm?.find((x) => x.name === g.name) ?? null;
    add(`GEMM ${g.name} ${g.transA ? 'T' : 'N'}${g.transB ? 'T' : 'N'} ${g.m}×${g.n}×${g.k}`, 'GFLOP/s', g.gflops, t?.gflops ?? null, true, gf,
      g.minMs !== undefined && t?.minMs !== undefined ? [g.minMs, t.minMs] : undefined);
  }
  return { rows, json };
}

function phaseLabels(cfg: BenchConfig): Record<ModelPhase, string> {
  return {
    forward: `(a) forward, ${cfg.seqLen} tokens, logits for all`,
    'backward-input': '(b) fwd+bwd → inputs_embeds only',
    'backward-params': '(c) fwd+bwd → all parameters',
    decode: `(d) greedy decode ${cfg.newTokens} new (prompt ${cfg.promptLen}), tok/s`,
  };
}

/** The float32 rows: time per phase, decode throughput, peak memory. */
function addPhaseRows(ours: Record<string, PhaseResult>, theirs: Record<string, PhaseResult>, labels: Record<ModelPhase, string>, add: AddRow): void {
  const tp = (p: ModelPhase): PhaseResult | null => theirs[p] ?? null;
  for (const p of ['forward', 'backward-input', 'backward-params'] as const) {
    add(labels[p], 'ms', ours[p].timing.medianMs, tp(p)?.timing.medianMs ?? null, false, fmtMs, [ours[p].timing.minMs, tp(p)?.timing.minMs ?? null]);
  }
  const tps = (x: number) => `${x.toFixed(1)} tok/s`;
  const dOurs = ours.decode, dTheirs = tp('decode');
  add(labels.decode, 'tokens/s', dOurs.extra.tokensPerSec, dTheirs?.extra.tokensPerSec ?? null, true, tps, [dOurs.timing.minMs, dTheirs?.timing.minMs ?? null]);
  add('    decode only (excl. prefill), tok/s', 'tokens/s', dOurs.extra.decodeOnlyTokensPerSec, dTheirs?.extra.decodeOnlyTokensPerSec ?? null, true, tps);
  add('    prefill of the prompt', 'ms', dOurs.extra.prefillMs, dTheirs?.extra.prefillMs ?? null, false, fmtMs);
  const mib = (x: number) => `${x.toFixed(0)} MiB`;
  for (const p of MODEL_PHASES) {
    add(`peak RSS ${p} (goal ratio ≤ 1.30)`, 'MiB', ours[p].peakMiB, tp(p)?.peakMiB ?? null, false, mib);
  }
  add('RSS after model init (before measuring)', 'MiB', ours.forward.rssAfterInitMiB, tp('forward')?.rssAfterInitMiB ?? null, false, mib);
}

/** The printed report: what ran on which side, the table, the foreign load, failures, the bf16 summary. */
function report(s: Session, m: Measurements, kernelInfo: string, rows: string[][]): string {
  const { cfg, peerInfo } = s;
  const out: string[] = [''];
  if (s.kernelName === 'js') out.push('WARNING: kernels = js (TypeScript fallback): NOT representative of the native addon.');
  out.push(`leaf kernels: ${s.kernelName}${kernelInfo ? ` (${kernelInfo})` : ''}`);
  out.push(`PyTorch: ${peerInfo ? `${peerInfo.torch}, ${peerInfo.threads} threads, OMP_WAIT_POLICY=${peerInfo.ompWaitPolicy || 'default'}, BLAS ${peerInfo.blas}` : `unavailable (${s.peerReason})`}`);
  out.push(`model: SmolLM2-135M shapes, ${cfg.layers} layers${cfg.reduced ? ' (REDUCED CONFIGURATION)' : ''}, batch 1, float32, random weights; ` +
    `median of ${cfg.reps} (decode ${cfg.decodeReps}) after one warm-up; each measurement in a fresh process, leaf and torch interleaved.`);
  out.push('ratio: times and memory leaf/torch, throughputs (tok/s, GFLOP/s) torch/leaf — ≤ 1.00× means leaf is at least at parity. ' +
    '"best" = the same ratio on the fastest repetition of each side.');
  out.push(renderTable(rows));
  if (m.foreignCpuMs !== null) {
    const share = m.foreignCpuMs / (m.wallMs * cpuCount());
    out.push(`other processes used ${(m.foreignCpuMs / 1000).toFixed(1)} CPU-s during the bench (${(100 * share).toFixed(1)}% of the machine)` +
      (share > 0.05 ? ' — the box was not quiet: expect noise, compare the "best" column.' : '.'));
  }
  if (s.peerFailures.length) out.push(`PyTorch peer failures: ${s.peerFailures.join('; ')}`);
  if (Object.keys(m.oursBf).length) out.push(bf16Summary(m.ours, m.oursBf, m.bcfg));
  return out.join('\n');
}

function writeResults(outFile: string, s: Session, m: Measurements, kernelInfo: string, json: Array<Record<string, unknown>>): void {
  const result = {
    date: new Date().toISOString(),
    kernels: s.kernelName,
    kernelInfo,
    representative: s.kernelName !== 'js' && !s.cfg.reduced,
    config: s.cfg,
    node: process.version,
    torch: s.peerInfo ?? { unavailable: s.peerReason },
    table: json,
    leaf: { phases: m.ours, gemm: m.ourGemm, bf16: m.oursBf },
    peer: s.peerInfo ? { phases: m.theirs, gemm: m.theirGemm, bf16: m.theirsBf, failures: s.peerFailures } : null,
    foreignCpuMs: m.foreignCpuMs,
    wallMs: m.wallMs,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  log(`\nwrote ${outFile} (bench took ${fmtMs(m.wallMs)})`);
}

function loadAverage(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

function cpuCount(): number {
  return Math.max(1, availableParallelism());
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
