/**
 * The row-wise parts of attention over four keys at a time (float32): the masked causal softmax of a
 * score block and the softmax backward dS = P∘(dP − rowsum(P∘dP))·scale. Pointers and strides in bytes.
 */
import {
  block, br, brIf, f32, f32Div, f32Eq, f32x4Add, f32x4Const, f32x4Max, f32x4Mul, f32x4Splat, f32x4Sub, get, I32,
  F32, i32, i32Add, i32GeS, i32LtS, i32Mul, i32ShrS, i32x4Add, i32x4Const, i32x4LtS, i32x4Splat, ifElse, loop, select,
  set, v128And, v128Bitselect, v128Load, v128Store, v128Zero, V128, type Bytes, type FuncDef,
} from './encode.js';
import { expF32x4, maxLanes, sumLanes } from './simd-math.js';

const NEG_INF = -Infinity;

/**
 * softmax(s, ld, rows, keys, past, mask): in place on the rows×keys block at s (row stride ld), row t
 * normalised over the keys k < min(past + t + 1, keys) whose mask lane (i32 at mask + 4k) is −1 (all
 * bits set); every other key of the row, up to keys rounded up to 4, gets 0. A row with no allowed key
 * is all zeros.
 */
export function softmaxFunc(): FuncDef {
  const S = 0, LD = 1, ROWS = 2, KEYS = 3, PAST = 4, MASK = 5;
  const T = 6, ROW = 7, LIMIT = 8, NV = 9, NS = 10, V = 11, PTR = 12, MPTR = 13;
  const MX = 14, VALID = 15, LANES = 16, LIMV = 17, VM = 18, SUM = 19, E = 20, TX = 21, TN = 22;
  // Per vector: VALID = lane < limit and mask lane set; LANES advances by 4.
  const valid: Bytes[] = [get(LANES), get(LIMV), i32x4LtS, get(MPTR), v128Load(), v128And, set(VALID)];
  const advance: Bytes[] = [
    get(LANES), i32x4Const(4, 4, 4, 4), i32x4Add, set(LANES),
    get(PTR), i32(16), i32Add, set(PTR), get(MPTR), i32(16), i32Add, set(MPTR), get(V), i32(1), i32Add, set(V),
  ];
  const restart: Bytes[] = [i32x4Const(0, 1, 2, 3), set(LANES), get(ROW), set(PTR), get(MASK), set(MPTR), i32(0), set(V)];
  /** A loop over vectors V < `end` (a local) running `body`. */
  const overVectors = (end: number, body: Bytes[]): Bytes => block(loop(get(V), get(end), i32GeS, brIf(1), ...body, br(0)));
  const zeroFrom = (start: Bytes[]): Bytes[] => [
    ...start,
    overVectors(NS, [get(PTR), v128Zero, v128Store(), get(PTR), i32(16), i32Add, set(PTR), get(V), i32(1), i32Add, set(V)]),
  ];
  return {
    name: 'softmax',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, ...new Array<typeof V128>(9).fill(V128)],
    body: [
      get(KEYS), i32(3), i32Add, i32(2), i32ShrS, set(NS),
      i32(0), set(T),
      block(loop(
        get(T), get(ROWS), i32GeS, brIf(1),
        get(S), get(T), get(LD), i32Mul, i32Add, set(ROW),
        // limit = min(past + t + 1, keys)
        get(PAST), get(T), i32Add, i32(1), i32Add, get(KEYS),
        get(PAST), get(T), i32Add, i32(1), i32Add, get(KEYS), i32LtS, select, set(LIMIT),
        get(LIMIT), i32(3), i32Add, i32(2), i32ShrS, set(NV),
        get(LIMIT), i32x4Splat, set(LIMV),
        // Pass 1: the maximum over the allowed keys.
        f32x4Const(NEG_INF), set(MX),
        ...restart,
        overVectors(NV, [
          ...valid,
          get(MX), get(PTR), v128Load(), f32x4Const(NEG_INF), get(VALID), v128Bitselect, f32x4Max, set(MX),
          ...advance,
        ]),
        ...maxLanes(MX), f32(NEG_INF), f32Eq,
        ifElse(
          // No allowed key: the whole row is 0.
          zeroFrom([get(ROW), set(PTR), i32(0), set(V)]),
          [
            ...maxLanes(MX), f32x4Splat, set(VM),
            // Pass 2: e = exp(x − max) on allowed keys, 0 elsewhere; their sum.
            v128Zero, set(SUM),
            ...restart,
            overVectors(NV, [
              ...valid,
              get(PTR),
              ...expF32x4([get(PTR), v128Load(), get(VM), f32x4Sub], TX, TN), get(VALID), v128And, set(E),
              get(E), v128Store(),
              get(SUM), get(E), f32x4Add, set(SUM),
              ...advance,
            ]),
            // Pass 3: divide by the sum (as 1/sum, once per row); zero the keys past the limit.
            f32(1), ...sumLanes(SUM), f32Div, f32x4Splat, set(E),
            ...restart,
            overVectors(NV, [get(PTR), get(PTR), v128Load(), get(E), f32x4Mul, v128Store(), ...advance]),
            ...zeroFrom([]),
          ],
        ),
        get(T), i32(1), i32Add, set(T),
        br(0),
      )),
    ],
  };
}

