import { LeafError } from '../errors.js';
import type { FArray } from '../kernels/types.js';
import { Rng } from '../util/rng.js';
import type { CausalLM } from './causal-lm.js';
import { nonFinite } from './config-checks.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) = greedy (argmax); > 0 = sample from softmax(logits / temperature). */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP (default 1). */
  topP?: number;
  seed?: number;
  /** Generation ends for a row when it emits one of these (the EOS token is kept in the output). Default: the config's eos ids. */
  eosTokenIds?: number[];
  /** Called after each new token of a row; returning true ends that row (e.g. a stop string matched). */
  shouldStop?: (row: number, newTokens: readonly number[]) => boolean;
  /** Called once per decoding step with the number of rows still running. */
  onStep?: (step: number, running: number) => void;
}

export interface GenerateResult {
  /** New tokens per prompt (EOS included when emitted). */
  tokens: number[][];
  /** Why each row ended. */
  finish: Array<'eos' | 'stop' | 'length'>;
}

/** Index of the largest value of x[o .. o+n). The first one wins ties, as torch.argmax. */
export function argmax(x: FArray, o: number, n: number): number {
  let best = 0, bv = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[o + i];
    if (v > bv || (Number.isNaN(v) && !Number.isNaN(bv))) {
      bv = v;
      best = i;
    }
  }
  return best;
}

/** Samples a token from logits row x[o .. o+n) at the given temperature and top-p. */
export function sampleToken(x: FArray, o: number, n: number, temperature: number, topP: number, rng: Rng): number {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (x[o + i] > mx) mx = x[o + i];
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((x[o + i] - mx) / temperature);
    probs[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) probs[i] /= sum;
  let candidates: number[];
  if (topP < 1) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b] - probs[a]);
    candidates = [];
    let cum = 0;
    for (const i of order) {
      candidates.push(i);
      cum += probs[i];
      if (cum >= topP) break;
    }
  } else {
    candidates = Array.from({ length: n }, (_, i) => i);
  }
  let total = 0;
  for (const i of candidates) total += probs[i];
  let u = rng.next() * total;
  for (const i of candidates) {
    u -= probs[i];
    if (u < 0) return i;
  }
  return candidates[candidates.length - 1];
}

/** Decoding never ends silently empty: non-finite logits (NaN/Inf weights or an overflowing forward pass) are an error. */
function checkLogits(logits: FArray, row: number, V: number, step: number): void {
  const bad = nonFinite(logits.subarray(row * V, (row + 1) * V));
  if (bad.count > 0) {
    throw new LeafError(`generate: the logits for new token ${step + 1} of prompt ${row + 1} are not finite (${bad.count} of ${V} are NaN or ±Inf): the weights or config.json (e.g. rms_norm_eps) make the model overflow`);
  }
}

/**
 * Autoregressive decoding of a batch of prompts (token ids), left-padded into one batch, with a KV cache.
 * Rows that finish keep being fed (their outputs are ignored) until every row has finished.
 *
 * Each row's fate is its own: a row stops at maxNewTokens or where its own sequence reaches the model's
 * max_position_embeddings (finish 'length'), whatever the other rows' lengths; a prompt that leaves no room
 * for a new token (as long as the context or longer) gets no tokens (finish 'length') and is left out of the
 * batch, so its neighbours decode exactly as they would without it.
 */
export function generate(model: CausalLM, prompts: readonly (readonly number[])[], options: GenerateOptions): GenerateResult {
  const requested = options.maxNewTokens;
  if (!Number.isInteger(requested) || requested < 0) throw new LeafError(`generate: maxNewTokens must be a non-negative integer, got ${requested}`);
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  if (!(temperature >= 0)) throw new LeafError(`generate: temperature must be ≥ 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new LeafError(`generate: topP must be in (0, 1], got ${topP}`);
  if (prompts.length > 0 && prompts.every((p) => p.length === 0)) throw new LeafError('generate: empty prompt');
  const ctx = model.config.maxPositionEmbeddings;
  const fit = prompts.flatMap((p, i) => (p.length < ctx ? [i] : []));
  const tokens: number[][] = prompts.map(() => []);
  const finish: Array<'eos' | 'stop' | 'length'> = prompts.map(() => 'length');
  if (fit.length === 0) return { tokens, finish };
  const shouldStop = options.shouldStop;
  const sub = decodeBatch(model, fit.map((i) => prompts[i]), { ...options, shouldStop: shouldStop ? (row, t) => shouldStop(fit[row], t) : undefined });
  fit.forEach((i, row) => {
    tokens[i] = sub.tokens[row];
    finish[i] = sub.finish[row];
  });
  return { tokens, finish };
}

/** Decodes prompts that each leave room for at least one new token (see generate). */
function decodeBatch(model: CausalLM, prompts: readonly (readonly number[])[], options: GenerateOptions): GenerateResult {
  const B = prompts.length;
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  const rng = new Rng(options.seed ?? 0);
  const eos = new Set(options.eosTokenIds ?? model.config.eosTokenIds);
  const V = model.config.vocabSize;
  const L = Math.max(...prompts.map((p) => p.length));
  // Each row's budget: maxNewTokens, capped where its own sequence reaches the context length; the KV cache
  // is never sized beyond the largest budget (a huge maxNewTokens costs nothing).
  const budget = prompts.map((p) => Math.min(options.maxNewTokens, model.config.maxPositionEmbeddings - p.length));
  const maxNew = Math.max(...budget);
  const tokens: number[][] = prompts.map(() => []);
  const finish: Array<'eos' | 'stop' | 'length'> = prompts.map(() => 'length');
  if (maxNew === 0) return { tokens, finish };

  const ids = new Int32Array(B * L);
  const mask = new Uint8Array(B * L);
  prompts.forEach((p, b) => {
    const off = b * L + (L - p.length);
    for (let i = 0; i < p.length; i++) {
      ids[off + i] = p[i];
      mask[off + i] = 1;
    }
  });
  const cache = model.newCache(B, L + maxNew);
  let out = model.forward({ batch: B, seqLen: L, inputIds: ids, attentionMask: mask, logitRows: 'last', cache });
  const done = budget.map((n) => n === 0);
  const step = new Int32Array(B);
  const stepMask = new Uint8Array(B).fill(1);
  for (let s = 0; s < maxNew; s++) {
    const logits = out.logits as FArray;
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        step[b] = 0;
        continue;
      }
      checkLogits(logits, b, V, s);
      const tok = temperature === 0 ? argmax(logits, b * V, V) : sampleToken(logits, b * V, V, temperature, topP, rng);
      tokens[b].push(tok);
      step[b] = tok;
      if (eos.has(tok)) {
        done[b] = true;
        finish[b] = 'eos';
      } else if (options.shouldStop?.(b, tokens[b])) {
        done[b] = true;
        finish[b] = 'stop';
      } else if (tokens[b].length >= budget[b]) done[b] = true;
    }
    const running = done.filter((d) => !d).length;
    options.onStep?.(s, running);
    if (running === 0 || s === maxNew - 1) break;
    out = model.forward({ batch: B, seqLen: 1, inputIds: step, attentionMask: stepMask, logitRows: 'last', cache });
  }
  return { tokens, finish };
}
