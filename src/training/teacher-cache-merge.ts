/**
 * `leaf merge` of `leaf teacher-cache` shards: the folder one build over the whole input writes —
 * teacher-cache.bin with the shards' rows put back in sample order (block b of the whole input is
 * block b div n of shard b mod n, teacher-cache-run.ts), samples.jsonl likewise, teacher-cache.json
 * written by the function a build finishes with (its rest-mass statistics recomputed from the merged
 * rows), run.json without the shard. Rows are copied byte for byte.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { readLines } from '../data/jsonl.js';
import { makeMergeOut, writeMergedRunFile, type ShardFolder, type ShardSet } from '../data/merge-shards.js';
import { LeafError } from '../errors.js';
import { writeAllSync, writeFileAtomicSync } from '../io/atomic.js';
import { sampleBlocks, SAMPLES_FILE } from './teacher-cache-run.js';
import { CACHE_DATA, CACHE_META, checkDataSize, finishMeta, readMeta, startMeta, type CacheKeyParts, type CacheMeta } from './teacher-cache-file.js';

/** One block of a shard: its samples.jsonl lines and its rows' place in the shard's data file. */
interface Block {
  lines: string[];
  firstRow: number;
  rows: number;
}

/** A finished shard's blocks (its samples.jsonl cut at the build's batch size), checked against its cache and shard.json. */
function shardBlocks(s: ShardFolder, batch: number): { meta: CacheMeta; blocks: Block[] } {
  const { index, count } = s.file.shard;
  const meta = readMeta(s.dir);
  if (meta === null || !meta.complete) throw new LeafError(`${s.dir}: shard ${index}/${count} has not finished (teacher-cache.json missing or complete: false); resume it`);
  checkDataSize(s.dir, meta);
  const file = join(s.dir, SAMPLES_FILE);
  if (!fs.existsSync(file)) throw new LeafError(`${file}: missing (is ${s.dir} a leaf teacher-cache shard?)`);
  const rows: number[] = [], lines: string[] = [];
  for (const raw of readLines(file)) {
    if (raw.text.trim() === '') continue;
    let n: unknown;
    try {
      n = (JSON.parse(raw.text) as { rows?: unknown }).rows;
    } catch (e) {
      throw new LeafError(`${file}:${raw.line}: invalid JSON (${(e as Error).message})`);
    }
    if (!(Number.isInteger(n) && (n as number) >= 0)) throw new LeafError(`${file}:${raw.line}: rows must be a non-negative integer`);
    rows.push(n as number);
    lines.push(raw.text);
  }
  const total = rows.reduce((a, b) => a + b, 0);
  if (rows.length !== meta.samples || total !== meta.rows) throw new LeafError(`${file}: ${rows.length} samples of ${total} rows, but ${join(s.dir, CACHE_META)} says ${meta.samples} of ${meta.rows}`);
  let at = 0;
  const blocks = sampleBlocks(rows.length, batch).map((b) => {
    const n = b.reduce((a, i) => a + rows[i]!, 0);
    const block = { lines: b.map((i) => lines[i]!), firstRow: at, rows: n };
    at += n;
    return block;
  });
  if (blocks.length !== s.file.ids.length) throw new LeafError(`${s.dir}: ${blocks.length} batches of samples, but its shard.json names ${s.file.ids.length}`);
  return { meta, blocks };
}

/** Copies `rows` rows of `rowBytes` from `src` (at row `first`) to the end of `fd`. */
function copyRows(src: number, fd: number, first: number, rows: number, rowBytes: number): void {
  const chunk = Math.max(1, Math.floor((8 << 20) / rowBytes)) * rowBytes;
  const buf = new Uint8Array(chunk);
  let pos = first * rowBytes;
  for (let left = rows * rowBytes; left > 0;) {
    const n = fs.readSync(src, buf, 0, Math.min(chunk, left), pos);
    if (n === 0) throw new LeafError(`${CACHE_DATA}: unexpected end of file`);
    writeAllSync(fd, buf.subarray(0, n));
    pos += n;
    left -= n;
  }
}

export function mergeTeacherCacheShards(set: ShardSet, out: string): CacheMeta {
  const parts = set.identity.cache as CacheKeyParts, batch = set.identity.microBatchSize as number;
  if (!parts || !Number.isInteger(batch)) throw new LeafError(`${set.shards[0]!.dir}/run.json: not a leaf teacher-cache run (no cache or microBatchSize)`);
  const shards = set.shards.map((s) => shardBlocks(s, batch));
  const n = shards.length, units = set.shards[0]!.file.problems;
  const rowBytes = 8 * parts.k + 4;
  makeMergeOut(out);
  const order = Array.from({ length: units }, (_, p) => ({ shard: p % n, block: shards[p % n]!.blocks[Math.floor(p / n)]! }));
  const fds = set.shards.map((s) => fs.openSync(join(s.dir, CACHE_DATA), 'r'));
  try {
    writeFileAtomicSync(join(out, CACHE_DATA), (fd) => {
      for (const u of order) copyRows(fds[u.shard]!, fd, u.block.firstRow, u.block.rows, rowBytes);
    });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  writeFileAtomicSync(join(out, SAMPLES_FILE), order.map((u) => u.block.lines.map((l) => l + '\n').join('')).join(''));
  const samples = order.reduce((a, u) => a + u.block.lines.length, 0), rows = order.reduce((a, u) => a + u.block.rows, 0);
  const meta = startMeta(parts, samples, rows, batch);
  const rest = finishMeta(out, meta);
  writeMergedRunFile(out, set.identity);
  return { ...meta, complete: true, ...rest };
}
