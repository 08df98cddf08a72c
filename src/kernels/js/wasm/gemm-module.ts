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
  block, br, brIf, f32Add, f32Eq, f32Load, f32Mul, f32Store, f32Zero, f32x4Add, f32x4Mul, f32x4Splat, F32, get, I32, i32,
  i32Add, i32Eq, i32Eqz, i32GeS, i32GtS, i32Load, i32LtS, i32Mul, i32ShrS, i32Store, i32Sub, ifElse, ifElseValue, loop, select, set, v128Load, v128Load32Splat,
  v128Store, v128Zero, V128, type Bytes, type FuncDef,
} from './encode.js';
import { sumLanes } from './simd-math.js';

/**
 * transpose(src, sRow, dst, dRow, rows, cols): dst[c·dRow + 4r] = src[r·sRow + 4c] (bit copy of 4-byte
 * values). Rows go in strips of 8, so that each column of a strip is one contiguous 32-byte store.
 */
export function transposeFunc(): FuncDef {
  const SRC = 0, S_ROW = 1, DST = 2, D_ROW = 3, ROWS = 4, COLS = 5;
  const PS = 6, PD = 7, C = 8;
  const R = [9, 10, 11, 12, 13, 14, 15]; // offsets of rows 1..7 of a strip: r·sRow
  const strip: Bytes[] = [];
  for (let r = 0; r < 8; r++) strip.push(get(PD), get(PS), ...(r === 0 ? [] : [get(R[r - 1]), i32Add]), i32Load(), i32Store(4 * r));
  /** The column loop of a strip (or of one row when `strip` is false). */
  const columns = (eight: boolean): Bytes => block(loop(
    get(C), i32Eqz, brIf(1),
    ...(eight ? strip : [get(PD), get(PS), i32Load(), i32Store()]),
    get(PS), i32(4), i32Add, set(PS),
    get(PD), get(D_ROW), i32Add, set(PD),
    get(C), i32(1), i32Sub, set(C),
    br(0),
  ));
  return {
    name: 'transpose',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, ...new Array<typeof I32>(7).fill(I32)],
    body: [
      ...R.flatMap((local, i) => [get(S_ROW), i32(i + 1), i32Mul, set(local)]),
      block(loop(
        get(ROWS), i32(8), i32LtS, brIf(1),
        get(SRC), set(PS), get(DST), set(PD), get(COLS), set(C),
        columns(true),
        get(SRC), get(S_ROW), i32(8), i32Mul, i32Add, set(SRC),
        get(DST), i32(32), i32Add, set(DST),
        get(ROWS), i32(8), i32Sub, set(ROWS),
        br(0),
      )),
      block(loop(
        get(ROWS), i32Eqz, brIf(1),
        get(SRC), set(PS), get(DST), set(PD), get(COLS), set(C),
        columns(false),
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
 * kernel(a, aRow, aP, b, bP, c, mPanels, nPanels, k, ldc, alpha, beta, tri, diag): C[tile] = alpha ·
 * op(A)·op(B) (+ beta · C[tile] when beta ≠ 0; C is not read when beta = 0) for every 4×8 tile.
 *
 * `tri` skips the part of a causal-attention product that is known to be zero (or unused). With
 * L = diag + 4I + 4 for row panel I (rows 4I..4I+3; one past the last key its last query may see when
 * diag = the KV-cache length): tri = 1 computes only the column tiles below L (the rest of the row panel
 * is left unwritten), tri = 2 sums only p < L (P·V, dS·K: P is zero beyond), tri = 3 sums only
 * p ≥ 4I − diag (Pᵀ·dO, dSᵀ·Q: rows are keys, and queries before 4I − diag cannot see them); 0 = all.
 */
export function kernelFunc(): FuncDef {
  const { A_ROW, MP, LDC, ALPHA, BETA, I, C, CT, A1, A2, A3, VA, VB } = KL;
  return {
    name: 'kernel',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, I32, I32],
    locals: [...new Array<typeof I32>(14).fill(I32), ...new Array<typeof V128>(16).fill(V128)],
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
        ...rowPanelRanges(),
        ...columnTiles(),
        get(I), i32(1), i32Add, set(I),
        br(0),
      )),
    ],
  };
}