/**
 * softmaxBackward(p, ldp, d, ldd, rows, keys, scale): for each row t, dot = Σ_{k<keys} p[t,k]·d[t,k], then
 * d[t,k] = p[t,k]·(d[t,k] − dot)·scale for k < keys rounded up to 4 (the extra lanes of d are padding).
 */
export function softmaxBackwardFunc(): FuncDef {
  const P = 0, LDP = 1, D = 2, LDD = 3, ROWS = 4, KEYS = 5, SCALE = 6;
  const T = 7, NS = 8, V = 9, PP = 10, PD = 11;
  const ACC = 12, LANES = 13, KEYV = 14, DOT = 15, SC = 16;
  const restart: Bytes[] = [
    get(P), get(T), get(LDP), i32Mul, i32Add, set(PP), get(D), get(T), get(LDD), i32Mul, i32Add, set(PD),
    i32(0), set(V), i32x4Const(0, 1, 2, 3), set(LANES),
  ];
  const advance: Bytes[] = [
    get(PP), i32(16), i32Add, set(PP), get(PD), i32(16), i32Add, set(PD), get(V), i32(1), i32Add, set(V),
    get(LANES), i32x4Const(4, 4, 4, 4), i32x4Add, set(LANES),
  ];
  const overVectors = (body: Bytes[]): Bytes => block(loop(get(V), get(NS), i32GeS, brIf(1), ...body, br(0)));
  return {
    name: 'softmaxBackward',
    params: [I32, I32, I32, I32, I32, I32, F32],
    locals: [I32, I32, I32, I32, I32, V128, V128, V128, V128, V128],
    body: [
      get(KEYS), i32(3), i32Add, i32(2), i32ShrS, set(NS),
      get(KEYS), i32x4Splat, set(KEYV),
      get(SCALE), f32x4Splat, set(SC),
      i32(0), set(T),
      block(loop(
        get(T), get(ROWS), i32GeS, brIf(1),
        v128Zero, set(ACC),
        ...restart,
        overVectors([
          get(ACC), get(PP), v128Load(), get(PD), v128Load(), f32x4Mul, get(LANES), get(KEYV), i32x4LtS, v128And, f32x4Add, set(ACC),
          ...advance,
        ]),
        ...sumLanes(ACC), f32x4Splat, set(DOT),
        ...restart,
        overVectors([
          get(PD), get(PP), v128Load(), get(PD), v128Load(), get(DOT), f32x4Sub, f32x4Mul, get(SC), f32x4Mul, v128Store(),
          ...advance,
        ]),
        get(T), i32(1), i32Add, set(T),
        br(0),
      )),
    ],
  };
}
