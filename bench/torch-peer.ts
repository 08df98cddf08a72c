/**
 * Finding (or installing) PyTorch and running bench/torch_peer.py, which prints one JSON object on stdout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './common.js';

/** bench/torch_peer.py, found from dist/bench/*.js (compiled) or bench/*.ts. */
export function peerScriptPath(): string {
  for (const rel of ['../../bench/torch_peer.py', './torch_peer.py']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('bench/torch_peer.py not found');
}

/** The interpreter with Debian's torch (LEAF_BENCH_PYTHON overrides). */
export function peerPython(): string {
  return process.env.LEAF_BENCH_PYTHON ?? '/usr/bin/python3';
}

function hasTorch(py: string): boolean {
  const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 });
  return r.status === 0;
}

/**
 * Whether the peer can run. When torch is missing and we are root, installs Debian's python3-torch with
 * apt-get (running apt-get update once if the first attempt fails).
 */
export function ensureTorch(log: (s: string) => void): { ok: boolean; reason: string } {
  const py = peerPython();
  if (hasTorch(py)) return { ok: true, reason: '' };
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || process.env.LEAF_BENCH_PYTHON) {
    return { ok: false, reason: `${py} cannot import torch${root ? '' : ' (and we are not root, so python3-torch is not installed automatically)'}` };
  }
  log(`PyTorch missing for ${py}; installing Debian's python3-torch with apt-get …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-torch'], { stdio: ['ignore', 'inherit', 'inherit'], env }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'], env });
    install();
  }
  if (hasTorch(py)) return { ok: true, reason: '' };
  return { ok: false, reason: `apt-get install python3-torch did not make torch importable for ${py}` };
}

/** Runs torch_peer.py with the benchmark config and extra arguments; returns its parsed JSON (the last JSON line on stdout). */
export function runPeer<T>(cfg: BenchConfig, args: string[], timeoutMs: number): { ok: true; value: T } | { ok: false; reason: string } {
  const r = spawnSync(peerPython(), [peerScriptPath(), '--config', JSON.stringify(cfg), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: timeoutMs,
    encoding: 'utf8',
  });
  if (r.error) return { ok: false, reason: `torch_peer.py: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `torch_peer.py exited with ${r.status ?? r.signal}` };
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) return { ok: false, reason: 'torch_peer.py printed no JSON' };
  try {
    return { ok: true, value: JSON.parse(line) as T };
  } catch (e) {
    return { ok: false, reason: `torch_peer.py printed bad JSON (${(e as Error).message})` };
  }
}
