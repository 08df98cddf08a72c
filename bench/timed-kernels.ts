/**
 * A timing proxy around a Kernels object: every kernel call is timed and attributed to the current
 * phase (forward / loss / backward) and, for gemm, to its shape.
 */
import type { Kernels } from '../src/kernels/types.js';
import { nowMs } from './common.js';

export interface CallStat {
  calls: number;
  ms: number;
  /** Floating-point operations (gemm only: 2·m·n·k). */
  flops: number;
}

export class KernelTimer {
  /** Label that new samples are attributed to. */
  phase = 'forward';
  enabled = false;
  /** key: `${phase}\t${kernel}` */
  readonly byKernel = new Map<string, CallStat>();
  /** key: `${phase}\t${NN|NT|TN|TT} m×n×k` */
  readonly byGemmShape = new Map<string, CallStat>();

  reset(): void {
    this.byKernel.clear();
    this.byGemmShape.clear();
  }

  private add(map: Map<string, CallStat>, key: string, ms: number, flops: number): void {
    const s = map.get(key);
    if (s) {
      s.calls++;
      s.ms += ms;
      s.flops += flops;
    } else {
      map.set(key, { calls: 1, ms, flops });
    }
  }

  /** A Kernels object that forwards to `inner` and times every function property (unknown ones included). */
  wrap(inner: Kernels): Kernels {
    const cache = new Map<PropertyKey, unknown>();
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const hit = cache.get(prop);
        if (hit) return hit;
        const fn = value as (...args: unknown[]) => unknown;
        const name = String(prop);
        const wrapped = (...args: unknown[]): unknown => {
          if (!this.enabled) return fn.apply(target, args);
          const t0 = nowMs();
          const r = fn.apply(target, args);
          const ms = nowMs() - t0;
          let flops = 0;
          if (name === 'gemm') {
            const [tA, tB, m, n, k] = args as [boolean, boolean, number, number, number];
            flops = 2 * m * n * k;
            this.add(this.byGemmShape, `${this.phase}\t${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${m}×${n}×${k}`, ms, flops);
          }
          this.add(this.byKernel, `${this.phase}\t${name}`, ms, flops);
          return r;
        };
        cache.set(prop, wrapped);
        return wrapped;
      },
    });
  }
}
