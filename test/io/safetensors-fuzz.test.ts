/**
 * Fuzz test of the safetensors reader: thousands of seeded mutations of a small valid file (bit
 * flips, byte overwrites, truncation, header-length corruption, structured JSON edits, invalid
 * UTF-8, inserted/deleted bytes, appended garbage, and combinations). For each mutant the reader
 * must either succeed (and then read every tensor consistently) or throw a LeafError; any other
 * exception fails the test, and so does a hang: the loop runs in a worker thread that publishes
 * its iteration number, and a watchdog terminates it when one mutant takes more than a few seconds.
 *
 * Environment: LEAF_FUZZ_SEED (default 20240601), LEAF_FUZZ_ITERATIONS (default 20000).
 * A failing mutant is kept in os.tmpdir()/leaf-fuzz-failures/ and reproduced by its iteration
 * number (each mutant is a pure function of the base file, the seed and the iteration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LeafError } from '../../src/errors.js';
import { SafetensorsReader, numel } from '../../src/io/safetensors.js';
import { rng } from '../helpers/random-arrays.js';

const SEED = Number(process.env['LEAF_FUZZ_SEED'] ?? 20240601);
const ITERATIONS = Number(process.env['LEAF_FUZZ_ITERATIONS'] ?? 20000);
const HANG_MS = 5000;

// ---------------------------------------------------------------------------------------------
// PRNG and base file

class Rng {
  private readonly next: () => number;
  constructor(seed: number, i: number) {
    this.next = rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

interface BaseTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

function u8(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

const BASE_TENSORS: BaseTensor[] = [
  { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [3, 4], bytes: new Uint8Array(new Float32Array(12).map((_, i) => i - 5.5).buffer) },
  { name: 'model.norm.weight', dtype: 'F16', shape: [5], bytes: u8(10, 1) },
  { name: 'layers.0.q_proj.weight', dtype: 'BF16', shape: [2, 3], bytes: u8(12, 2) },
  { name: 'layers.0.q_proj.bias', dtype: 'F64', shape: [2], bytes: new Uint8Array(new Float64Array([Math.PI, -1e300]).buffer) },
  { name: 'position_ids', dtype: 'I64', shape: [1, 2], bytes: u8(16, 3) },
  { name: 'counts', dtype: 'I32', shape: [3], bytes: u8(12, 4) },
  { name: 'mask', dtype: 'BOOL', shape: [], bytes: new Uint8Array([1]) },
  { name: 'empty', dtype: 'F32', shape: [0, 7], bytes: new Uint8Array(0) },
  { name: 'bytes', dtype: 'U8', shape: [3], bytes: u8(3, 5) },
];

/** A valid file: header (entries in the given order, offsets contiguous), space padded to 8 bytes. */
function buildFile(tensors: BaseTensor[], metadata: Record<string, string> | undefined): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded));
  return Buffer.concat([len, json, ...tensors.map((t) => Buffer.from(t.bytes))]);
}

const BASE = buildFile(BASE_TENSORS, { format: 'pt', note: 'fuzz base' });

// ---------------------------------------------------------------------------------------------
// Mutations

const INTERESTING_BYTES = [...'{}[]":,-.eE0123456789 \\'].map((c) => c.charCodeAt(0)).concat([0x00, 0xff, 0x80, 0xc3, 0xed, 0x7f, 0x0a]);
const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'];
const BAD_VALUES: unknown[] = [null, -1, 1.5, '3', [], {}, true, 2 ** 53, 2 ** 64, -0, 1e308, 'F32', [1, 2], [[1]]];

function headerLen(b: Uint8Array): number {
  return Number(Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64LE(0));
}

function setU64(b: Buffer, v: bigint): void {
  b.writeBigUInt64LE(BigInt.asUintN(64, v), 0);
}

