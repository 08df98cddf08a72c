/**
 * SwiGLU forward and backward over four lanes at a time (float32, exp from simd-math.ts). Pointers in
 * bytes; `vectors` is the number of f32x4 groups (the caller pads the tail).
 */
import {
  block, br, brIf, f32x4Add, f32x4Const, f32x4Div, f32x4Mul, f32x4Neg, f32x4Sub, get, I32, i32, i32Add, i32Eqz,
  i32Sub, loop, set, v128Load, v128Store, V128, type Bytes, type FuncDef,
} from './encode.js';
import { expF32x4 } from './simd-math.js';

/** Advances each pointer local by 16 bytes and decrements the counter local. */
function step(pointers: number[], counter: number): Bytes[] {
  return [...pointers.flatMap((p) => [get(p), i32(16), i32Add, set(p)]), get(counter), i32(1), i32Sub, set(counter)];
}

/** swiglu(g, u, h, vectors): h = g·σ(g)·u, computed as (g / (1 + e^−g))·u. */
export function swigluFunc(): FuncDef {
  const G = 0, U = 1, H = 2, NV = 3;
  const Z = 4, T = 5, N = 6;
  return {
    name: 'swiglu',
    params: [I32, I32, I32, I32],
    locals: [V128, V128, V128],
    body: [
      block(loop(
        get(NV), i32Eqz, brIf(1),
        get(G), v128Load(), set(Z),
        get(H),
        get(Z), f32x4Const(1), ...expF32x4([get(Z), f32x4Neg], T, N), f32x4Add, f32x4Div,
        get(U), v128Load(), f32x4Mul,
        v128Store(),
        ...step([G, U, H], NV),
        br(0),
      )),
    ],
  };
}

/**
 * swigluBackward(dh, g, u, dg, du, vectors): with s = σ(g) = 1/(1 + e^−g): du = dh·g·s,
 * dg = dh·u·s·(1 + g·(1 − s)). dg may be dh (each group is read before it is written).
 */
export function swigluBackwardFunc(): FuncDef {
  const DH = 0, G = 1, U = 2, DG = 3, DU = 4, NV = 5;
  const Z = 6, S = 7, D = 8, T = 9, N = 10;
  return {
    name: 'swigluBackward',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [V128, V128, V128, V128, V128],
    body: [
      block(loop(
        get(NV), i32Eqz, brIf(1),
        get(G), v128Load(), set(Z),
        get(DH), v128Load(), set(D),
        f32x4Const(1), f32x4Const(1), ...expF32x4([get(Z), f32x4Neg], T, N), f32x4Add, f32x4Div, set(S),
        get(DU), get(D), get(Z), f32x4Mul, get(S), f32x4Mul, v128Store(),
        get(DG),
        get(D), get(U), v128Load(), f32x4Mul, get(S), f32x4Mul,
        f32x4Const(1), get(Z), f32x4Const(1), get(S), f32x4Sub, f32x4Mul, f32x4Add, f32x4Mul,
        v128Store(),
        ...step([DH, G, U, DG, DU], NV),
        br(0),
      )),
    ],
  };
}
