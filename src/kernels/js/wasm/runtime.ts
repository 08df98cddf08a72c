/**
 * The WebAssembly runtime of the float32 TypeScript kernels: one module instance and its memory per
 * thread, grown on demand. Kernels stage their operands into the memory (see Layout), call the exports,
 * and copy results back; nothing stays in the memory between calls.
 *
 * Available wherever WebAssembly SIMD is (Node ≥ 16.4 on x86-64 and arm64); LEAF_WASM=0 turns it off,
 * leaving the scalar TypeScript kernels.
 */
import { kernelModuleBytes, type KernelExports } from './module.js';

/** The parts of the WebAssembly JS API used here (declared locally: the project compiles without lib.dom). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}

const PAGE_BYTES = 65536;
/**
 * Size limits (mutable for tests only): the memory is kept below maxBytes (2 GiB, so byte addresses stay
 * positive 32-bit integers); a kernel stages at most about chunkFloats floats at once, larger calls are
 * cut into chunks (batch rows, element ranges).
 */
export const wasmLimits = { maxBytes: 2 ** 31 - PAGE_BYTES, chunkFloats: 1 << 24 };

/** Offsets (in floats, 16-byte aligned) of the regions of one kernel call in the memory. */
export class Layout {
  size = 0;

  /** A region of n floats followed by `slack` spare floats (room for the over-reads of a partial SIMD tile). */
  take(n: number, slack = 16): number {
    const off = this.size;
    this.size = (off + n + slack + 3) & ~3;
    return off;
  }
}

export class WasmRuntime {
  f32: Float32Array;
  i32: Int32Array;

  constructor(private readonly memory: WasmMemory, readonly fns: KernelExports) {
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }

  /**
   * Makes the memory hold at least `floats` floats; afterwards f32 and i32 view all of it. Returns false
   * (memory unchanged) when it cannot grow that far: the caller then uses the scalar kernel.
   */
  reserve(floats: number): boolean {
    const bytes = floats * 4;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > wasmLimits.maxBytes) return false;
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
      } catch {
        return false;
      }
    }
    if (this.f32.buffer !== this.memory.buffer) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
    return true;
  }
}

let instance: WasmRuntime | null | undefined;

/** The WebAssembly runtime of this thread, or null where WebAssembly SIMD is missing or LEAF_WASM=0. */
export function wasmRuntime(): WasmRuntime | null {
  if (instance !== undefined) return instance;
  instance = null;
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (process.env.LEAF_WASM === '0' || !wa) return instance;
  try {
    const bytes = kernelModuleBytes();
    if (!wa.validate(bytes)) return instance;
    const memory = new wa.Memory({ initial: 16 });
    const inst = new wa.Instance(new wa.Module(bytes), { env: { memory } });
    instance = new WasmRuntime(memory, inst.exports as KernelExports);
  } catch {
    instance = null;
  }
  return instance;
}
