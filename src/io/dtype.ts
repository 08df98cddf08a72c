/**
 * float16 / bfloat16 <-> float32 conversion.
 *
 * Widening (f16 -> f32, bf16 -> f32) is exact. Narrowing (f32 -> f16, f32 -> bf16) rounds to
 * nearest, ties to even, exactly like IEEE 754 / numpy / PyTorch: values too large for float16
 * become ±Inf, values below half the smallest float16 subnormal become ±0, signs of zeros are
 * kept, ±Inf stay ±Inf, and NaN stays NaN (quiet, sign and top payload bits kept).
 *
 * The array functions work on raw bit patterns through Uint16Array / Uint32Array views: no
 * per-element allocation, one table lookup per element for f16 -> f32.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Bit pattern of a number after rounding it to float32 (round to nearest even). */
export function f32Bits(value: number): number {
  f32Scratch[0] = value;
  return u32Scratch[0]!;
}

/** The float32 value with the given 32-bit pattern. */
export function f32FromBits(bits: number): number {
  u32Scratch[0] = bits;
  return f32Scratch[0]!;
}

/** float32 bit pattern of a float16 bit pattern (exact). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // Inf / NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal: value = mant * 2^-24. Normalise so the implicit bit sits at bit 10.
  let e = 1;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | ((e + 112) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** float16 bit pattern of a float32 bit pattern, rounded to nearest even. */
function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a >= 0x47800000) {
    // |v| >= 2^16 (always overflows), Inf or NaN.
    if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff); // NaN: quiet, top payload bits
    return sign | 0x7c00;
  }
  if (a >= 0x38800000) {
    // Result is a float16 normal (or rounds up to Inf for |v| >= 65520): rebias 127 -> 15, then
    // round the 13 dropped mantissa bits to nearest even; a carry correctly bumps the exponent.
    const r = a - 0x38000000;
    return sign | ((r + 0xfff + ((r >>> 13) & 1)) >>> 13);
  }
  // Result is a float16 subnormal or zero: m = round(|v| / 2^-24).
  const e = a >>> 23;
  if (e < 102) return sign; // |v| < 2^-25: rounds to zero (2^-25 itself is a tie, to even 0)
  const full = 0x800000 | (a & 0x7fffff);
  const shift = 126 - e; // 14 .. 24
  let m = full >>> shift;
  const rem = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (m & 1) !== 0)) m++; // may reach 0x400 = smallest normal
  return sign | m;
}

/** bfloat16 bit pattern of a float32 bit pattern, rounded to nearest even. */
function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x0040) & 0xffff; // NaN stays (quiet) NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff; // carry into exponent -> Inf is right
}

let f16Table: Uint32Array | undefined;
/** 65536-entry table: float16 bits -> float32 bits (256 KiB, built on first use). */
function f16ToF32Table(): Uint32Array {
  if (f16Table === undefined) {
    const t = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Bits(h);
    f16Table = t;
  }
  return f16Table;
}

/** The number a float16 bit pattern stands for. */
export function f16BitsToNumber(h: number): number {
  return f32FromBits(f16BitsToF32Bits(h & 0xffff));
}

/** float16 bit pattern nearest (ties to even) to `value`, after first rounding it to float32. */
export function numberToF16Bits(value: number): number {
  return f32BitsToF16Bits(f32Bits(value));
}

/** The number a bfloat16 bit pattern stands for. */
export function bf16BitsToNumber(b: number): number {
  return f32FromBits(((b & 0xffff) << 16) >>> 0);
}

/** bfloat16 bit pattern nearest (ties to even) to `value`, after first rounding it to float32. */
export function numberToBf16Bits(value: number): number {
  return f32BitsToBf16Bits(f32Bits(value));
}

function u32View(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function checkLengths(fn: string, srcLen: number, dstLen: number): void {
  if (dstLen < srcLen) throw new RangeError(`${fn}: destination holds ${dstLen} elements, source has ${srcLen}`);
}

/**
 * Widens float16 bit patterns to float32 (exact). Writes `src.length` elements into `dst`
 * (allocated when omitted) and returns it.
 *
 * Aliasing: `src` may be the upper half of `dst`'s own bytes (src element i at byte
 * `dst.byteOffset + 2 * n + 2 * i`, n = src.length); the forward loop never overwrites an
 * element it has not read yet. The safetensors reader relies on this to convert in place.
 */
export function f16ToF32Array(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  checkLengths('f16ToF32Array', src.length, dst.length);
  const table = f16ToF32Table();
  const out = u32View(dst);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
  return dst;
}

/** Widens bfloat16 bit patterns to float32 (exact). Same contract (and aliasing rule) as {@link f16ToF32Array}. */
export function bf16ToF32Array(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  checkLengths('bf16ToF32Array', src.length, dst.length);
  const out = u32View(dst);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = src[i]! << 16;
  return dst;
}

/** Narrows float32 to float16 bit patterns, round to nearest even. Writes `src.length` elements into `dst` (allocated when omitted). */
export function f32ToF16Array(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLengths('f32ToF16Array', src.length, dst.length);
  const bits = u32View(src);
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = f32BitsToF16Bits(bits[i]!);
  return dst;
}

/** Narrows float32 to bfloat16 bit patterns, round to nearest even. Writes `src.length` elements into `dst` (allocated when omitted). */
export function f32ToBf16Array(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLengths('f32ToBf16Array', src.length, dst.length);
  const bits = u32View(src);
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = f32BitsToBf16Bits(bits[i]!);
  return dst;
}

/** Rounds float32 values to the nearest float16 (ties to even) and back, in place or into `dst`. */
export function roundToF16(src: Float32Array, dst: Float32Array = src): Float32Array {
  checkLengths('roundToF16', src.length, dst.length);
  const table = f16ToF32Table();
  const inBits = u32View(src);
  const outBits = u32View(dst);
  for (let i = 0; i < src.length; i++) outBits[i] = table[f32BitsToF16Bits(inBits[i]!)]!;
  return dst;
}

/** Rounds float32 values to the nearest bfloat16 (ties to even) and back, in place or into `dst`. */
export function roundToBf16(src: Float32Array, dst: Float32Array = src): Float32Array {
  checkLengths('roundToBf16', src.length, dst.length);
  const inBits = u32View(src);
  const outBits = u32View(dst);
  for (let i = 0; i < src.length; i++) outBits[i] = f32BitsToBf16Bits(inBits[i]!) << 16;
  return dst;
}
