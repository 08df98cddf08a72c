/**
 * Instruction sequences shared by the WebAssembly kernels: a four-lane float32 exp and horizontal
 * reductions.
 */
import {
  f32Add, f32Max, f32x4Add, f32x4Const, f32x4ExtractLane, f32x4Max, f32x4Min, f32x4Mul, f32x4Nearest, f32x4Sub,
  get, i32, i32x4Add, i32x4Const, i32x4Shl, i32x4TruncSatF32x4S, set, type Bytes,
} from './encode.js';

/** Lower and upper clamps of exp's argument: 2^−126 ≤ result ≤ 2^127.5 (no denormal or infinite scale). */
const EXP_LO = -87.33654, EXP_HI = 88.37626;
const LOG2E = 1.44269504088896341;
/** ln 2 split in two (the first exact in few bits) for an accurate reduction x − n·ln 2. */
const LN2_HI = 0.693359375, LN2_LO = -2.12194440e-4;
/** Minimax coefficients of (eʳ − 1 − r)/r² on |r| ≤ ln2/2 (the classic single-precision expf set). */
const P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/**
 * exp of the f32x4 value that `x` pushes, left on the stack: x clamped to [−87.34, 88.38], n = round(x·log₂e),
 * r = x − n·ln 2, eʳ by a degree-7 polynomial, times 2ⁿ built in the exponent bits (about 1 ulp).
 * Arguments below −87.34 give 2^−126·e^… (≈ 1e−38), not 0: callers mask where an exact 0 matters.
 * NaN stays NaN. Uses the v128 locals `t` and `n` as scratch.
 */
export function expF32x4(x: Bytes[], t: number, n: number): Bytes[] {
  const poly: Bytes[] = [f32x4Const(P[0])];
  for (let i = 1; i < P.length; i++) poly.push(get(t), f32x4Mul, f32x4Const(P[i]), f32x4Add);
  return [
    ...x, f32x4Const(EXP_LO), f32x4Max, f32x4Const(EXP_HI), f32x4Min, set(t),
    get(t), f32x4Const(LOG2E), f32x4Mul, f32x4Nearest, set(n),
    // r = x − n·LN2_HI − n·LN2_LO
    get(t), get(n), f32x4Const(LN2_HI), f32x4Mul, f32x4Sub, get(n), f32x4Const(LN2_LO), f32x4Mul, f32x4Sub, set(t),
    // e^r ≈ 1 + r + r²·poly(r)
    ...poly, get(t), f32x4Mul, get(t), f32x4Mul, get(t), f32x4Add, f32x4Const(1), f32x4Add,
    // · 2^n: (n + 127) << 23 as float bits
    get(n), i32x4TruncSatF32x4S, i32x4Const(127, 127, 127, 127), i32x4Add, i32(23), i32x4Shl, f32x4Mul,
  ];
}

/** Horizontal sum of the f32x4 in local `v` (lanes added in the order ((0 + 1) + 2) + 3), left on the stack as f32. */
export function sumLanes(v: number): Bytes[] {
  return [get(v), f32x4ExtractLane(0), get(v), f32x4ExtractLane(1), f32Add, get(v), f32x4ExtractLane(2), f32Add, get(v), f32x4ExtractLane(3), f32Add];
}

/** Horizontal max of the f32x4 in local `v`, left on the stack as f32. */
export function maxLanes(v: number): Bytes[] {
  return [get(v), f32x4ExtractLane(0), get(v), f32x4ExtractLane(1), f32Max, get(v), f32x4ExtractLane(2), f32Max, get(v), f32x4ExtractLane(3), f32Max];
}
