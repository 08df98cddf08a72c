/**
 * The WebAssembly SIMD GEMM: packing of op(A) and op(B) into panels, and a 4×8 register-tiled
 * micro-kernel (eight f32x4 accumulators) over them. All addresses and strides are in bytes.
 *
 * Panel layouts (zero padding is written by the caller for a partial last panel):
 * - A (m×k): panels of 4 rows; panel P holds, for p = 0..k−1, the 4 floats op(A)[4P + r, p], r = 0..3.
 * - B (k×n): panels of 8 columns; panel Q holds, for p = 0..k−1, the 8 floats op(B)[p, 8Q + c], c = 0..7.
 * C is a compact buffer of (4·mPanels) × (8·nPanels) floats, row stride ldc bytes.
 */
import {
  block, br, brIf, f32Eq, f32Zero, f32x4Add, f32x4Mul, f32x4Splat, F32, get, I32, i32, i32Add, i32Eqz, i32GeS, i32Load, i32LtS,
  i32Mul, i32Store, i32Sub, ifElse, loop, moduleBytes, select, set, v128Load, v128Load32Splat, v128Store, v128Zero,
  V128, type Bytes, type FuncDef,
} from './encode.js';

/**
 * pack(src, sOuter, sInner, count, k, dst, width): for panel P (rows/columns width·P ..), element e < width
 * with width·P + e < count and p < k: dst[P][p][e] = src[(width·P + e)·sOuter + p·sInner] (bit copy).
 */
function packFunc(): FuncDef {
  const SRC = 0, S_OUTER = 1, S_INNER = 2, COUNT = 3, K = 4, DST = 5, WIDTH = 6;
  const I0 = 7, ROWS = 8, R = 9, PTR = 10, D = 11, P = 12, ROWBYTES = 13;
  return {
    name: 'pack',
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32],
    body: [
      get(WIDTH), i32(4), i32Mul, set(ROWBYTES),
      i32(0), set(I0),
      block(loop(
        get(I0), get(COUNT), i32GeS, brIf(1),
        // rows = min(width, count − i0)
        get(COUNT), get(I0), i32Sub, get(WIDTH),
        get(COUNT), get(I0), i32Sub, get(WIDTH), i32LtS, select, set(ROWS),
        i32(0), set(R),
        block(loop(
          get(R), get(ROWS), i32GeS, brIf(1),
          get(SRC), get(I0), get(R), i32Add, get(S_OUTER), i32Mul, i32Add, set(PTR),
          get(DST), get(R), i32(4), i32Mul, i32Add, set(D),
          get(K), set(P),
          block(loop(
            get(P), i32Eqz, brIf(1),
            get(D), get(PTR), i32Load(), i32Store(),
            get(PTR), get(S_INNER), i32Add, set(PTR),
            get(D), get(ROWBYTES), i32Add, set(D),
            get(P), i32(1), i32Sub, set(P),
            br(0),
          )),
          get(R), i32(1), i32Add, set(R),
          br(0),
        )),
        get(DST), get(K), get(ROWBYTES), i32Mul, i32Add, set(DST),
        get(I0), get(WIDTH), i32Add, set(I0),
        br(0),
      )),
    ],
  };
}

/** copy2d(src, sRow, dst, dRow, rows, cols): dst[r·dRow + 4c] = src[r·sRow + 4c] (bit copy of 4-byte values). */
function copy2dFunc(): FuncDef {
  const SRC = 0, S_ROW = 1, DST = 2, D_ROW = 3, ROWS = 4, COLS = 5;
  const PS = 6, PD = 7, C = 8;
  return {
    name: 'copy2d',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32],
    body: [
      block(loop(
        get(ROWS), i32Eqz, brIf(1),
        get(SRC), set(PS),
        get(DST), set(PD),
        get(COLS), set(C),
        block(loop(
          get(C), i32Eqz, brIf(1),
          get(PD), get(PS), i32Load(), i32Store(),
          get(PS), i32(4), i32Add, set(PS),
          get(PD), i32(4), i32Add, set(PD),
          get(C), i32(1), i32Sub, set(C),
          br(0),
        )),
        get(SRC), get(S_ROW), i32Add, set(SRC),
        get(DST), get(D_ROW), i32Add, set(DST),
        get(ROWS), i32(1), i32Sub, set(ROWS),
        br(0),
      )),
    ],
  };
}

