/**
 * Writer for `.safetensors` files, byte-compatible with the official library's layout:
 * - tensors are laid out sorted by dtype (wider first: F32, then BF16, then F16, the order of the
 *   Rust `Dtype` enum, descending) and then by name (byte order), contiguously from offset 0;
 * - the JSON header is compact, with `__metadata__` first (only when metadata is given), then the
 *   tensors in data order, each as `{"dtype":..,"shape":[..],"data_offsets":[b,e]}`;
 * - the header is padded with spaces so that the data section starts at a multiple of 8 bytes.
 * The file is written atomically (see {@link writeFileAtomicSync}) and streamed: F16/BF16 are
 * narrowed (round to nearest even) through a bounded 2 MiB scratch buffer.
 */
import { LeafError } from '../errors.js';
import { writeAllSync, writeFileAtomicSync } from './atomic.js';
import { f32ToBf16Array, f32ToF16Array } from './dtype.js';
import { quoteForMessage } from './safetensors.js';

/** Dtypes the writer produces from float32 data. */
export type WritableDtype = 'F32' | 'F16' | 'BF16';

export interface TensorToWrite {
  name: string;
  dtype: WritableDtype;
  shape: readonly number[];
  /**
   * Row-major values; length must be product(shape). Float32 data is narrowed to `dtype` when writing;
   * a Uint16Array holds bfloat16 bits and is written as is (dtype BF16 only).
   */
  data: Float32Array | Uint16Array;
}

const DTYPE_RANK: Record<WritableDtype, number> = { F16: 0, BF16: 1, F32: 2 };
const DTYPE_BYTES: Record<WritableDtype, number> = { F16: 2, BF16: 2, F32: 4 };
const CHUNK = 1 << 20; // elements per conversion chunk
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Builds the padded header bytes and the tensors in data order. Exported for tests and for
 * tools that need the layout without writing.
 */
export function safetensorsLayout(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): { header: Buffer; order: TensorToWrite[] } {
  const seen = new Set<string>();
  for (const t of tensors) {
    const where = `${file}: tensor ${quoteForMessage(t.name)}`;
    if (typeof t.name !== 'string' || LONE_SURROGATE.test(t.name)) throw new LeafError(`${where}: name must be a well-formed string`);
    if (t.name === '__metadata__') throw new LeafError(`${where}: "__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(t.name)) throw new LeafError(`${where}: name appears twice`);
    seen.add(t.name);
    if (!Object.prototype.hasOwnProperty.call(DTYPE_BYTES, t.dtype)) {
      throw new LeafError(`${where}: cannot write dtype ${quoteForMessage(String(t.dtype))} (only F32, F16, BF16)`);
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new LeafError(`${where}: shape must be an array of non-negative integers`);
    }
    let n = 1;
    for (const d of t.shape) n *= d;
    if (!(t.data instanceof Float32Array || t.data instanceof Uint16Array) || t.data.length !== n) {
      throw new LeafError(`${where}: data has ${t.data?.length} elements but shape [${t.shape.join(', ')}] needs ${n}`);
    }
    if (t.data instanceof Uint16Array && t.dtype !== 'BF16') throw new LeafError(`${where}: bfloat16 bits (Uint16Array) can only be written as BF16, not ${t.dtype}`);
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string' || LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
        throw new LeafError(`${file}: "__metadata__" field ${quoteForMessage(k)} must be a well-formed string`);
      }
    }
  }
  const order = [...tensors].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || byteOrder(a.name, b.name));
  // Build the JSON by hand so key order is exact and a tensor named "__proto__" stays a key.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`"__metadata__":{${meta.join(',')}}`);
  }
  let offset = 0;
  for (const t of order) {
    const end = offset + t.data.length * DTYPE_BYTES[t.dtype];
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, order };
}

/**
 * Writes `tensors` (float32 data narrowed to each tensor's dtype with round-to-nearest-even) and
 * optional string metadata to `path`, atomically. Invalid input (duplicate or reserved names,
 * bad shapes, data length != product(shape)) is a LeafError naming the file and tensor.
 */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Readonly<Record<string, string>>): void {
  if (!LITTLE_ENDIAN_HOST) throw new LeafError(`${path}: writing safetensors on a big-endian host is not supported`);
  const { header, order } = safetensorsLayout(path, tensors, metadata);
  writeFileAtomicSync(path, (fd) => {
    writeAllSync(fd, header);
    let scratch: Uint16Array | undefined;
    for (const t of order) {
      const data = t.data;
      if (t.dtype === 'F32' || data instanceof Uint16Array) {
        writeAllSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        continue;
      }
      scratch ??= new Uint16Array(CHUNK);
      for (let i = 0; i < data.length; i += CHUNK) {
        const src = data.subarray(i, Math.min(i + CHUNK, data.length));
        const dst = scratch.subarray(0, src.length);
        if (t.dtype === 'F16') f32ToF16Array(src, dst);
        else f32ToBf16Array(src, dst);
        writeAllSync(fd, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength));
      }
    }
  });
}
