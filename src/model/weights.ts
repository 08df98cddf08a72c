/**
 * A model's weight storage: float32 (or float64 for reference checks), or bfloat16 for the weight
 * matrices (a Uint16Array of bf16 bit patterns: half the resident memory). Norm weights and biases are
 * always float; activations, norms, softmax and losses stay float32 whatever the weights are.
 *
 * In leaf a Uint16Array weight always holds bfloat16 bits (float16 checkpoints are widened to float32
 * or rounded to bfloat16 at load time).
 */
import { bf16ToF32Array, f32ToBf16Array } from '../io/dtype.js';
import type { FArray, Kernels } from '../kernels/types.js';
import { option } from '../util/option-spec.js';

/** A parameter tensor as resident in memory. */
export type Weight = FArray | Uint16Array;

/** Resident dtype of a model's weight matrices. */
export type WeightDtype = 'f32' | 'bf16';

export const WEIGHT_DTYPES: readonly WeightDtype[] = ['f32', 'bf16'];

/** The commands' --dtype option (an option spec entry: util/option-spec.ts), the resident dtype of the weight matrices of models loaded from folders. */
export const DTYPE_OPTION = option<WeightDtype | 'auto'>({
  flag: '--dtype <dtype>', kind: 'choice', choices: ['auto', 'f32', 'bf16'], default: 'auto',
  help: 'weights in memory: auto (bf16 for a BF16 checkpoint, else f32) | f32 | bf16 (half the memory; float32 accumulation)',
});

/** The options of a command that loads a model itself (generate, eval). */
export const MODEL_SPEC = { dtype: DTYPE_OPTION };

export function isBf16(w: Weight): w is Uint16Array {
  return w instanceof Uint16Array;
}

/** Whether a parameter is a weight matrix (stored in bf16 by a bf16 model) rather than a norm weight or bias. */
export function isMatrixShape(shape: readonly number[]): boolean {
  return shape.length === 2;
}

/** C = alpha·op(A)·op(W) + beta·C with W float or bfloat16 (then through Kernels.gemmBf16). */
export function gemmW(
  K: Kernels, transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: FArray, lda: number, w: Weight, ldw: number, beta: number, c: FArray, ldc: number,
): void {
  if (isBf16(w)) K.gemmBf16(transA, transB, m, n, k, alpha, a, lda, w, ldw, beta, c, ldc);
  else K.gemm(transA, transB, m, n, k, alpha, a, lda, w, ldw, beta, c, ldc);
}

/** Copies w[start, end) into out at outOffset, widening bfloat16 exactly. */
export function copyRow(w: Weight, start: number, end: number, out: FArray, outOffset: number): void {
  if (!isBf16(w)) {
    out.set(w.subarray(start, end), outOffset);
  } else if (out instanceof Float32Array) {
    bf16ToF32Array(w.subarray(start, end), out.subarray(outOffset, outOffset + end - start));
  } else {
    const tmp = bf16ToF32Array(w.subarray(start, end));
    out.set(tmp, outOffset);
  }
}

/** The weight's values as float (a bf16 weight widened exactly into a new Float32Array; float returned as is). */
export function asFloat(w: Weight): FArray {
  return isBf16(w) ? bf16ToF32Array(w) : w;
}

/** The weight's values as float32 (a bf16 weight widened exactly into a new array; float32 returned as is). */
export function asFloat32(w: Weight): Float32Array {
  if (isBf16(w)) return bf16ToF32Array(w);
  return w instanceof Float32Array ? w : Float32Array.from(w);
}

/** Rounds float values to bfloat16 bits (nearest, ties to even). */
export function toBf16(w: FArray): Uint16Array {
  return f32ToBf16Array(w instanceof Float32Array ? w : Float32Array.from(w));
}

/** Whether any bfloat16 value is NaN or ±Inf (exponent bits all ones). */
export function hasNonFiniteBf16(w: Uint16Array): boolean {
  for (let i = 0; i < w.length; i++) if ((w[i] & 0x7f80) === 0x7f80) return true;
  return false;
}
