/**
 * Reader for one `.safetensors` file, validated as strictly as the official Python/Rust library.
 *
 * Layout: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`, then the
 * data section; offsets are relative to the start of the data section.
 *
 * The whole header is checked when the file is opened, so a truncated or corrupt file fails at
 * open time, never half-way through loading a model. Every problem is a {@link LeafError} whose
 * one-line message starts with the file path and names the tensor or field at fault:
 * - file shorter than 8 bytes; header length past the end of the file or over 100 MB;
 * - header not valid UTF-8, not starting with `{`, not valid JSON, or not a JSON object;
 * - `__metadata__` not an object of strings;
 * - a tensor entry that is not an object, lacks `dtype`/`shape`/`data_offsets`, has an unknown
 *   dtype, a shape that is not an array of non-negative integers, or `data_offsets` that are not
 *   two integers `begin <= end`;
 * - offsets past the end of the data section (truncated file);
 * - a byte count different from product(shape) x dtype size;
 * - overlapping tensors, and gaps: like the official library, the tensors must cover the data
 *   section exactly, contiguous from byte 0 to the end of the file with nothing in between or
 *   after (so appended bytes are rejected too).
 * Unknown extra fields inside a tensor entry are ignored (as the official library does). A
 * duplicated key in the header JSON keeps its last value (JSON.parse, like serde_json); the
 * coverage rule then catches it unless both copies describe the same bytes.
 *
 * Tensor data is never read as a whole file: each tensor is read with `fs.readSync` at its offset
 * straight into the destination Float32Array (F16/BF16 are read into the upper half of the
 * destination's bytes and widened in place; F64 goes through a bounded 1 MiB scratch buffer).
 */
import * as fs from 'node:fs';
import { LeafError } from '../errors.js';
import { bf16ToF32Array, f16ToF32Array, f32ToBf16Array } from './dtype.js';

/** Element types of the safetensors format (as of safetensors 0.5/0.6). */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'F4'
  | 'F6_E2M3'
  | 'F6_E3M2'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'C64'
  | 'F64'
  | 'I64'
  | 'U64';

/** Size of one element in bits (F4 and F6_* are packed sub-byte types). */
export const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
});

/** Dtypes {@link SafetensorsReader.readFloat32} converts. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = Object.freeze(['F32', 'F16', 'BF16', 'F64']);

/** Largest accepted header, as in the official library (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor of a safetensors file; `begin`/`end` are absolute byte offsets in the file. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const F64_CHUNK_ELEMENTS = 1 << 17; // 1 MiB of float64 per read
const MAX_READ = 1 << 30; // bytes per readSync call

/** A string for an error message: JSON-quoted (one line, unambiguous), cut to 200 characters. */
export function quoteForMessage(s: string): string {
  const q = JSON.stringify(s);
  return q.length > 200 ? `${q.slice(0, 197)}..."` : q;
}

/** A short rendering of a JSON value for error messages; bounded in depth and length (never throws). */
function show(value: unknown, depth = 0): string {
  let s: string;
  if (Array.isArray(value)) {
    if (depth >= 3) s = '[...]';
    else {
      const items = value.slice(0, 8).map((v) => show(v, depth + 1));
      s = `[${items.join(',')}${value.length > 8 ? ',...' : ''}]`;
    }
  } else if (typeof value === 'object' && value !== null) s = '{...}';
  else if (typeof value === 'string') s = quoteForMessage(value);
  else s = String(value);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** `s` with control characters escaped (JSON style), cut to 160 characters: safe inside a one-line message. */
export function printable(s: string): string {
  const e = JSON.stringify(s).slice(1, -1);
  return e.length > 160 ? `${e.slice(0, 157)}...` : e;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDtype(v: string): v is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BITS, v);
}

/**
 * Checks a parsed header against a data section of `dataSize` bytes that starts at absolute
 * offset `dataStart`. Returns the tensors in file order and the metadata.
 */
function validateHeader(
  file: string,
  header: unknown,
  dataStart: number,
  dataSize: number,
): { tensors: TensorEntry[]; metadata: Record<string, string> } {
  if (!isPlainObject(header)) throw new LeafError(`${file}: safetensors header is not a JSON object`);
  let metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') metadata = checkedMetadata(file, info);
    else tensors.push(checkedTensorEntry(`${file}: tensor ${quoteForMessage(name)}`, name, info, dataSize));
  }
  checkContiguous(file, tensors, dataSize);
  return {
    tensors: tensors.map((t) => Object.freeze({ ...t, begin: t.begin + dataStart, end: t.end + dataStart })),
    metadata,
  };
}

