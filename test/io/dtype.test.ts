import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bf16BitsToNumber,
  bf16ToF32Array,
  f16BitsToNumber,
  f16ToF32Array,
  f32Bits,
  f32FromBits,
  f32ToBf16Array,
  f32ToF16Array,
  numberToBf16Bits,
  numberToF16Bits,
  roundToBf16,
  roundToF16,
} from '../../src/io/dtype.js';

/** Independent float16 decoder (arithmetic, not bit tricks). */
function refF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? s * Infinity : NaN;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Positive finite float16 values in increasing order (index = bit pattern 0..0x7bff). */
const POS_F16: number[] = Array.from({ length: 0x7c00 }, (_, h) => refF16(h));

/** Reference f32 -> f16 bits: nearest by exact distance, ties to even, 2^16 standing for overflow. */
function refToF16Bits(v: number): number {
  if (Number.isNaN(v)) return -1;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  // binary search: largest index with POS_F16[i] <= a
  let lo = 0;
  let hi = POS_F16.length - 1;
  if (a >= POS_F16[hi]!) lo = hi;
  else {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (POS_F16[mid]! <= a) lo = mid;
      else hi = mid;
    }
  }
  const below = POS_F16[lo]!;
  const above = lo + 1 < POS_F16.length ? POS_F16[lo + 1]! : 65536; // 0x7c00 = overflow -> Inf
  const dBelow = a - below;
  const dAbove = above - a;
  let pick: number;
  if (dBelow < dAbove) pick = lo;
  else if (dAbove < dBelow) pick = lo + 1;
  else pick = lo % 2 === 0 ? lo : lo + 1;
  return sign | pick; // pick 0x7c00 is Inf
}

test('f16 -> f32 is exact for all 65536 patterns', () => {
  const src = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) src[i] = i;
  const out = f16ToF32Array(src);
  for (let h = 0; h < 65536; h++) {
    const ref = refF16(h);
    if (Number.isNaN(ref)) {
      assert.ok(Number.isNaN(out[h]), `0x${h.toString(16)}`);
      assert.equal(f32Bits(out[h]!) >>> 31, h >>> 15, 'NaN sign kept');
    } else {
      assert.ok(Object.is(out[h], ref), `0x${h.toString(16)}: ${out[h]} != ${ref}`);
      assert.ok(Object.is(f16BitsToNumber(h), ref));
    }
  }
});

test('f32 -> f16 -> f32 is the identity on every float16 value, NaN stays NaN', () => {
  const all = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i;
  const backAll = f32ToF16Array(f16ToF32Array(all)); // bit-level, so NaN payloads survive
  for (let h = 0; h < 65536; h++) {
    const v = refF16(h);
    const back = backAll[h]!;
    if (Number.isNaN(v)) {
      assert.equal(back & 0x7e00, 0x7e00, 'quiet NaN');
      assert.equal(back & 0x8000, h & 0x8000, 'NaN sign');
      assert.equal(back & 0x1ff, h & 0x1ff, 'NaN low payload bits kept');
    } else {
      assert.equal(back, h, `0x${h.toString(16)}`);
      assert.equal(numberToF16Bits(v), h);
    }
  }
});

test('f32 -> f16 rounds every midpoint between neighbouring float16 values to even', () => {
  const mids: number[] = [];
  for (let i = 0; i + 1 < POS_F16.length; i++) mids.push((POS_F16[i]! + POS_F16[i + 1]!) / 2);
  mids.push((65504 + 65536) / 2); // 65520: ties to even = Inf
  const src = new Float32Array(mids.length * 2);
  for (let i = 0; i < mids.length; i++) {
    assert.equal(Math.fround(mids[i]!), mids[i], 'midpoint representable in f32');
    src[2 * i] = mids[i]!;
    src[2 * i + 1] = -mids[i]!;
  }
  const out = f32ToF16Array(src);
  for (let i = 0; i < mids.length; i++) {
    const even = i % 2 === 0 ? i : i + 1;
    assert.equal(out[2 * i], even, `midpoint ${mids[i]}`);
    assert.equal(out[2 * i + 1], 0x8000 | even, `midpoint -${mids[i]}`);
  }
  // Just off the midpoints: nearest, not even.
  for (let i = 0; i + 1 < POS_F16.length; i += 97) {
    const m = Math.fround(mids[i]!);
    const up = f32FromBits(f32Bits(m) + 1);
    const down = f32FromBits(f32Bits(m) - 1);
    if (m > 0) {
      assert.equal(numberToF16Bits(up), i + 1);
      assert.equal(numberToF16Bits(down), i);
    }
  }
});

test('f32 -> f16 agrees with the reference on 400k random float32 bit patterns', () => {
  let s = 12345;
  const n = 400_000;
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const r = (s ^ (s >>> 15)) >>> 0;
    // bias towards the float16 range: exponent in [100, 145] half of the time
    bits[i] = i & 1 ? r : ((r & 0x807fffff) | ((100 + (r % 46)) << 23)) >>> 0;
  }
  const f = new Float32Array(bits.buffer);
  const out = f32ToF16Array(f);
  for (let i = 0; i < n; i++) {
    const ref = refToF16Bits(f[i]!);
    if (ref < 0) assert.equal(out[i]! & 0x7e00, 0x7e00);
    else assert.equal(out[i], ref, `bits 0x${bits[i]!.toString(16)} (${f[i]})`);
  }
});