/** Locals of `kernel`: its parameters, then i32 locals, then v128 locals. */
const KL = {
  A: 0, A_ROW: 1, A_P: 2, B: 3, B_P: 4, C: 5, MP: 6, NP: 7, K: 8, LDC: 9, ALPHA: 10, BETA: 11, TRI: 12, DIAG: 13,
  I: 14, J: 15, PA: 16, PB: 17, P: 18, CT: 19, CROW: 20, A1: 21, A2: 22, A3: 23, NPI: 24, KS: 25, KE: 26, L: 27,
  /** 8 accumulators: ACC + 2r + h (row r, half h). */
  ACC: 28,
  /** 4 splatted A values. */
  XA: 36,
  /** 2 B vectors. */
  YB: 40,
  VA: 42,
  VB: 43,
} as const;

/** The row panel's ranges: column tiles [0, NPI), p in [KS, KE) (see `tri` in kernelFunc). */
function rowPanelRanges(): Bytes[] {
  const { NP, K, TRI, DIAG, I, NPI, KS, KE, L } = KL;
  /** min(x, y) of two locals, left on the stack. */
  const min = (x: Bytes[], y: Bytes[]): Bytes[] => [...x, ...y, ...x, ...y, i32LtS, select];
  const ifTri = (mode: number, then: Bytes[], otherwise: Bytes[]): Bytes[] => [get(TRI), i32(mode), i32Eq, ifElseValue(then, otherwise)];
  return [
    get(DIAG), get(I), i32(4), i32Mul, i32Add, i32(4), i32Add, set(L),
    ...ifTri(1, min([get(NP)], [get(L), i32(7), i32Add, i32(3), i32ShrS]), [get(NP)]), set(NPI),
    ...ifTri(2, min([get(K)], [get(L)]), [get(K)]), set(KE),
    ...ifTri(3, min([get(K)], [get(I), i32(4), i32Mul, get(DIAG), i32Sub, i32(0), get(I), i32(4), i32Mul, get(DIAG), i32Sub, i32(0), i32GtS, select]), [i32(0)]), set(KS),
  ];
}

/** The loop over the row panel's column tiles: zero, accumulate over p in [KS, KE), store. */
function columnTiles(): Bytes[] {
  const { A, A_ROW, A_P, B, B_P, BETA, I, J, PA, PB, P, CT, NPI, KS, KE } = KL;
  return [
    i32(0), set(J),
    block(loop(
      get(J), get(NPI), i32GeS, brIf(1),
      ...tileZero(),
      get(A), get(I), i32(4), i32Mul, get(A_ROW), i32Mul, i32Add, get(KS), get(A_P), i32Mul, i32Add, set(PA),
      get(B), get(J), i32(32), i32Mul, i32Add, get(KS), get(B_P), i32Mul, i32Add, set(PB),
      get(KE), get(KS), i32Sub, set(P),
      block(loop(
        get(P), i32(1), i32LtS, brIf(1),
        ...tileAccumulate(),
        get(PA), get(A_P), i32Add, set(PA),
        get(PB), get(B_P), i32Add, set(PB),
        get(P), i32(1), i32Sub, set(P),
        br(0),
      )),
      get(BETA), f32Zero, f32Eq,
      ifElse(tileStore(false), tileStore(true)),
      get(CT), i32(32), i32Add, set(CT),
      get(J), i32(1), i32Add, set(J),
      br(0),
    )),
  ];
}

function tileZero(): Bytes[] {
  const zero: Bytes[] = [];
  for (let q = 0; q < 8; q++) zero.push(v128Zero, set(KL.ACC + q));
  return zero;
}

