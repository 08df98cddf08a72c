/**
 * A minimal WebAssembly binary encoder: just what leaf's SIMD kernels need (i32 / f32 / v128 locals,
 * structured control flow, loads and stores, a handful of arithmetic and SIMD instructions), so that the
 * kernels are written here in TypeScript and assembled at load time — no toolchain, no binary file.
 *
 * Instructions are plain byte arrays (`Bytes`); a function body is a list of them, flattened.
 * Reference: the WebAssembly core specification (binary format) and its SIMD proposal (opcodes 0xFD xx).
 */
export type Bytes = number[];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): Bytes {
  const out: Bytes = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): Bytes {
  const out: Bytes = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const flat = (parts: Bytes[]): Bytes => parts.flat();

// Control flow (blocks have no result).
export const block = (...body: Bytes[]): Bytes => [0x02, 0x40, ...flat(body), 0x0b];
export const loop = (...body: Bytes[]): Bytes => [0x03, 0x40, ...flat(body), 0x0b];
export const ifElse = (then: Bytes[], otherwise: Bytes[]): Bytes => [0x04, 0x40, ...flat(then), 0x05, ...flat(otherwise), 0x0b];
/** Branch to the enclosing block/loop `depth` levels out (0 = innermost). */
export const br = (depth: number): Bytes => [0x0c, ...uleb(depth)];
export const brIf = (depth: number): Bytes => [0x0d, ...uleb(depth)];

// Locals.
export const get = (i: number): Bytes => [0x20, ...uleb(i)];
export const set = (i: number): Bytes => [0x21, ...uleb(i)];
export const tee = (i: number): Bytes => [0x22, ...uleb(i)];

// i32.
export const i32 = (n: number): Bytes => [0x41, ...sleb(n)];
export const i32Eqz: Bytes = [0x45];
export const i32Eq: Bytes = [0x46];
export const i32LtS: Bytes = [0x48];
export const i32GeS: Bytes = [0x4e];
export const i32Add: Bytes = [0x6a];
export const i32Sub: Bytes = [0x6b];
export const i32Mul: Bytes = [0x6c];
export const i32Shl: Bytes = [0x74];
export const i32ShrS: Bytes = [0x75];
export const select: Bytes = [0x1b];
/** f32.load / f32.store with a constant byte offset (4-byte alignment hint). */
export const f32Load = (offset = 0): Bytes => [0x2a, 2, ...uleb(offset)];
export const f32Store = (offset = 0): Bytes => [0x38, 2, ...uleb(offset)];
/** i32.load / i32.store with a constant byte offset (4-byte alignment hint). */
export const i32Load = (offset = 0): Bytes => [0x28, 2, ...uleb(offset)];
export const i32Store = (offset = 0): Bytes => [0x36, 2, ...uleb(offset)];

// f32.
const f32Bytes = (x: number): Bytes => [...new Uint8Array(new Float32Array([x]).buffer)];
export const f32 = (x: number): Bytes => [0x43, ...f32Bytes(x)];
export const f32Zero: Bytes = f32(0);
export const f32Eq: Bytes = [0x5b];
export const f32Sqrt: Bytes = [0x91];
export const f32Add: Bytes = [0x92];
export const f32Mul: Bytes = [0x94];
export const f32Div: Bytes = [0x95];
export const f32Max: Bytes = [0x97];

// SIMD (prefix 0xFD, opcode as unsigned LEB128).
const simd = (opcode: number, ...imm: number[]): Bytes => [0xfd, ...uleb(opcode), ...imm];
/** v128.load / v128.store with a constant byte offset (16-byte alignment hint). */
export const v128Load = (offset = 0): Bytes => simd(0x00, 4, ...uleb(offset));
export const v128Store = (offset = 0): Bytes => simd(0x0b, 4, ...uleb(offset));
/** v128.load32_splat: one f32 from memory into all four lanes. */
export const v128Load32Splat = (offset = 0): Bytes => simd(0x09, 2, ...uleb(offset));
export const v128Zero: Bytes = simd(0x0c, ...new Array<number>(16).fill(0));
/** v128.const with four f32 lanes (or one value in all four). */
export const f32x4Const = (...lanes: number[]): Bytes =>
  simd(0x0c, ...(lanes.length === 1 ? [lanes[0], lanes[0], lanes[0], lanes[0]] : lanes).flatMap(f32Bytes));
/** v128.const with four i32 lanes. */
export const i32x4Const = (...lanes: number[]): Bytes => simd(0x0c, ...new Uint8Array(new Int32Array(lanes).buffer));
export const f32x4Splat: Bytes = simd(0x13);
export const i32x4Splat: Bytes = simd(0x11);
export const f32x4ExtractLane = (lane: number): Bytes => simd(0x1f, lane);
export const i32x4LtS: Bytes = simd(0x39);
export const v128And: Bytes = simd(0x4e);
/** v128.bitselect(a, b, mask): bits of a where mask is 1, of b where 0. */
export const v128Bitselect: Bytes = simd(0x52);
export const f32x4Nearest: Bytes = simd(0x6a);
export const i32x4Shl: Bytes = simd(0xab);
export const i32x4Add: Bytes = simd(0xae);
export const f32x4Neg: Bytes = simd(0xe1);
export const f32x4Add: Bytes = simd(0xe4);
export const f32x4Sub: Bytes = simd(0xe5);
export const f32x4Mul: Bytes = simd(0xe6);
export const f32x4Div: Bytes = simd(0xe7);
export const f32x4Min: Bytes = simd(0xe8);
export const f32x4Max: Bytes = simd(0xe9);
export const i32x4TruncSatF32x4S: Bytes = simd(0xf8);

/** One function: parameter types, result types (none here), extra locals, body. */
export interface FuncDef {
  name: string;
  params: ValType[];
  locals: ValType[];
  body: Bytes[];
}

function section(id: number, payload: Bytes): Bytes {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: Bytes[]): Bytes {
  return [...uleb(items.length), ...flat(items)];
}

function name(s: string): Bytes {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/**
 * A module importing one memory as env.memory and exporting `funcs` (no results; one type per function).
 */
export function moduleBytes(funcs: FuncDef[]): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0x00]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]];
  const funcIndices = funcs.map((_, i) => uleb(i));
  const exports = funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const bodies = funcs.map((f) => {
    // Locals are run-length encoded: consecutive equal types share one entry.
    const groups: Bytes[] = [];
    for (let i = 0; i < f.locals.length;) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      groups.push([...uleb(j - i), f.locals[i]]);
      i = j;
    }
    const code = [...vec(groups), ...flat(f.body), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcIndices)),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}