test('f32 -> f16 hand-picked values: ties, subnormals, ±0, overflow, Inf, NaN', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // max finite
    [65519.99609375, 0x7bff], // just below the overflow midpoint
    [65520, 0x7c00], // midpoint to 2^16: ties to even -> Inf
    [1e6, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1 + 2 ** -11, 0x3c00], // tie between 1 (even) and 1+2^-10
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 (odd) and 1+2^-9 -> up
    [1 + 2 ** -11 + 2 ** -23, 0x3c01], // just above the tie -> up
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half of it: tie to even 0
    [-(2 ** -25), 0x8000],
    [1.5 * 2 ** -25, 0x0001], // above the tie
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal ulps -> 2 (even)
    [5 * 2 ** -25, 0x0002], // tie between 2 and 3 -> 2
    [2 ** -14 - 2 ** -25, 0x0400], // tie between largest subnormal 0x3ff (odd) and smallest normal -> normal
    [2 ** -30, 0x0000],
    [1e-45, 0x0000], // float32 subnormal
  ];
  for (const [v, bits] of cases) {
    assert.equal(numberToF16Bits(v), bits, `${v} -> 0x${bits.toString(16)}`);
    assert.equal(f32ToF16Array(new Float32Array([v]))[0], bits, `array ${v}`);
  }
  const nan = numberToF16Bits(NaN);
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x3ff, 0);
  assert.ok(Number.isNaN(f16BitsToNumber(nan)));
  const negNan = f32ToF16Array(new Float32Array(new Uint32Array([0xffc00001]).buffer))[0]!;
  assert.equal(negNan & 0xfe00, 0xfe00, 'negative quiet NaN');
  const sNan = f32ToF16Array(new Float32Array(new Uint32Array([0x7f800001]).buffer))[0]!;
  assert.ok(Number.isNaN(f16BitsToNumber(sNan)), 'signalling NaN with payload only in the dropped bits stays NaN');
});

test('bf16 <-> f32: exact widening, RNE narrowing, hand-picked values', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3f80],
    [1 + 2 ** -8, 0x3f80], // tie between 1 (even) and 1+2^-7
    [1 + 3 * 2 ** -8, 0x3f82], // tie, odd below -> up
    [1 + 2 ** -8 + 2 ** -23, 0x3f81], // above the tie
    [3.3895313892515355e38, 0x7f7f], // max finite bf16
    [3.4028234663852886e38, 0x7f80], // max f32 rounds to Inf
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [2 ** -133, 0x0001], // bf16 subnormal
    [2 ** -134, 0x0000], // tie to even 0
    [3 * 2 ** -134, 0x0002],
  ];
  for (const [v, bits] of cases) {
    assert.equal(numberToBf16Bits(v), bits, `${v} -> 0x${bits.toString(16)}`);
    assert.equal(f32ToBf16Array(new Float32Array([v]))[0], bits, `array ${v}`);
  }
  const nan = numberToBf16Bits(NaN);
  assert.ok(Number.isNaN(bf16BitsToNumber(nan)));
  const sNan = f32ToBf16Array(new Float32Array(new Uint32Array([0xff800001]).buffer))[0]!;
  assert.ok(Number.isNaN(bf16BitsToNumber(sNan)), 'payload only in dropped bits stays NaN');
  assert.equal(sNan & 0x8000, 0x8000, 'NaN sign kept');
  // widening of all patterns is exact, and narrowing it back is the identity (except NaN quieting)
  const all = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i;
  const wide = bf16ToF32Array(all);
  const back = f32ToBf16Array(wide);
  const wideBits = new Uint32Array(wide.buffer); // not via numbers: that may quiet signalling NaNs
  for (let b = 0; b < 65536; b++) {
    assert.equal(wideBits[b], (b << 16) >>> 0);
    if ((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0) assert.ok(Number.isNaN(bf16BitsToNumber(back[b]!)));
    else assert.equal(back[b], b);
  }
});

test('bf16 narrowing agrees with a distance-based reference on random bit patterns', () => {
  let s = 987654321;
  for (let i = 0; i < 200_000; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = s;
    const v = f32FromBits(x);
    if (Number.isNaN(v)) continue;
    const lo = (x & 0xffff0000) >>> 0;
    const hiBits = lo + 0x10000;
    const a = Math.abs(v);
    const loV = Math.abs(f32FromBits(lo));
    const hiV = (hiBits & 0x7fffffff) === 0x7f800000 ? 2 ** 128 : Math.abs(f32FromBits(hiBits >>> 0));
    let pick: number;
    if (a - loV < hiV - a) pick = lo >>> 16;
    else if (hiV - a < a - loV) pick = (hiBits >>> 16) & 0xffff;
    else pick = (lo >>> 16) & 1 ? (hiBits >>> 16) & 0xffff : lo >>> 16;
    if ((x & 0x7fffffff) >= 0x7f800000) pick = x >>> 16; // Inf stays Inf
    assert.equal(numberToBf16Bits(v), pick, `0x${x.toString(16)}`);
  }
});

test('widening may alias the upper half of the destination (in-place conversion)', () => {
  const n = 1001;
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (i - 500) * 0.37;
  const f16 = f32ToF16Array(values);
  const bf16 = f32ToBf16Array(values);
  for (const [raw, widen, round] of [
    [f16, f16ToF32Array, roundToF16],
    [bf16, bf16ToF32Array, roundToBf16],
  ] as const) {
    const dst = new Float32Array(n);
    const upper = new Uint16Array(dst.buffer, 2 * n, n);
    upper.set(raw);
    widen(upper, dst);
    assert.deepEqual(dst, round(values, new Float32Array(n)));
  }
});

test('array conversions refuse a too-short destination', () => {
  assert.throws(() => f32ToF16Array(new Float32Array(4), new Uint16Array(3)), RangeError);
  assert.throws(() => f16ToF32Array(new Uint16Array(4), new Float32Array(3)), RangeError);
});