/** One step p of the 4×8 tile: ACC[r][h] += splat(A[r, p]) · B[p, 4h..4h+3]. */
function tileAccumulate(): Bytes[] {
  const { PA, PB, A1, A2, A3, ACC, XA, YB } = KL;
  const rowOffset = [null, A1, A2, A3];
  const out: Bytes[] = [];
  for (let r = 0; r < 4; r++) {
    const off = rowOffset[r];
    out.push(get(PA), ...(off === null ? [] : [get(off), i32Add]), v128Load32Splat(0), set(XA + r));
  }
  for (let h = 0; h < 2; h++) out.push(get(PB), v128Load(16 * h), set(YB + h));
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) out.push(get(ACC + 2 * r + h), get(XA + r), get(YB + h), f32x4Mul, f32x4Add, set(ACC + 2 * r + h));
  }
  return out;
}

/** Stores of the tile: row r at CT + r·ldc, halves at byte offsets 0 and 16 (plus beta · C when `withBeta`). */
function tileStore(withBeta: boolean): Bytes[] {
  const { LDC, CT, CROW, ACC, VA, VB } = KL;
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
}

/**
 * dotKernel(a, aRow, b, bRow, c, ldc, m, nQuads, kVectors, alpha, beta): for op(A) = A (m×k, rows at
 * a + i·aRow) and op(B) = Bᵀ with B's rows at b + j·bRow (both contiguous in p, k = 4·kVectors), the dot
 * products C[i, j] = alpha·Σ_p A[i,p]·B[j,p] (+ beta·C[i, j] when beta ≠ 0) for j < 4·nQuads, four columns
 * at a time; C rows at c + i·ldc. For few rows of A (one-token decoding), where transposing B would cost
 * more than the product.
 */
export function dotKernelFunc(): FuncDef {
  const A = 0, A_ROW = 1, B = 2, B_ROW = 3, C = 4, LDC = 5, M = 6, NQ = 7, KV = 8, ALPHA = 9, BETA = 10;
  const J = 11, PA = 12, PB = 13, P = 14, CT = 15, B1 = 16, B2 = 17, B3 = 18;
  const ACC = 19, X = 23;
  const bOff = [null, B1, B2, B3];
  const body: Bytes[] = [];
  for (let q = 0; q < 4; q++) body.push(get(ACC + q), get(X), get(PB), ...(bOff[q] === null ? [] : [get(bOff[q]!), i32Add]), v128Load(), f32x4Mul, f32x4Add, set(ACC + q));
  const store = (withBeta: boolean): Bytes[] => [0, 1, 2, 3].flatMap((q) => [
    get(CT), ...sumLanes(ACC + q), get(ALPHA), f32Mul,
    ...(withBeta ? [get(CT), f32Load(4 * q), get(BETA), f32Mul, f32Add] : []),
    f32Store(4 * q),
  ]);
  return {
    name: 'dotKernel',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, V128, V128, V128, V128, V128],
    body: [
      get(B_ROW), set(B1),
      get(B_ROW), i32(2), i32Mul, set(B2),
      get(B_ROW), i32(3), i32Mul, set(B3),
      block(loop(
        get(M), i32Eqz, brIf(1),
        i32(0), set(J), get(C), set(CT),
        block(loop(
          get(J), get(NQ), i32GeS, brIf(1),
          v128Zero, set(ACC), v128Zero, set(ACC + 1), v128Zero, set(ACC + 2), v128Zero, set(ACC + 3),
          get(A), set(PA),
          get(B), get(J), i32(4), i32Mul, get(B_ROW), i32Mul, i32Add, set(PB),
          get(KV), set(P),
          block(loop(
            get(P), i32Eqz, brIf(1),
            get(PA), v128Load(), set(X),
            ...body,
            get(PA), i32(16), i32Add, set(PA),
            get(PB), i32(16), i32Add, set(PB),
            get(P), i32(1), i32Sub, set(P),
            br(0),
          )),
          get(BETA), f32Zero, f32Eq,
          ifElse(store(false), store(true)),
          get(CT), i32(16), i32Add, set(CT),
          get(J), i32(1), i32Add, set(J),
          br(0),
        )),
        get(A), get(A_ROW), i32Add, set(A),
        get(C), get(LDC), i32Add, set(C),
        get(M), i32(1), i32Sub, set(M),
        br(0),
      )),
    ],
  };
}
