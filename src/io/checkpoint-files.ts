/**
 * The safetensors weights of a Hugging Face model folder: either one `model.safetensors`, or
 * shards listed in `model.safetensors.index.json` (`{"metadata": {...}, "weight_map": {tensor
 * name: shard file name}}`). As in transformers, `model.safetensors` wins when both exist.
 *
 * Opening validates everything up front (each error a LeafError naming the file and the tensor,
 * shard or field): the index is a JSON object whose `weight_map` is a non-empty object of
 * strings; every shard name is a plain file name in the same folder (no paths, so an index cannot
 * point outside the model folder); every shard exists and passes {@link SafetensorsReader.open}'s
 * checks; every mapped tensor is present in its shard. Tensors a shard holds but the weight_map
 * does not list are ignored (the weight_map is the list of the checkpoint's tensors).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LeafError } from '../errors.js';
import { SafetensorsReader, printable, quoteForMessage, type TensorEntry } from './safetensors.js';

export const SINGLE_FILE_NAME = 'model.safetensors';
export const INDEX_FILE_NAME = 'model.safetensors.index.json';
const MAX_INDEX_BYTES = 100_000_000;

/** A tensor entry plus the path of the file that holds it. */
export interface CheckpointEntry extends TensorEntry {
  readonly file: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Reads and checks an index file; returns tensor name -> shard file name. */
function readIndex(indexPath: string): Map<string, string> {
  let text: string;
  try {
    if (fs.statSync(indexPath).size > MAX_INDEX_BYTES) throw new LeafError(`${indexPath}: index file is over ${MAX_INDEX_BYTES} bytes`);
    text = fs.readFileSync(indexPath, 'utf8');
  } catch (err) {
    if (err instanceof LeafError) throw err;
    throw new LeafError(`${indexPath}: cannot read index file: ${err instanceof Error ? err.message : String(err)}`);
  }
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (err) {
    throw new LeafError(`${indexPath}: not valid JSON (${printable(err instanceof Error ? err.message : String(err))})`);
  }
  if (!isPlainObject(index)) throw new LeafError(`${indexPath}: index must be a JSON object`);
  const wm = index['weight_map'];
  if (wm === undefined) throw new LeafError(`${indexPath}: missing "weight_map"`);
  if (!isPlainObject(wm)) throw new LeafError(`${indexPath}: "weight_map" must be an object {tensor name: shard file}`);
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm)) {
    const where = `${indexPath}: "weight_map" entry for tensor ${quoteForMessage(name)}`;
    if (typeof shard !== 'string') throw new LeafError(`${where} must be a shard file name (string)`);
    if (shard === '' || shard === '.' || shard === '..' || /[/\\\0]/.test(shard) || path.isAbsolute(shard)) {
      throw new LeafError(`${where}: shard ${quoteForMessage(shard)} must be a plain file name in the model folder`);
    }
    map.set(name, shard);
  }
  if (map.size === 0) throw new LeafError(`${indexPath}: "weight_map" is empty`);
  return map;
}

/** The open safetensors files of one checkpoint. Call {@link close} when done. */
export class CheckpointFiles {
  /** The folder (or single file) given to {@link open}. */
  readonly dir: string;
  /** The index file, or undefined for a single-file checkpoint. */
  readonly indexPath: string | undefined;
  /** Paths of the safetensors files, in the order first referenced. */
  readonly files: readonly string[];
  private readonly readers: Map<string, SafetensorsReader>;
  private readonly where: Map<string, SafetensorsReader>;

  private constructor(dir: string, indexPath: string | undefined, readers: Map<string, SafetensorsReader>, where: Map<string, SafetensorsReader>) {
    this.dir = dir;
    this.indexPath = indexPath;
    this.readers = readers;
    this.where = where;
    this.files = Object.freeze([...readers.keys()]);
  }

  /**
   * Opens the checkpoint in folder `dir` (`model.safetensors`, else `model.safetensors.index.json`
   * and its shards). `dir` may also be the path of a single `.safetensors` file.
   */
  static open(dir: string): CheckpointFiles {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch (err) {
      throw new LeafError(`${dir}: cannot open checkpoint: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (st.isFile()) return CheckpointFiles.single(dir, dir);
    const single = path.join(dir, SINGLE_FILE_NAME);
    if (isFile(single)) return CheckpointFiles.single(dir, single);
    const indexPath = path.join(dir, INDEX_FILE_NAME);
    if (!isFile(indexPath)) throw new LeafError(`${dir}: no ${SINGLE_FILE_NAME} or ${INDEX_FILE_NAME} in this folder`);
    const map = readIndex(indexPath);
    const readers = new Map<string, SafetensorsReader>();
    const where = new Map<string, SafetensorsReader>();
    try {
      const byShard = new Map<string, SafetensorsReader>();
      for (const [name, shard] of map) {
        let reader = byShard.get(shard);
        if (reader === undefined) {
          const shardPath = path.join(dir, shard);
          if (!isFile(shardPath)) {
            throw new LeafError(`${indexPath}: shard ${quoteForMessage(shard)} (listed for tensor ${quoteForMessage(name)}) does not exist in ${dir}`);
          }
          reader = SafetensorsReader.open(shardPath);
          byShard.set(shard, reader);
          readers.set(shardPath, reader);
        }
        if (!reader.tensors.has(name)) {
          throw new LeafError(`${indexPath}: tensor ${quoteForMessage(name)} is mapped to shard ${quoteForMessage(shard)}, but ${reader.path} has no such tensor`);
        }
        where.set(name, reader);
      }
    } catch (err) {
      for (const r of readers.values()) r.close();
      throw err;
    }
    return new CheckpointFiles(dir, indexPath, readers, where);
  }

  private static single(dir: string, file: string): CheckpointFiles {
    const reader = SafetensorsReader.open(file);
    const where = new Map<string, SafetensorsReader>();
    for (const name of reader.tensors.keys()) where.set(name, reader);
    return new CheckpointFiles(dir, undefined, new Map([[file, reader]]), where);
  }

  /** Tensor names: file order for a single file, weight_map order for shards. */
  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  private reader(name: string): SafetensorsReader {
    const r = this.where.get(name);
    if (r === undefined) throw new LeafError(`${this.indexPath ?? this.dir}: checkpoint has no tensor ${quoteForMessage(name)}`);
    return r;
  }

  /** Entry of tensor `name` with the file holding it; LeafError when absent. */
  entry(name: string): CheckpointEntry {
    const r = this.reader(name);
    return { ...r.entry(name), file: r.path };
  }

  /** `__metadata__` of the first file (all shards written by one tool carry the same). */
  get metadata(): Readonly<Record<string, string>> {
    return this.readers.values().next().value?.metadata ?? {};
  }

  /** Reads tensor `name` as float32; see {@link SafetensorsReader.readFloat32}. */
  readFloat32(name: string, into?: Float32Array): Float32Array {
    return this.reader(name).readFloat32(name, into);
  }

  /** Reads tensor `name` as bfloat16 bits; see {@link SafetensorsReader.readBf16}. */
  readBf16(name: string, into?: Uint16Array): Uint16Array {
    return this.reader(name).readBf16(name, into);
  }

  /** Raw bytes of tensor `name`; see {@link SafetensorsReader.readBytes}. */
  readBytes(name: string, into?: Uint8Array): Uint8Array {
    return this.reader(name).readBytes(name, into);
  }

  /** Closes every file. */
  close(): void {
    for (const r of this.readers.values()) r.close();
  }
}
