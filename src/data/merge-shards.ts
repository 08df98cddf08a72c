/**
 * What `leaf merge` shares between job kinds: reading the shard folders of one sharded run
 * (data/shard.ts), refusing shards of different runs, a missing shard or a shard given twice (one
 * line each), and putting JSONL records back into input order byte for byte.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeAllSync, writeFileAtomicSync } from '../io/atomic.js';
import { makeOutDir } from '../io/out-dir.js';
import { readLines } from './jsonl.js';
import type { RunIdentity } from './run-folder.js';
import { interleaveIds, readShardFile, type ShardFile } from './shard.js';

export interface ShardFolder {
  dir: string;
  file: ShardFile;
  /** run.json's identity without its `shard`. */
  identity: RunIdentity;
}

export interface ShardSet {
  /** The shards, shard i at index i. */
  shards: ShardFolder[];
  /** The run's identity (what an unsharded run's run.json holds). */
  identity: RunIdentity;
  /** Every problem id of the whole input, in input order. */
  order: string[];
  /** Rank of each id in `order`. */
  rank: Map<string, number>;
}

function readIdentity(dir: string): RunIdentity {
  const f = join(dir, 'run.json');
  if (!existsSync(f)) throw new LeafError(`${f}: missing (is ${dir} a shard of a leaf run?)`);
  try {
    const v = (JSON.parse(readFileSync(f, 'utf8')) as { identity?: RunIdentity }).identity;
    if (v && typeof v === 'object') return v;
  } catch {
    // reported below
  }
  throw new LeafError(`${f}: unreadable or without an identity`);
}

/**
 * Where a shard found an input (a path field) is not what its records are made of when the input's content
 * is identified beside it: a path field is left out of the comparison when both shards record one of its
 * content fields (compared as fields of their own), so shards that mount the same data and models at
 * different paths merge. Path field → the fields that identify its content (mine: the data's sha256 and
 * the models' weight fingerprints; eval: the model's; teacher-cache: `cache`, whose key parts hold the
 * teacher's fingerprint and the digest of the samples the student's tokenizer rendered).
 */
const CONTENT_OF: Readonly<Record<string, readonly string[]>> = {
  data: ['data_sha256'], counterfactuals: ['counterfactuals_sha256'], teacherOutputs: ['teacher_outputs_sha256'],
  student: ['student_weights', 'cache'], teacher: ['teacher_weights', 'cache'], model: ['model_identity'],
};

function differingKey(a: RunIdentity, b: RunIdentity): string | null {
  const identified = (key: string) => (CONTENT_OF[key] ?? []).some((c) => a[c] != null && b[c] != null);
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key]) && !identified(key)) return key;
  }
  return null;
}

/** Reads and checks the shard folders of one run (see the module comment). */
export function readShardSet(dirs: readonly string[]): ShardSet {
  if (dirs.length === 0) throw new LeafError('leaf merge: give the shard folders to merge');
  const byIndex = new Map<number, ShardFolder>();
  let first: ShardFolder | null = null;
  for (const dir of dirs) {
    const file = readShardFile(dir);
    if (file === null) throw new LeafError(`${dir}: not a shard folder (no shard.json; was it run with --shard?)`);
    const { shard: _shard, ...identity } = readIdentity(dir);
    const folder: ShardFolder = { dir, file, identity };
    const { index, count } = file.shard;
    if (first === null) first = folder;
    else {
      const key = differingKey(first.identity, identity);
      if (key !== null) throw new LeafError(`${dir}: a shard of a different run (its ${key} differs from ${first.dir}'s)`);
      if (count !== first.file.shard.count) throw new LeafError(`${dir}: shard ${index}/${count}, but ${first.dir} is a shard of ${first.file.shard.count}`);
      if (file.problems !== first.file.problems) throw new LeafError(`${dir}: a shard of a different run (${file.problems} input problems, ${first.dir}: ${first.file.problems}; another --limit?)`);
    }
    const twin = byIndex.get(index);
    if (twin) throw new LeafError(`${dir}: shard ${index}/${count} given twice (also ${twin.dir})`);
    byIndex.set(index, folder);
  }
  const count = first!.file.shard.count;
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw new LeafError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing (give all ${count} shard folders)`);
  const shards = Array.from({ length: count }, (_, i) => byIndex.get(i)!);
  const order = interleaveIds(shards.map((s) => s.file));
  return { shards, identity: first!.identity, order, rank: new Map(order.map((id, i) => [id, i])) };
}

/** Creates `out` for a merge; refuses a folder that already holds files. */
export function makeMergeOut(out: string): void {
  makeOutDir(out);
  const present = readdirSync(out);
  if (present.length > 0) throw new LeafError(`--out ${out}: not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}); merge into a new folder`);
}

/** Writes OUT/run.json with the run's identity (as an unsharded run writes it). */
export function writeMergedRunFile(out: string, identity: RunIdentity): void {
  writeFileAtomicSync(join(out, 'run.json'), JSON.stringify({ identity }, null, 2) + '\n');
}

/**
 * Writes `out` with the records of the shards' `files` in input order: records are ordered by the
 * rank of their `key` field's id (stable, so a problem's records keep their order), and each line is
 * copied byte for byte. A line that does not parse, or names an id outside the run, is an error.
 */
export function mergeRecordFiles(files: readonly string[], out: string, key: string, rank: ReadonlyMap<string, number>): number {
  const rows: Array<{ line: string; rank: number }> = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const raw of readLines(file)) {
      if (raw.text.trim() === '') continue;
      if (!raw.terminated) throw new LeafError(`${file}:${raw.line}: unfinished last line (an interrupted shard? resume it before merging)`);
      let id: unknown;
      try {
        id = (JSON.parse(raw.text) as Record<string, unknown>)[key];
      } catch (e) {
        throw new LeafError(`${file}:${raw.line}: invalid JSON (${(e as Error).message})`);
      }
      const r = typeof id === 'string' ? rank.get(id) : undefined;
      if (r === undefined) throw new LeafError(`${file}:${raw.line}: ${key} ${JSON.stringify(id)} is not a problem of this run`);
      rows.push({ line: raw.text, rank: r });
    }
  }
  rows.sort((a, b) => a.rank - b.rank);
  writeFileAtomicSync(out, (fd) => {
    for (let i = 0; i < rows.length; i += 4096) writeAllSync(fd, Buffer.from(rows.slice(i, i + 4096).map((r) => r.line + '\n').join(''), 'utf8'));
  });
  return rows.length;
}

/** Reads DIR/summary.json (a LeafError naming it when missing or damaged). */
export function readSummary<T>(dir: string): T {
  const f = join(dir, 'summary.json');
  if (!existsSync(f)) throw new LeafError(`${f}: missing (the shard has not finished; resume it)`);
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as T;
  } catch (e) {
    throw new LeafError(`${f}: unreadable (${(e as Error).message})`);
  }
}
