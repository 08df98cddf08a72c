/**
 * The kernel interface: every numeric hot loop of leaf goes through one of these functions.
 *
 * Two implementations exist: the native addon (C++ + BLAS, float32 only, plus bfloat16 weight operands) and the TypeScript fallback
 * (float32 or float64, used for finite-difference checks; its float32 GEMM, attention, SwiGLU and
 * RMSNorm run on WebAssembly SIMD assembled from TypeScript at load time, see js/wasm/). Both work in
 * place on buffers owned by the caller; nothing is allocated per call except scratch space (the
 * WebAssembly kernels copy their operands into the module's memory and the results back).
 *
 * Layout conventions (all row-major):
 * - activations are [rows, features]; rows = batch · time.
 * - a linear layer's weight is [out, in] (Hugging Face / PyTorch layout), so y = x · Wᵀ.
 * - attention tensors: q is [B, T, H·D]; k and v are [B, Scap, KVH·D] where Scap is the
 *   allocated key length (a KV cache's capacity) and S ≤ Scap keys are valid.
 */
export type FArray = Float32Array | Float64Array;

export interface AttentionShape {
  batch: number;
  /** Number of query positions in this call. */
  queries: number;
  /** Number of valid key positions (past + queries). */
  keys: number;
  /** Key row capacity of the k/v buffers (stride between batch rows, in rows). */
  keyCapacity: number;
  /** Number of keys already present before the queries of this call (KV cache length). Query t sits at key index past + t. */
  past: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Softmax scale, usually 1/√headDim. */
  scale: number;
}

export interface Kernels {
  /** 'native' or 'js'. */
  readonly name: string;
  /** Whether this implementation accepts Float64Array buffers. */
  readonly supportsFloat64: boolean;

  /**
   * C = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k, op(B) is k×n, C is m×n.
   * lda, ldb, ldc are the row strides of A, B, C as stored (A stored k×m when transA).
   * When beta is 0, C's previous contents are ignored (NaNs included).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: FArray, lda: number, b: FArray, ldb: number,
    beta: number, c: FArray, ldc: number,
  ): void;

  /**
   * As gemm, with B given as bfloat16 bit patterns (a model's bf16 weights): op(B)'s values are B's, widened
   * exactly to float32; products accumulate in float32 (float64 where A and C are Float64Array, TypeScript
   * kernels only). A and C stay float.
   */
  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: FArray, lda: number, b: Uint16Array, ldb: number,
    beta: number, c: FArray, ldc: number,
  ): void;

  /**
   * RMSNorm per row: rstd[r] = 1/√(mean(x[r,:]²) + eps); out[r,:] = x[r,:] · rstd[r] · w.
   * out may alias x. rstd (length rows) is written for the backward pass.
   */
  rmsnorm(x: FArray, w: FArray, out: FArray, rstd: FArray, rows: number, dim: number, eps: number): void;

  /**
   * Backward of rmsnorm. x is the forward input, rstd as written by rmsnorm.
   * dx is overwritten (dx = w·rstd·dy − x·rstd³·mean(dy·w·x)); dw, if not null, is accumulated (dw += Σ_r dy·x·rstd).
   * dx may alias dy.
   */
  rmsnormBackward(dy: FArray, x: FArray, w: FArray, rstd: FArray, dx: FArray, dw: FArray | null, rows: number, dim: number): void;

  /**
   * Rotary embedding in place, rotate_half convention (first half ↔ second half of each head):
   * x1' = x1·cos − x2·sin, x2' = x2·cos + x1·sin, for i < headDim/2, x1 = x[i], x2 = x[i + headDim/2].
   * x is [rows, heads·headDim]; cos and sin are [rows, headDim/2] (one row per token, by its position).
   * inverse = true applies the transposed rotation (sin → −sin): the backward pass.
   */
  rope(x: FArray, cos: FArray, sin: FArray, rows: number, heads: number, headDim: number, inverse: boolean): void;

  /** h[i] = silu(g[i]) · u[i], silu(z) = z·σ(z). h may alias neither g nor u. */
  swiglu(g: FArray, u: FArray, h: FArray, n: number): void;

  /** Backward of swiglu: dg[i] = dh·u·σ(g)(1 + g(1−σ(g))), du[i] = dh·silu(g). dg/du overwritten; dg may alias dh. */
  swigluBackward(dh: FArray, g: FArray, u: FArray, dg: FArray, du: FArray, n: number): void;

  /**
   * Causal grouped-query attention with a key padding mask.
   * Query t of batch b (key index past + t) attends to keys s ≤ past + t with keyMask[b·keyCapacity + s] ≠ 0.
   * Query head h uses KV head ⌊h / (heads / kvHeads)⌋. Scores are q·k·scale, softmax over allowed keys.
   * A query with no allowed key gets a zero output (and zero probabilities).
   * out is [B, T, H·D] (overwritten). probs, if not null, is [B, H, T, keys] and receives the softmax
   * probabilities (zero for masked keys) for the backward pass.
   */
  attention(
    q: FArray, k: FArray, v: FArray, keyMask: Uint8Array, out: FArray, probs: FArray | null, shape: AttentionShape,
  ): void;

  /**
   * Backward of attention given the probabilities saved by attention (probs non-null there).
   * dq [B, T, H·D], dk and dv [B, keyCapacity, KVH·D] are overwritten (rows ≥ keys of dk/dv are zeroed).
   */
  attentionBackward(
    dOut: FArray, q: FArray, k: FArray, v: FArray, probs: FArray,
    dq: FArray, dk: FArray, dv: FArray, shape: AttentionShape,
  ): void;

  /**
   * Row-wise softmax cross-entropy on logits [rows, vocab].
   * For each row r with targets[r] ≥ 0: loss[r] = logsumexp(logits[r]) − logits[r, targets[r]]; rows with
   * targets[r] < 0 get loss 0. If gradScale is not null, logits is overwritten in place with the gradient
   * (softmax(logits[r]) − onehot(targets[r])) · gradScale[r] (zero rows for targets[r] < 0).
   */
  crossEntropy(logits: FArray, targets: Int32Array, rows: number, vocab: number, loss: FArray, gradScale: FArray | null): void;

  /** Row-wise log-softmax: out[r,:] = x[r,:] − logsumexp(x[r,:]). out may alias x. */
  logSoftmax(x: FArray, out: FArray, rows: number, n: number): void;

  /**
   * The AdamW element update over n elements, in place on p, m, v (distinct buffers), in float64 per element
   * and bit-identical on every implementation (src/kernels/js/optim.ts is the definition): g' = g·gradScale,
   * m ← b1·m + (1−b1)·g', v ← b2·v + (1−b2)·g'², both stored; p ← p·decay − stepSize·m / (√v / sqrtBc2 + eps)
   * on the stored m and v.
   */
  adamw(p: FArray, g: FArray, m: FArray, v: FArray, n: number, c: AdamwConstants): void;

  /** out[k] = Σ x² (float64) over [k·chunk, min(n, (k+1)·chunk)), summed as sumSquares (js/optim.ts) does: bit-identical everywhere. */
  chunkSumSquares(x: FArray, n: number, chunk: number, out: Float64Array): void;
}

/** The per-step constants of the AdamW element update (src/training/adamw.ts computes them). */
export interface AdamwConstants {
  b1: number;
  b2: number;
  stepSize: number;
  decay: number;
  sqrtBc2: number;
  eps: number;
  gradScale: number;
}
