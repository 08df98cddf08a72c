#!/usr/bin/env node
// Builds leaf's native kernel addon (build/Release/leaf_native.node) with node-gyp.
//
//   node scripts/build-native.mjs          the package's install script: on any failure (no C++
//                                          compiler, no OpenBLAS, no node-gyp, no Node headers) it
//                                          prints one line and exits 0, and leaf falls back to its
//                                          TypeScript kernels.
//   node scripts/build-native.mjs --force  npm run build:native: shows node-gyp's output and fails
//                                          loudly (exit 1) if the addon cannot be built or loaded.
//
// Works offline: node-gyp comes from npm itself (npm_config_node_gyp inside npm scripts, else the
// copy bundled with the npm that sits next to this node binary), and the Node headers from the
// installation's include/node when present (npm_config_nodedir, when npm sets it, wins).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const force = process.argv.includes('--force');
const verbose = force || process.argv.includes('--verbose') || process.env.LEAF_BUILD_VERBOSE === '1';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'leaf_native.node');
const logFile = join(root, 'build', 'native-build.log');
const HOW =
  'install a C++ compiler, make and OpenBLAS (Debian/Ubuntu: apt-get install g++ make libopenblas-dev; ' +
  'Fedora: dnf install gcc-c++ make openblas-devel; macOS: xcode-select --install) and run `npm run build:native`';

function fail(reason, log) {
  if (log) {
    try {
      mkdirSync(dirname(logFile), { recursive: true });
      writeFileSync(logFile, log);
    } catch {
      // no log then
    }
  }
  if (force) {
    console.error(`leaf: building the native kernels failed: ${reason}`);
    process.exit(1);
  }
  // Never leave a half-built or unloadable addon behind: the loader would then report it at every run.
  rmSync(addon, { force: true });
  const where = log && existsSync(logFile) ? ` (log: ${logFile})` : '';
  console.log(`leaf: native kernels unavailable (${reason})${where}; using the slower TypeScript kernels. For the fast path, ${HOW}.`);
  process.exit(0);
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a local dependency
  }
  const execDir = dirname(process.execPath);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(
    join(execDir, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(execDir, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  // The npm on PATH, when it is not installed next to this node (e.g. a separately upgraded npm).
  for (const dir of (process.env.PATH ?? '').split(process.platform === 'win32' ? ';' : ':')) {
    if (!dir) continue;
    const npm = join(dir, 'npm');
    if (!existsSync(npm)) continue;
    try {
      candidates.push(join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch {
      // dangling link
    }
  }
  return candidates.find((c) => c && c.endsWith('.js') && existsSync(c)) ?? null;
}

/** --nodedir for node-gyp when this Node installation ships its headers (so nothing is downloaded). */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return null; // npm passes it to node-gyp itself
  const prefix = resolve(dirname(process.execPath), '..');
  const ok = existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'common.gypi'));
  return ok ? prefix : null;
}

/** The most telling line of a failed build's output. */
function firstError(out) {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  const patterns = [
    /fatal error: .*/,
    /Could not find any Python installation.*/,
    /cannot find -l[\w.+-]+/,
    /error: .*/,
    /not found: \S+/,
    /gyp ERR! (?:stack )?Error: .*/,
    /command not found.*/,
  ];
  for (const re of patterns) {
    for (const l of lines) {
      const m = l.match(re);
      if (m) return m[0].slice(0, 200);
    }
  }
  return 'node-gyp failed';
}

/** An executable on PATH (or the path itself when it contains a slash), else null. */
function which(cmd) {
  if (cmd.includes('/') || cmd.includes('\\')) return existsSync(cmd) ? cmd : null;
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (process.env.PATH ?? '').split(process.platform === 'win32' ? ';' : ':')) {
    for (const ext of exts) if (dir && existsSync(join(dir, cmd + ext))) return join(dir, cmd + ext);
  }
  return null;
}

if (process.platform !== 'win32') {
  const cxx = process.env.CXX ? process.env.CXX.trim().split(/\s+/)[0] : null;
  if (cxx ? !which(cxx) : !['c++', 'g++', 'clang++'].some((c) => which(c))) {
    fail(cxx ? `the C++ compiler CXX=${cxx} does not exist` : 'no C++ compiler found (c++, g++ or clang++)');
  }
  if (!which('make')) fail('make not found');
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp not found (it ships with npm)');

const args = [nodeGyp, 'rebuild', '--jobs=max'];
const nodedir = localNodeDir();
if (nodedir) args.push(`--nodedir=${nodedir}`);
if (!verbose) args.push('--loglevel=error');

const res = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  env: process.env,
});
const log = verbose ? '' : `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
if (res.error) fail(`cannot run node-gyp: ${res.error.message}`, log);
if (res.status !== 0) fail(verbose ? `node-gyp exited with status ${res.status}` : firstError(log), log);
if (!existsSync(addon)) fail(`node-gyp succeeded but ${addon} is missing`, log);

// Load it in a child process and run a 2×2 GEMM: catches a missing libopenblas at run time, ABI trouble, …
const check = spawnSync(
  process.execPath,
  [
    '-e',
    `const a = require(${JSON.stringify(addon)});
     const x = new Float32Array([1, 2, 3, 4]), c = new Float32Array(4);
     a.gemm(false, false, 2, 2, 2, 1, x, 2, x, 2, 0, c, 2);
     if (c.join() !== '7,10,15,22') throw new Error('gemm self-test gave ' + c.join());
     console.log(a.info());`,
  ],
  { encoding: 'utf8' },
);
if (check.status !== 0) {
  const msg = (check.stderr || '').split('\n').find((l) => /Error|error/.test(l)) ?? `exit status ${check.status}`;
  fail(`the built addon does not load: ${msg.trim().slice(0, 200)}`, `${log}\n${check.stdout}\n${check.stderr}`);
}
console.log(`leaf: native kernels built (${check.stdout.trim()})`);
