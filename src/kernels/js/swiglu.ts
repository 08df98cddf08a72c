import type { FArray } from '../types.js';

export function swiglu(g: FArray, u: FArray, h: FArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const z = g[i];
    h[i] = (z / (1 + Math.exp(-z))) * u[i];
  }
}

export function swigluBackward(dh: FArray, g: FArray, u: FArray, dg: FArray, du: FArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const z = g[i];
    const sig = 1 / (1 + Math.exp(-z));
    const d = dh[i];
    du[i] = d * z * sig;
    dg[i] = d * u[i] * sig * (1 + z * (1 - sig));
  }
}
