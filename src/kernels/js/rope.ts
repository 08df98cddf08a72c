import type { FArray } from '../types.js';

export function rope(x: FArray, cos: FArray, sin: FArray, rows: number, heads: number, headDim: number, inverse: boolean): void {
  const half = headDim >> 1;
  const width = heads * headDim;
  const sign = inverse ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const cs = r * half;
    for (let h = 0; h < heads; h++) {
      const base = r * width + h * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[cs + i], s = sign * sin[cs + i];
        const x1 = x[base + i], x2 = x[base + half + i];
        x[base + i] = x1 * c - x2 * s;
        x[base + half + i] = x2 * c + x1 * s;
      }
    }
  }
}