/**
 * kernel(ap, bp, c, mPanels, nPanels, k, ldc, alpha, beta): C[tile] = alpha · A·B (+ beta · C[tile] when
 * beta ≠ 0; C is not read when beta = 0) for every 4×8 tile.
 */
function kernelFunc(): FuncDef {
  const AP = 0, BP = 1, C = 2, MP = 3, NP = 4, K = 5, LDC = 6, ALPHA = 7, BETA = 8;
  const I = 9, J = 10, PA = 11, PB = 12, P = 13, CT = 14, BPANEL = 15, CROW = 16;
  const ACC = 17; // 8 accumulators: ACC + 2r + h (row r, half h)
  const XA = 25; // 4 splatted A values
  const YB = 29; // 2 B vectors
  const VA = 31, VB = 32;
  const accumulate: Bytes[] = [];
  for (let r = 0; r < 4; r++) accumulate.push(get(PA), v128Load32Splat(4 * r), set(XA + r));
  for (let h = 0; h < 2; h++) accumulate.push(get(PB), v128Load(16 * h), set(YB + h));
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) accumulate.push(get(ACC + 2 * r + h), get(XA + r), get(YB + h), f32x4Mul, f32x4Add, set(ACC + 2 * r + h));
  }
  const zero: Bytes[] = [];
  for (let q = 0; q < 8; q++) zero.push(v128Zero, set(ACC + q));
  // Stores of the tile: row r at CT + r·ldc, halves at byte offsets 0 and 16.
  const store = (withBeta: boolean): Bytes[] => {
    const out: Bytes[] = [];
    for (let r = 0; r < 4; r++) {
      out.push(get(CT), get(LDC), i32(r), i32Mul, i32Add, set(CROW));
      for (let h = 0; h < 2; h++) {
        out.push(get(CROW), get(ACC + 2 * r + h), get(VA), f32x4Mul);
        if (withBeta) out.push(get(CROW), v128Load(16 * h), get(VB), f32x4Mul, f32x4Add);
        out.push(v128Store(16 * h));
      }
    }
    return out;
  };
  return {
    name: 'kernel',
    params: [I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, ...new Array<typeof V128>(16).fill(V128)],
    body: [
      get(ALPHA), f32x4Splat, set(VA),
      get(BETA), f32x4Splat, set(VB),
      i32(0), set(I),
      block(loop(
        get(I), get(MP), i32GeS, brIf(1),
        get(BP), set(BPANEL),
        get(C), get(I), i32(4), i32Mul, get(LDC), i32Mul, i32Add, set(CT),
        i32(0), set(J),
        block(loop(
          get(J), get(NP), i32GeS, brIf(1),
          ...zero,
          get(AP), set(PA),
          get(BPANEL), set(PB),
          get(K), set(P),
          block(loop(
            get(P), i32Eqz, brIf(1),
            ...accumulate,
            get(PA), i32(16), i32Add, set(PA),
            get(PB), i32(32), i32Add, set(PB),
            get(P), i32(1), i32Sub, set(P),
            br(0),
          )),
          get(BETA), f32Zero, f32Eq,
          ifElse(store(false), store(true)),
          get(BPANEL), get(K), i32(32), i32Mul, i32Add, set(BPANEL),
          get(CT), i32(32), i32Add, set(CT),
          get(J), i32(1), i32Add, set(J),
          br(0),
        )),
        get(AP), get(K), i32(16), i32Mul, i32Add, set(AP),
        get(I), i32(1), i32Add, set(I),
        br(0),
      )),
    ],
  };
}

/** The GEMM module's bytes (imports env.memory; exports pack, copy2d and kernel). */
export function gemmModuleBytes(): Uint8Array {
  return moduleBytes([packFunc(), copy2dFunc(), kernelFunc()]);
}