/** The "__metadata__" entry: an object of strings. */
function checkedMetadata(file: string, info: unknown): Record<string, string> {
  if (!isPlainObject(info)) throw new LeafError(`${file}: "__metadata__" must be an object of strings, got ${show(info)}`);
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') {
      throw new LeafError(`${file}: "__metadata__" field ${quoteForMessage(k)} must be a string, got ${show(v)}`);
    }
  }
  return Object.fromEntries(Object.entries(info as Record<string, string>));
}

/** One tensor entry {dtype, shape, data_offsets}, checked; offsets relative to the data section. */
function checkedTensorEntry(where: string, name: string, info: unknown, dataSize: number): TensorEntry {
  if (!isPlainObject(info)) throw new LeafError(`${where}: entry must be an object {dtype, shape, data_offsets}, got ${show(info)}`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(info, field)) throw new LeafError(`${where}: missing "${field}"`);
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw new LeafError(`${where}: "dtype" must be a string, got ${show(dtype)}`);
  if (!isDtype(dtype)) throw new LeafError(`${where}: unknown dtype ${quoteForMessage(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new LeafError(`${where}: "shape" must be an array of non-negative integers, got ${show(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    throw new LeafError(`${where}: "data_offsets" must be [begin, end], integers with 0 <= begin <= end, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) {
    throw new LeafError(
      `${where}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} bytes); is the file truncated?`,
    );
  }
  const dims = shape as number[];
  checkByteCount(where, dtype, dims, begin, end, dataSize);
  return { name, dtype, shape: Object.freeze(dims.slice()), begin, end };
}

/** The byte range [begin, end) holds exactly the elements of `dims` in `dtype`. */
function checkByteCount(where: string, dtype: SafetensorsDtype, dims: number[], begin: number, end: number, dataSize: number): void {
  // Element count times bits, stopping early once it cannot match (keeps numbers exact).
  const bits = DTYPE_BITS[dtype];
  let count = dims.includes(0) ? 0 : bits;
  for (const d of dims) {
    if (count > dataSize * 8) break;
    count *= d;
  }
  const bytes = end - begin;
  if (count !== bytes * 8) {
    const need = count > dataSize * 8 ? `more than the ${dataSize}-byte data section` : `${count / 8}`;
    throw new LeafError(
      `${where}: data_offsets [${begin}, ${end}] hold ${bytes} bytes but shape ${show(dims)} of ${dtype} needs ${need}`,
    );
  }
}

/** Coverage: sorted by offsets (in place), each tensor must start exactly where the previous one ended. */
function checkContiguous(file: string, tensors: TensorEntry[], dataSize: number): void {
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: TensorEntry | undefined;
  for (const t of tensors) {
    if (t.begin < pos) {
      throw new LeafError(
        `${file}: tensors ${quoteForMessage(prev!.name)} [${prev!.begin}, ${prev!.end}] and ${quoteForMessage(t.name)} [${t.begin}, ${t.end}] overlap`,
      );
    }
    if (t.begin > pos) {
      throw new LeafError(
        `${file}: bytes [${pos}, ${t.begin}) of the data section, before tensor ${quoteForMessage(t.name)}, belong to no tensor (safetensors data must be contiguous)`,
      );
    }
    pos = t.end;
    prev = t;
  }
  if (pos !== dataSize) {
    throw new LeafError(
      `${file}: ${dataSize - pos} bytes after the last tensor${prev ? ` (${quoteForMessage(prev.name)})` : ''} belong to no tensor (data section is ${dataSize} bytes; safetensors data must be contiguous)`,
    );
  }
}

function systemError(file: string, what: string, err: unknown): unknown {
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
    return new LeafError(`${file}: cannot ${what}: ${err.message}`);
  }
  return err;
}

/** Reads exactly `length` bytes at absolute `position` into `dst[offset..]`. */
function readExact(file: string, fd: number, dst: Uint8Array, offset: number, length: number, position: number, what: string): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(fd, dst, offset + done, Math.min(length - done, MAX_READ), position + done);
    } catch (err) {
      throw systemError(file, `read ${what}`, err);
    }
    if (n === 0) {
      throw new LeafError(`${file}: file ends at byte ${position + done} while reading ${what}; was it changed after it was opened?`);
    }
    done += n;
  }
}

/** One open, validated safetensors file. Call {@link close} when done (it is safe to call twice). */
export class SafetensorsReader {
  /** The path as given to {@link open}. */
  readonly path: string;
  /** Every tensor, in file order; offsets are absolute. */
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  /** `__metadata__` of the header ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Size of the file in bytes when it was opened. */
  readonly fileSize: number;
  /** Absolute offset of the data section (8 + header length). */
  readonly dataStart: number;
  private fd: number | undefined;

  private constructor(path: string, fd: number, fileSize: number, dataStart: number, tensors: TensorEntry[], metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.dataStart = dataStart;
    this.tensors = new Map(tensors.map((t) => [t.name, t]));
    this.metadata = Object.freeze(metadata);
  }

  /** Opens and fully validates `path`; throws a LeafError for anything wrong with it (the file is closed again then). */
  static open(path: string): SafetensorsReader {
    let fd: number;
    try {
      // stat first: opening a FIFO or device for reading could block forever.
      if (!fs.statSync(path).isFile()) throw new LeafError(`${path}: not a regular file`);
      fd = fs.openSync(path, 'r');
    } catch (err) {
      throw systemError(path, 'open safetensors file', err);
    }
    try {
      let size: number;
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) throw new LeafError(`${path}: not a regular file`);
        size = st.size;
      } catch (err) {
        throw systemError(path, 'stat safetensors file', err);
      }
      if (size < 8) throw new LeafError(`${path}: file is ${size} bytes, too short for the 8-byte safetensors header length`);
      const lenBytes = Buffer.alloc(8);
      readExact(path, fd, lenBytes, 0, 8, 0, 'the header length');
      const n = lenBytes.readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER_BYTES)) {
        throw new LeafError(`${path}: header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`);
      }
      const headerLen = Number(n);
      if (8 + headerLen > size) {
        throw new LeafError(`${path}: header length ${headerLen} runs past the end of the file (${size} bytes); is the file truncated?`);
      }
      const headerBytes = Buffer.alloc(headerLen);
      readExact(path, fd, headerBytes, 0, headerLen, 8, 'the header');
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
      } catch {
        throw new LeafError(`${path}: safetensors header is not valid UTF-8`);
      }
      if (!text.startsWith('{')) throw new LeafError(`${path}: safetensors header does not start with "{"`);
      let header: unknown;
      try {
        header = JSON.parse(text);
      } catch (err) {
        throw new LeafError(`${path}: safetensors header is not valid JSON (${printable(err instanceof Error ? err.message : String(err))})`);
      }
      const dataStart = 8 + headerLen;
      const { tensors, metadata } = validateHeader(path, header, dataStart, size - dataStart);
      return new SafetensorsReader(path, fd, size, dataStart, tensors, metadata);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** The entry for `name`; LeafError naming the file and tensor when absent. */
  entry(name: string): TensorEntry {
    const e = this.tensors.get(name);
    if (e === undefined) throw new LeafError(`${this.path}: no tensor ${quoteForMessage(name)} in this file`);
    return e;
  }

  private openFd(name: string): number {
    if (this.fd === undefined) throw new LeafError(`${this.path}: cannot read tensor ${quoteForMessage(name)}: reader is closed`);
    return this.fd;
  }

  /**
   * Reads tensor `name` as float32 (F32 as is, F16/BF16 widened exactly, F64 rounded to nearest).
   * `into`, when given, must have exactly numel(shape) elements and is filled and returned;
   * otherwise a new array is allocated. Other dtypes are refused with a LeafError.
   */
  readFloat32(name: string, into?: Float32Array): Float32Array {
    const e = this.entry(name);
    const where = `${this.path}: tensor ${quoteForMessage(name)}`;
    if (e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16' && e.dtype !== 'F64') {
      throw new LeafError(`${where}: dtype ${e.dtype} cannot be read as float32 (only F32, F16, BF16, F64)`);
    }
    if (!LITTLE_ENDIAN_HOST) throw new LeafError(`${where}: big-endian hosts are not supported`);
    const fd = this.openFd(name);
    const n = (e.end - e.begin) / (DTYPE_BITS[e.dtype] / 8);
    let out: Float32Array;
    if (into !== undefined) {
      if (into.length !== n) throw new LeafError(`${where}: destination has ${into.length} elements, tensor has ${n}`);
      out = into;
    } else {
      try {
        out = new Float32Array(n);
      } catch {
        throw new LeafError(`${where}: cannot allocate ${n} float32 elements`);
      }
    }
    const bytes = new Uint8Array(out.buffer, out.byteOffset, n * 4);
    const what = `tensor ${quoteForMessage(name)}`;
    switch (e.dtype) {
      case 'F32':
        readExact(this.path, fd, bytes, 0, n * 4, e.begin, what);
        break;
      case 'F16':
      case 'BF16': {
        // Raw 16-bit values go to the upper half of the destination, then widen forward in place.
        readExact(this.path, fd, bytes, n * 2, n * 2, e.begin, what);
        const raw = new Uint16Array(out.buffer, out.byteOffset + n * 2, n);
        if (e.dtype === 'F16') f16ToF32Array(raw, out);
        else bf16ToF32Array(raw, out);
        break;
      }
      case 'F64': {
        const scratch = new Float64Array(Math.min(n, F64_CHUNK_ELEMENTS));
        const scratchBytes = new Uint8Array(scratch.buffer);
        for (let i = 0; i < n; i += scratch.length) {
          const m = Math.min(scratch.length, n - i);
          readExact(this.path, fd, scratchBytes, 0, m * 8, e.begin + i * 8, what);
          for (let j = 0; j < m; j++) out[i + j] = scratch[j]!;
        }
        break;
      }
    }
    return out;
  }

  /**
   * Reads tensor `name` as bfloat16 bit patterns: BF16 as is (bit for bit), F32/F16/F64 rounded to the
   * nearest bfloat16 (ties to even) through a bounded float32 scratch of one chunk. `into`, when given,
   * must have exactly numel(shape) elements.
   */
  readBf16(name: string, into?: Uint16Array): Uint16Array {
    const e = this.entry(name);
    const where = `${this.path}: tensor ${quoteForMessage(name)}`;
    if (!FLOAT_DTYPES.includes(e.dtype)) throw new LeafError(`${where}: dtype ${e.dtype} cannot be read as bfloat16 (only F32, F16, BF16, F64)`);
    if (!LITTLE_ENDIAN_HOST) throw new LeafError(`${where}: big-endian hosts are not supported`);
    const width = DTYPE_BITS[e.dtype] / 8;
    const n = (e.end - e.begin) / width;
    if (into !== undefined && into.length !== n) throw new LeafError(`${where}: destination has ${into.length} elements, tensor has ${n}`);
    const out = into ?? new Uint16Array(n);
    const what = `tensor ${quoteForMessage(name)}`;
    if (e.dtype === 'BF16') {
      readExact(this.path, this.openFd(name), new Uint8Array(out.buffer, out.byteOffset, n * 2), 0, n * 2, e.begin, what);
      return out;
    }
    // Other float dtypes: chunks read as float32 through a view of a sub-tensor, then narrowed.
    const chunk = Math.min(n, F64_CHUNK_ELEMENTS);
    const f32 = new Float32Array(chunk), raw = new Uint8Array(chunk * width);
    for (let i = 0; i < n; i += chunk) {
      const m = Math.min(chunk, n - i);
      readExact(this.path, this.openFd(name), raw, 0, m * width, e.begin + i * width, what);
      const part = f32.subarray(0, m);
      if (e.dtype === 'F32') part.set(new Float32Array(raw.buffer, 0, m));
      else if (e.dtype === 'F16') f16ToF32Array(new Uint16Array(raw.buffer, 0, m), part);
      else part.set(new Float64Array(raw.buffer, 0, m));
      f32ToBf16Array(part, out.subarray(i, i + m));
    }
    return out;
  }

  /**
   * Reads the raw little-endian bytes of tensor `name` (any dtype). `into`, when given, must have
   * exactly `end - begin` bytes.
   */
  readBytes(name: string, into?: Uint8Array): Uint8Array {
    const e = this.entry(name);
    const fd = this.openFd(name);
    const len = e.end - e.begin;
    if (into !== undefined && into.length !== len) {
      throw new LeafError(`${this.path}: tensor ${quoteForMessage(name)}: destination has ${into.length} bytes, tensor has ${len}`);
    }
    const out = into ?? new Uint8Array(len);
    readExact(this.path, fd, out, 0, len, e.begin, `tensor ${quoteForMessage(name)}`);
    return out;
  }

  /** Closes the file. Reading afterwards is a LeafError; closing again does nothing. */
  close(): void {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      fs.closeSync(fd);
    }
  }
}
