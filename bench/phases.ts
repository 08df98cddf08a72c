/**
 * The four model measurements of the benchmark. Each runs in its own child process (run.ts --child=NAME)
 * so that its peak RSS is its own.
 */
import { getKernels } from '../src/kernels/index.js';
import type { FArray, Kernels } from '../src/kernels/types.js';
import { backward, zeroGrads } from '../src/model/backward.js';
import type { CausalLM } from '../src/model/causal-lm.js';
import { parseConfig } from '../src/model/config.js';
import { generate } from '../src/model/generate.js';
import { meanCrossEntropy, shiftedTargets } from '../src/model/loss.js';
import { randomModel } from '../src/model/random-init.js';
import { cpuMs, median, nowMs, peakRssMiB, rssMiB, smolLM2Config, timeIt, tokenIds, type BenchConfig, type Timing } from './common.js';

export const MODEL_PHASES = ['forward', 'backward-input', 'backward-params', 'decode'] as const;
export type ModelPhase = (typeof MODEL_PHASES)[number];

export interface PhaseResult {
  phase: string;
  kernels: string;
  timing: Timing;
  /** Model construction (random init) time and RSS right after it, before the measurement. */
  initMs: number;
  rssAfterInitMiB: number;
  /** RSS high-water mark of the whole child process at the end. */
  peakMiB: number;
  /** CPU time (user + system) of the whole child process. */
  cpuMs: number;
  extra: Record<string, number>;
}

export function buildModel(cfg: BenchConfig, kernels: Kernels = getKernels()): CausalLM {
  return randomModel(parseConfig(smolLM2Config(cfg.layers), 'bench-config'), kernels, Float32Array, { seed: cfg.seed, dtype: cfg.dtype ?? 'f32' });
}

/** One forward pass with logits for every position. */
export function forwardOnce(model: CausalLM, ids: Int32Array): FArray {
  const out = model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows: 'all' });
  return out.logits as FArray;
}

/**
 * Forward with saved activations, mean next-token cross-entropy, backward. `embeds` given: the input is
 * inputs_embeds and only d loss / d inputs_embeds is computed; else the input is ids and gradients go to `grads`.
 */
export function forwardBackward(
  model: CausalLM, ids: Int32Array, targets: Int32Array, embeds: FArray | null, grads: Map<string, FArray> | null,
): { loss: number; inputGrad: FArray | null } {
  const T = ids.length;
  const out = model.forward(
    embeds
      ? { batch: 1, seqLen: T, inputsEmbeds: embeds, logitRows: 'all', saveForBackward: true }
      : { batch: 1, seqLen: T, inputIds: ids, logitRows: 'all', saveForBackward: true },
  );
  const logits = out.logits as FArray;
  const { loss } = meanCrossEntropy(model.kernels, logits, targets, model.config.vocabSize, true);
  const inputGrad = backward(model, out.tape!, logits, { inputGrad: embeds !== null, paramGrads: grads });
  return { loss, inputGrad };
}

export function runPhase(phase: ModelPhase, cfg: BenchConfig): PhaseResult {
  const kernels = getKernels();
  const t0 = nowMs();
  const model = buildModel(cfg, kernels);
  const initMs = nowMs() - t0;
  const rssAfterInitMiB = rssMiB();
  const V = model.config.vocabSize;
  const ids = tokenIds(cfg.seqLen, V, cfg.seed);
  const targets = shiftedTargets(ids, null, 1, cfg.seqLen);
  const extra: Record<string, number> = {};
  let timing: Timing;

  switch (phase) {
    case 'forward': {
      let sink = 0;
      timing = timeIt(() => {
        const logits = forwardOnce(model, ids);
        sink += logits[logits.length - 1];
      }, cfg.reps);
      extra.finite = Number.isFinite(sink) ? 1 : 0;
      break;
    }
    case 'backward-input': {
      const embeds = model.embed(ids);
      let loss = NaN;
      timing = timeIt(() => {
        loss = forwardBackward(model, ids, targets, embeds, null).loss;
      }, cfg.reps);
      extra.loss = loss;
      break;
    }
    case 'backward-params': {
      // Gradient buffers are zeroed outside the timed region (the peer sets .grad = None outside it too).
      const grads = zeroGrads(model);
      let loss = NaN;
      timing = timeIt(
        () => {
          loss = forwardBackward(model, ids, targets, null, grads).loss;
        },
        cfg.reps,
        () => {
          for (const g of grads.values()) g.fill(0);
        },
      );
      extra.loss = loss;
      break;
    }
    case 'decode': {
      const prompt = Array.from(tokenIds(cfg.promptLen, V, cfg.seed + 1));
      let firstStepAt = 0;
      const prefill: number[] = [];
      let made = 0;
      timing = timeIt(() => {
        const start = nowMs();
        const r = generate(model, [prompt], {
          maxNewTokens: cfg.newTokens,
          eosTokenIds: [],
          onStep: (s) => {
            if (s === 0) firstStepAt = nowMs();
          },
        });
        prefill.push(firstStepAt - start);
        made = r.tokens[0].length;
      }, cfg.decodeReps);
      extra.newTokens = made;
      extra.tokensPerSec = (made / timing.medianMs) * 1000;
      // Prefill = the prompt's forward + the first argmax; the rest is (newTokens − 1) one-token steps.
      const pre = median(prefill.length > 1 ? prefill.slice(1) : prefill);
      extra.prefillMs = pre;
      extra.decodeOnlyTokensPerSec = ((made - 1) / (timing.medianMs - pre)) * 1000;
      break;
    }
  }
  return { phase, kernels: kernels.name, timing, initMs, rssAfterInitMiB, peakMiB: peakRssMiB(), cpuMs: cpuMs(), extra };
}