function deepArray(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

/** A structured edit of the header JSON; returns its description. */
function editJson(rng: Rng, h: Record<string, any>): string {
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  const name = names.length ? rng.pick(names) : 'x';
  const e = h[name];
  const entry = typeof e === 'object' && e !== null && !Array.isArray(e) ? e : (h[name] = {});
  const op = rng.int(24);
  switch (op) {
    case 0: {
      const k = rng.int(2);
      const d = rng.pick([-8, -2, -1, 1, 2, 4, 8, 1000, 1e9]);
      if (Array.isArray(entry.data_offsets)) entry.data_offsets[k] += d;
      return `${name}: data_offsets[${k}] += ${d}`;
    }
    case 1:
      if (Array.isArray(entry.data_offsets)) entry.data_offsets.reverse();
      return `${name}: swap data_offsets`;
    case 2: {
      const v = rng.pick([...BAD_VALUES, [0, 0], [0, 2 ** 40], [5, 5], [1, 2, 3], ['0', '4']]);
      entry.data_offsets = v;
      return `${name}: data_offsets = ${JSON.stringify(v)}`;
    }
    case 3: {
      const other = h[rng.pick(names.length ? names : ['x'])];
      if (other && typeof other === 'object') entry.data_offsets = other.data_offsets;
      return `${name}: data_offsets copied from another tensor`;
    }
    case 4: {
      const v = rng.pick([0, 1, 2, 3, 7, 1024, 2 ** 31, 2 ** 40, 2 ** 52]);
      if (Array.isArray(entry.shape)) entry.shape.push(v);
      return `${name}: shape push ${v}`;
    }
    case 5:
      if (Array.isArray(entry.shape)) entry.shape.pop();
      return `${name}: shape pop`;
    case 6: {
      const v = rng.pick([...BAD_VALUES, 0, 1, 2, 4, 6, 12, 1e6]);
      if (Array.isArray(entry.shape) && entry.shape.length) entry.shape[rng.int(entry.shape.length)] = v;
      return `${name}: shape[i] = ${JSON.stringify(v)}`;
    }
    case 7: {
      const v = rng.pick([...BAD_VALUES, [], [2, 2], [1, 1, 1, 1, 1]]);
      entry.shape = v;
      return `${name}: shape = ${JSON.stringify(v)}`;
    }
    case 8:
    case 9: {
      const v = rng.pick([...DTYPES, ...DTYPES, 'F15', 'f32', '', 'toString', '__proto__', 3, null, ['F32']]);
      entry.dtype = v;
      return `${name}: dtype = ${JSON.stringify(v)}`;
    }
    case 10: {
      const f = rng.pick(['dtype', 'shape', 'data_offsets']);
      delete entry[f];
      return `${name}: delete ${f}`;
    }
    case 11:
      entry[rng.pick(['extra', 'offsets', '__proto__', 'dtype '])] = rng.pick(BAD_VALUES);
      return `${name}: extra field`;
    case 12: {
      const v = rng.pick([null, 3, 'x', [], [1, 2], true]);
      h[name] = v;
      return `${name}: entry = ${JSON.stringify(v)}`;
    }
    case 13:
      delete h[name];
      return `delete tensor ${name}`;
    case 14:
      h[`${name}.copy`] = structuredClone(entry);
      return `duplicate ${name}`;
    case 15: {
      // rename (valid when nothing else changes)
      const nn = rng.pick(['', ' ', '__proto__', 'constructor', 'é', '\u0000', 'a"b', 'x'.repeat(5000), '__metadata__']);
      delete h[name];
      h[nn] = entry;
      return `rename ${name} -> ${JSON.stringify(nn).slice(0, 40)}`;
    }
    case 16: {
      const v = rng.pick([[], 3, 'pt', null, { k: 3 }, { k: {} }, { k: ['a'] }, {}, { '': '' }]);
      h['__metadata__'] = v;
      return `__metadata__ = ${JSON.stringify(v)}`;
    }
    case 17:
      delete h['__metadata__'];
      return 'delete __metadata__';
    case 18: {
      // swap the offsets of two tensors (valid only when sizes and dtypes agree)
      const other = h[rng.pick(names.length ? names : ['x'])];
      if (other && typeof other === 'object') [entry.data_offsets, other.data_offsets] = [other.data_offsets, entry.data_offsets];
      return `${name}: swap offsets with another tensor`;
    }
    case 19: {
      // split: halve the shape and the range, leaving a gap or overlap candidate
      if (Array.isArray(entry.data_offsets) && Array.isArray(entry.shape) && typeof entry.shape[0] === 'number') {
        entry.shape[0] = Math.floor(entry.shape[0] / 2);
        const [b, en] = entry.data_offsets;
        entry.data_offsets = [b, b + Math.floor((en - b) / 2)];
      }
      return `${name}: halve`;
    }
    case 20:
      entry.dtype = '__deep__';
      return `${name}: deeply nested shape`;
    case 21: {
      for (let k = 0; k < 50; k++) h[`extra.${k}`] = { dtype: 'U8', shape: [0], data_offsets: [0, 0] };
      return 'add 50 empty tensors at offset 0';
    }
    case 22: {
      // move a tensor to the end and shift the others down: a valid reordering of offsets
      return `${name}: no-op (valid file rewritten)`;
    }
    default:
      entry.data_offsets = [0, Number.MAX_SAFE_INTEGER];
      return `${name}: data_offsets [0, MAX_SAFE_INTEGER]`;
  }
}

/** One byte-level or structural mutation of `buf`; returns the new buffer and a description. */
function mutateOnce(rng: Rng, buf: Buffer): [Buffer, string] {
  const hlen = buf.length >= 8 ? Math.min(headerLen(buf), buf.length - 8) : 0;
  const headerEnd = 8 + Math.max(0, hlen);
  const kind = rng.int(11);
  switch (kind) {
    case 0: {
      const b = Buffer.from(buf);
      const k = 1 + rng.int(8);
      for (let j = 0; j < k && b.length; j++) {
        const pos = rng.chance(0.8) ? rng.int(Math.min(headerEnd, b.length)) : rng.int(b.length);
        b[pos]! ^= 1 << rng.int(8);
      }
      return [b, `flip ${k} bits`];
    }
    case 1: {
      const b = Buffer.from(buf);
      const k = 1 + rng.int(6);
      for (let j = 0; j < k && b.length; j++) {
        const pos = rng.chance(0.85) ? rng.int(Math.min(headerEnd, b.length)) : rng.int(b.length);
        b[pos] = rng.chance(0.6) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      }
      return [b, `overwrite ${k} bytes`];
    }
    case 2: {
      const cut = rng.chance(0.3) ? rng.int(Math.min(buf.length, 12)) : rng.int(buf.length);
      return [buf.subarray(0, cut), `truncate to ${cut}`];
    }
    case 3: {
      if (buf.length < 8) return [buf, 'short: no header length'];
      const b = Buffer.from(buf);
      const h = BigInt(headerLen(b));
      const v = rng.pick([
        h + 1n,
        h - 1n,
        h + BigInt(rng.int(64)) - 32n,
        0n,
        1n,
        BigInt(b.length - 8),
        BigInt(b.length - 7),
        BigInt(rng.int(2 ** 32)),
        (BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32)),
        2n ** 53n,
        2n ** 63n,
        2n ** 64n - 1n,
        100_000_000n,
        100_000_001n,
      ]);
      setU64(b, v);
      return [b, `header length = ${v}`];
    }
    case 4:
    case 5:
    case 6: {
      if (buf.length < 8) return [buf, 'short: no JSON'];
      let h: Record<string, any>;
      try {
        h = JSON.parse(buf.subarray(8, headerEnd).toString('utf8'));
        if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new Error('not object');
      } catch {
        return [Buffer.concat([buf, Buffer.from('x')]), 'unparsable header: append'];
      }
      const desc = editJson(rng, h);
      let text: string;
      try {
        text = JSON.stringify(h);
      } catch {
        return [Buffer.concat([buf, Buffer.from('x')]), 'header nested too deep to edit: append'];
      }
      text = text.replace('"__deep__"', JSON.stringify('F32')).replace(/"shape":\[[^\]]*\]/, (m) => (desc.includes('deeply nested') ? `"shape":[${deepArray(100_000)}]` : m));
      const json = Buffer.from(text, 'utf8');
      const pad = rng.chance(0.7) ? (8 - (json.length % 8)) % 8 : rng.int(9);
      const body = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
      const len = Buffer.alloc(8);
      const fix = rng.chance(0.9);
      len.writeBigUInt64LE(BigInt(fix ? body.length : hlen));
      return [Buffer.concat([len, body, buf.subarray(headerEnd)]), `json edit: ${desc}${fix ? '' : ' (stale length)'}`];
    }
    case 7: {
      const g = Buffer.from(Array.from({ length: 1 + rng.int(64) }, () => rng.int(256)));
      return [Buffer.concat([buf, g]), `append ${g.length} bytes`];
    }
    case 8: {
      // invalid UTF-8 inside the header
      const seq = rng.pick([[0xc3, 0x28], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xe2, 0x82]]);
      const b = Buffer.from(buf);
      const pos = 8 + rng.int(Math.max(1, hlen));
      for (let j = 0; j < seq.length && pos + j < b.length; j++) b[pos + j] = seq[j]!;
      return [b, `invalid utf-8 at ${pos}`];
    }
    case 9: {
      // insert or delete bytes inside the header, maybe fixing the length
      const pos = 8 + rng.int(Math.max(1, hlen));
      const n = 1 + rng.int(8);
      const ins = rng.chance(0.5);
      const b = ins
        ? Buffer.concat([buf.subarray(0, pos), Buffer.alloc(n, rng.pick(INTERESTING_BYTES)), buf.subarray(pos)])
        : Buffer.concat([buf.subarray(0, pos), buf.subarray(Math.min(buf.length, pos + n))]);
      if (b.length >= 8 && rng.chance(0.5)) setU64(b, BigInt(Math.max(0, hlen + (ins ? n : -n))));
      return [b, `${ins ? 'insert' : 'delete'} ${n} header bytes at ${pos}`];
    }
    default: {
      // valid-looking: data bytes changed only (must always succeed)
      const b = Buffer.from(buf);
      for (let j = 0; j < 4 && b.length > headerEnd; j++) b[headerEnd + rng.int(b.length - headerEnd)] = rng.int(256);
      return [b, 'data bytes changed'];
    }
  }
}

