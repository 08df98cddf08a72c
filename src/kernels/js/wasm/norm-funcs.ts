/**
 * RMSNorm forward and backward over four features at a time (float32), for rows whose length is a
 * multiple of 4 (the caller keeps other sizes on the scalar path). Pointers in bytes.
 */
import {
  block, br, brIf, f32, f32Div, f32Load, f32Mul, f32Sqrt, f32Store, f32x4Add, f32x4Mul, f32x4Splat, f32x4Sub,
  F32, get, I32, i32, i32Add, i32Eqz, i32Mul, i32Sub, ifElse, loop, set, v128Load, v128Store, v128Zero, V128, f32Add,
  type Bytes, type FuncDef,
} from './encode.js';
import { sumLanes } from './simd-math.js';

/** A loop over the row's vectors: V counts down from NV, pointer locals advance by 16 bytes. */
function overRow(nv: number, v: number, pointers: number[], body: Bytes[]): Bytes[] {
  return [
    get(nv), set(v),
    block(loop(
      get(v), i32Eqz, brIf(1),
      ...body,
      ...pointers.flatMap((p) => [get(p), i32(16), i32Add, set(p)]),
      get(v), i32(1), i32Sub, set(v),
      br(0),
    )),
  ];
}

/** rmsnorm(x, w, out, rstd, rows, vectors, dim, eps): rstd[r] = 1/√(mean(x[r]²) + eps); out[r] = x[r]·rstd[r]·w. */
export function rmsnormFunc(): FuncDef {
  const X = 0, W = 1, OUT = 2, RSTD = 3, ROWS = 4, NV = 5, DIM = 6, EPS = 7;
  const V = 8, PX = 9, PW = 10, PO = 11;
  const ACC = 12, RS = 13;
  return {
    name: 'rmsnorm',
    params: [I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [I32, I32, I32, I32, V128, V128],
    body: [
      block(loop(
        get(ROWS), i32Eqz, brIf(1),
        v128Zero, set(ACC),
        get(X), set(PX),
        ...overRow(NV, V, [PX], [get(ACC), get(PX), v128Load(), get(PX), v128Load(), f32x4Mul, f32x4Add, set(ACC)]),
        // rs = 1 / sqrt(ss / dim + eps)
        get(RSTD), f32(1), ...sumLanes(ACC), get(DIM), f32Div, get(EPS), f32Add, f32Sqrt, f32Div, f32Store(),
        get(RSTD), f32Load(), f32x4Splat, set(RS),
        get(X), set(PX), get(W), set(PW), get(OUT), set(PO),
        ...overRow(NV, V, [PX, PW, PO], [get(PO), get(PX), v128Load(), get(RS), f32x4Mul, get(PW), v128Load(), f32x4Mul, v128Store()]),
        get(X), get(NV), i32(16), i32Mul, i32Add, set(X),
        get(OUT), get(NV), i32(16), i32Mul, i32Add, set(OUT),
        get(RSTD), i32(4), i32Add, set(RSTD),
        get(ROWS), i32(1), i32Sub, set(ROWS),
        br(0),
      )),
    ],
  };
}

/**
 * rmsnormBackward(dy, x, w, rstd, dx, dw, rows, vectors, dim): per row, with rs = rstd[r] and
 * coef = rs³·Σ(dy·w·x)/dim: dx = dy·w·rs − x·coef; dw += dy·x·rs when dw ≠ 0 (an address; 0 = none).
 * dx may be dy.
 */
export function rmsnormBackwardFunc(): FuncDef {
  const DY = 0, X = 1, W = 2, RSTD = 3, DX = 4, DW = 5, ROWS = 6, NV = 7, DIM = 8;
  const V = 9, PD = 10, PX = 11, PW = 12, PO = 13, PG = 14;
  const ACC = 15, RS = 16, COEF = 17;
  const rowBytes: Bytes[] = [get(NV), i32(16), i32Mul];
  return {
    name: 'rmsnormBackward',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F32],
    locals: [I32, I32, I32, I32, I32, I32, V128, V128, V128],
    body: [
      block(loop(
        get(ROWS), i32Eqz, brIf(1),
        get(RSTD), f32Load(), f32x4Splat, set(RS),
        v128Zero, set(ACC),
        get(DY), set(PD), get(X), set(PX), get(W), set(PW),
        ...overRow(NV, V, [PD, PX, PW], [
          get(ACC), get(PD), v128Load(), get(PW), v128Load(), f32x4Mul, get(PX), v128Load(), f32x4Mul, f32x4Add, set(ACC),
        ]),
        // coef = rs·rs·rs·dot / dim
        get(RSTD), f32Load(), get(RSTD), f32Load(), f32Mul, get(RSTD), f32Load(), f32Mul, ...sumLanes(ACC), f32Mul, get(DIM), f32Div,
        f32x4Splat, set(COEF),
        get(DW), i32Eqz,
        ifElse([], [
          get(DY), set(PD), get(X), set(PX), get(DW), set(PG),
          ...overRow(NV, V, [PD, PX, PG], [
            get(PG), get(PG), v128Load(), get(PD), v128Load(), get(PX), v128Load(), f32x4Mul, get(RS), f32x4Mul, f32x4Add, v128Store(),
          ]),
        ]),
        get(DY), set(PD), get(X), set(PX), get(W), set(PW), get(DX), set(PO),
        ...overRow(NV, V, [PD, PX, PW, PO], [
          get(PO),
          get(PD), v128Load(), get(PW), v128Load(), f32x4Mul, get(RS), f32x4Mul,
          get(PX), v128Load(), get(COEF), f32x4Mul, f32x4Sub,
          v128Store(),
        ]),
        get(DY), ...rowBytes, i32Add, set(DY),
        get(X), ...rowBytes, i32Add, set(X),
        get(DX), ...rowBytes, i32Add, set(DX),
        get(RSTD), i32(4), i32Add, set(RSTD),
        get(ROWS), i32(1), i32Sub, set(ROWS),
        br(0),
      )),
    ],
  };
}
