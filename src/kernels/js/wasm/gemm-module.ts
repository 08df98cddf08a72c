/**
 * The WebAssembly SIMD GEMM: a 4×8 register-tiled micro-kernel (eight f32x4 accumulators), plus the
 * copies it needs. All addresses and strides are in bytes.
 *
 * The kernel reads op(A)[i, p] at a + i·aRow + p·aP (any strides: both transposes of A) and the eight
 * floats op(B)[p, j..j+7] at b + p·bP + 4j (B row-major in memory: op(B) = B as is, or a transposed copy
 * made by `transpose`). It computes whole 4×8 tiles: rows of a partial last tile read whatever follows
 * op(A)'s last row (and columns, op(B)'s last columns); those results land in the padding of C and are
 * never copied out, since C[i, j] depends only on row i of op(A) and column j of op(B).
 * C is a compact buffer of (4·mPanels) × (8·nPanels) floats, row stride ldc bytes.
 */
import {
  block, br, brIf, f32Eq, f32Zero, f32x4Add, f32x4Mul, f32x4Splat, F32, get, I32, i32, i32Add, i32Eqz, i32GeS, i32Load,
  i32Mul, i32Store, i32Sub, ifElse, loop, set, v128Load, v128Load32Splat, v128Store, v128Zero,
  V128, type Bytes, type FuncDef,
} from './encode.js';

/** transpose(src, sRow, dst, dRow, rows, cols): dst[c·dRow + 4r] = src[r·sRow + 4c] (bit copy of 4-byte values). */
export function transposeFunc(): FuncDef {
  const SRC = 0, S_ROW = 1, DST = 2, D_ROW = 3, ROWS = 4, COLS = 5;
  const PS = 6, PD = 7, C = 8;
  return {
    name: 'transpose',
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
          get(PD), get(D_ROW), i32Add, set(PD),
          get(C), i32(1), i32Sub, set(C),
          br(0),
        )),
        get(SRC), get(S_ROW), i32Add, set(SRC),
        get(DST), i32(4), i32Add, set(DST),
        get(ROWS), i32(1), i32Sub, set(ROWS),
        br(0),
      )),
    ],
  };
}

/** copy2d(src, sRow, dst, dRow, rows, cols): dst[r·dRow + 4c] = src[r·sRow + 4c] (bit copy of 4-byte values). */
export function copy2dFunc(): FuncDef {
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
 * kernel(a, aRow, aP, b, bP, c, mPanels, nPanels, k, ldc, alpha, beta): C[tile] = alpha · op(A)·op(B)
 * (+ beta · C[tile] when beta ≠ 0; C is not read when beta = 0) for every 4×8 tile.
 */
export function kernelFunc(): FuncDef {
  const A = 0, A_ROW = 1, A_P = 2, B = 3, B_P = 4, C = 5, MP = 6, NP = 7, K = 8, LDC = 9, ALPHA = 10, BETA = 11;
  const I = 12, J = 13, PA = 14, PB = 15, P = 16, CT = 17, CROW = 18, A1 = 19, A2 = 20, A3 = 21;
  const ACC = 22; // 8 accumulators: ACC + 2r + h (row r, half h)
  const XA = 30; // 4 splatted A values
  const YB = 34; // 2 B vectors
  const VA = 36, VB = 37;
  const rowOffset = [null, A1, A2, A3];
  const accumulate: Bytes[] = [];
  for (let r = 0; r < 4; r++) {
    const off = rowOffset[r];
    accumulate.push(get(PA), ...(off === null ? [] : [get(off), i32Add]), v128Load32Splat(0), set(XA + r));
  }
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
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [...new Array<typeof I32>(10).fill(I32), ...new Array<typeof V128>(16).fill(V128)],
    body: [
      get(ALPHA), f32x4Splat, set(VA),
      get(BETA), f32x4Splat, set(VB),
      get(A_ROW), set(A1),
      get(A_ROW), i32(2), i32Mul, set(A2),
      get(A_ROW), i32(3), i32Mul, set(A3),
      i32(0), set(I),
      block(loop(
        get(I), get(MP), i32GeS, brIf(1),
        get(C), get(I), i32(4), i32Mul, get(LDC), i32Mul, i32Add, set(CT),
        i32(0), set(J),
        block(loop(
          get(J), get(NP), i32GeS, brIf(1),
          ...zero,
          get(A), get(I), i32(4), i32Mul, get(A_ROW), i32Mul, i32Add, set(PA),
          get(B), get(J), i32(32), i32Mul, i32Add, set(PB),
          get(K), set(P),
          block(loop(
            get(P), i32Eqz, brIf(1),
            ...accumulate,
            get(PA), get(A_P), i32Add, set(PA),
            get(PB), get(B_P), i32Add, set(PB),
            get(P), i32(1), i32Sub, set(P),
            br(0),
          )),
          get(BETA), f32Zero, f32Eq,
          ifElse(store(false), store(true)),
          get(CT), i32(32), i32Add, set(CT),
          get(J), i32(1), i32Add, set(J),
          br(0),
        )),
        get(I), i32(1), i32Add, set(I),
        br(0),
      )),
    ],
  };
}