/** The mutant for iteration `i`: 1-3 mutations of the base file. */
function mutant(seed: number, i: number): [Buffer, string] {
  const rng = new Rng(seed, i);
  let buf: Buffer = BASE;
  const descs: string[] = [];
  const k = rng.chance(0.75) ? 1 : 2 + rng.int(2);
  for (let j = 0; j < k; j++) {
    const [b, d] = mutateOnce(rng, buf);
    buf = b;
    descs.push(d);
  }
  return [buf, descs.join('; ')];
}

// ---------------------------------------------------------------------------------------------
// Checking one mutant

type Outcome = { ok: true } | { ok: false; leaf: true; message: string } | { ok: false; leaf: false; error: string };

function check(file: string, i: number): Outcome {
  let r: SafetensorsReader | undefined;
  try {
    r = SafetensorsReader.open(file);
    // invariants of an accepted file
    let pos = r.dataStart;
    for (const e of r.tensors.values()) {
      if (e.begin !== pos || e.end < e.begin) throw new Error(`accepted file is not contiguous at ${e.name}`);
      pos = e.end;
    }
    if (pos !== r.fileSize) throw new Error('accepted file has trailing bytes');
    for (const e of r.tensors.values()) {
      try {
        const into = i % 2 === 0 ? new Float32Array(numel(e.shape)) : undefined;
        const v = r.readFloat32(e.name, into);
        if (v.length !== numel(e.shape)) throw new Error(`readFloat32 length ${v.length} != numel ${numel(e.shape)}`);
      } catch (err) {
        if (!(err instanceof LeafError)) throw err;
        if (['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) throw new Error(`float tensor refused: ${err.message}`);
      }
      if (r.readBytes(e.name).length !== e.end - e.begin) throw new Error('readBytes length');
    }
    return { ok: true };
  } catch (err) {
    if (err instanceof LeafError) {
      if (err.message.includes('\n') || !err.message.startsWith(`${file}: `)) {
        return { ok: false, leaf: false, error: `LeafError message not one line naming the file: ${err.message}` };
      }
      return { ok: false, leaf: true, message: err.message };
    }
    return { ok: false, leaf: false, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err) };
  } finally {
    r?.close();
  }
}

/** Error category: the message with file, numbers and quoted names stripped. */
function category(message: string, file: string): string {
  return message
    .slice(file.length)
    .replace(/"(?:[^"\\]|\\.)*"/g, 'S')
    .replace(/\(.*/, '(...)')
    .replace(/\d+/g, 'N')
    .replace(/got .*/, 'got X')
    .slice(0, 60);
}

interface Report {
  ok: number;
  leaf: number;
  categories: Record<string, number>;
  failures: Array<{ i: number; desc: string; error: string; kept: string }>;
  fdsBefore: number | undefined;
  fdsAfter: number | undefined;
  ms: number;
}

function fdCount(): number | undefined {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

function runFuzz(dir: string, seed: number, iterations: number, progress: Int32Array): Report {
  const file = path.join(dir, 'mutant.safetensors');
  // Overwrite in place and cut to length: much faster than O_TRUNC rewrites on disk filesystems.
  const wfd = fs.openSync(file, 'w+');
  const report: Report = { ok: 0, leaf: 0, categories: {}, failures: [], fdsBefore: fdCount(), fdsAfter: undefined, ms: 0 };
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    Atomics.store(progress, 0, i);
    const [buf, desc] = mutant(seed, i);
    fs.writeSync(wfd, buf, 0, buf.length, 0);
    fs.ftruncateSync(wfd, buf.length);
    const out = check(file, i);
    if (out.ok) report.ok++;
    else if (out.leaf) {
      report.leaf++;
      const c = category(out.message, file);
      report.categories[c] = (report.categories[c] ?? 0) + 1;
    } else if (report.failures.length < 20) {
      const keepDir = path.join(os.tmpdir(), 'leaf-fuzz-failures');
      fs.mkdirSync(keepDir, { recursive: true });
      const kept = path.join(keepDir, `seed${seed}-iter${i}.safetensors`);
      fs.writeFileSync(kept, buf);
      report.failures.push({ i, desc, error: out.error, kept });
    }
  }
  Atomics.store(progress, 0, iterations);
  report.fdsAfter = fdCount();
  fs.closeSync(wfd);
  report.ms = performance.now() - started;
  return report;
}

// ---------------------------------------------------------------------------------------------

if (!isMainThread && (workerData as { fuzz?: boolean } | null)?.fuzz) {
  const { dir, seed, iterations, progress } = workerData as { dir: string; seed: number; iterations: number; progress: SharedArrayBuffer };
  parentPort!.postMessage(runFuzz(dir, seed, iterations, new Int32Array(progress)));
}

if (isMainThread) {
  test('the fuzz base file is valid and fully readable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-fuzz-'));
    try {
      const file = path.join(dir, 'base.safetensors');
      fs.writeFileSync(file, BASE);
      assert.deepEqual(check(file, 0), { ok: true });
      const r = SafetensorsReader.open(file);
      assert.deepEqual(r.readFloat32('model.embed_tokens.weight'), new Float32Array(12).map((_, i) => i - 5.5));
      assert.deepEqual(r.readFloat32('layers.0.q_proj.bias'), new Float32Array([Math.PI, -Infinity]));
      r.close();
      // mutants are a pure function of (seed, iteration)
      assert.ok(mutant(SEED, 17)[0].equals(mutant(SEED, 17)[0]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`fuzz: ${ITERATIONS} mutants (seed ${SEED}) give only success or LeafError, never a hang`, { timeout: 300_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-fuzz-'));
    const progress = new SharedArrayBuffer(4);
    const counter = new Int32Array(progress);
    const worker = new Worker(new URL(import.meta.url), { workerData: { fuzz: true, dir, seed: SEED, iterations: ITERATIONS, progress } });
    const started = Date.now();
    try {
      const report = await new Promise<Report>((resolve, reject) => {
        let last = -1;
        let lastChange = Date.now();
        const timer = setInterval(() => {
          const now = Atomics.load(counter, 0);
          if (now !== last) {
            last = now;
            lastChange = Date.now();
          } else if (Date.now() - lastChange > HANG_MS) {
            clearInterval(timer);
            void worker.terminate();
            const [, desc] = mutant(SEED, now);
            reject(new Error(`hang: mutant ${now} (${desc}) did not finish within ${HANG_MS} ms`));
          }
        }, 100);
        worker.once('message', (m: Report) => {
          clearInterval(timer);
          resolve(m);
        });
        worker.once('error', (e) => {
          clearInterval(timer);
          reject(e);
        });
        worker.once('exit', (code) => {
          clearInterval(timer);
          reject(new Error(`fuzz worker exited with code ${code} at mutant ${Atomics.load(counter, 0)}`));
        });
      });
      const ms = Date.now() - started;
      const cats = Object.entries(report.categories).sort((a, b) => b[1] - a[1]);
      console.log(`# fuzz: ${ITERATIONS} mutants in ${ms} ms: ${report.ok} accepted, ${report.leaf} LeafError, ${cats.length} error kinds`);
      for (const [c, n] of cats) console.log(`#   ${String(n).padStart(6)}  ${c}`);
      assert.deepEqual(
        report.failures.map((f) => `mutant ${f.i} (${f.desc}), kept at ${f.kept}: ${f.error}`),
        [],
      );
      // The fuzzer is not degenerate: both outcomes and many different checks are exercised.
      assert.ok(report.ok > ITERATIONS * 0.03, `${report.ok} accepted`);
      assert.ok(report.leaf > ITERATIONS * 0.5, `${report.leaf} rejected`);
      if (ITERATIONS >= 5000) assert.ok(cats.length >= 15, `only ${cats.length} kinds of error`);
      // (<=: the runner may close descriptors of its own meanwhile; a leak would add thousands)
      if (report.fdsBefore !== undefined) assert.ok(report.fdsAfter! <= report.fdsBefore, `file descriptors leaked: ${report.fdsBefore} -> ${report.fdsAfter}`);
    } finally {
      await worker.terminate();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
