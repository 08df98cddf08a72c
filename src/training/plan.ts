/**
 * The order of training: each epoch shuffles the samples with the run's seeded RNG, cuts the order
 * into optimizer steps of `batchSize` samples (the last step of an epoch may be smaller), and splits
 * each step into micro-batches of `microBatch` samples grouped by length (longest first), so that a
 * micro-batch wastes little padding. Grouping happens inside a step, so it changes only how a step's
 * gradient is accumulated, never which samples a step sees.
 */
import { LeafError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { lengthGroupedMicroBatches } from './batch.js';
import type { Pairing } from './pairing.js';

/** Steps of one epoch, each a list of micro-batches of sample indices. */
export type EpochPlan = number[][][];

export function stepsPerEpoch(samples: number, batchSize: number): number {
  return Math.ceil(samples / batchSize);
}

/** The plan of the epoch whose shuffle starts from `rng`'s current state (the RNG advances). */
export function planEpoch(rng: Rng, lengths: readonly number[], batchSize: number, microBatch: number): EpochPlan {
  checkSizes(batchSize, microBatch);
  const order = rng.shuffle(Array.from({ length: lengths.length }, (_, i) => i));
  const steps: EpochPlan = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const group = order.slice(i, i + batchSize);
    steps.push(lengthGroupedMicroBatches(lengths, group, microBatch, Math.ceil(group.length / microBatch)));
  }
  return steps;
}

function checkSizes(batchSize: number, microBatch: number): void {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new LeafError(`batch size must be an integer ≥ 1, got ${batchSize}`);
  if (!(Number.isInteger(microBatch) && microBatch >= 1 && microBatch <= batchSize)) {
    throw new LeafError(`micro-batch size must be an integer in [1, batch size ${batchSize}], got ${microBatch}`);
  }
}

/**
 * The epoch plan with paired counterfactuals (pairing.ts): the originals are shuffled and cut into steps of
 * `batchSize` exactly as planEpoch does for a run on the originals alone (same RNG draws, so a plain-KD run
 * with the same seed sees the same original batches, step for step), and each step also holds the
 * counterfactuals of its originals; the step's samples are then grouped by length into micro-batches of at
 * most `microBatch` samples. With no counterfactuals this is planEpoch.
 */
export function planPairedEpoch(rng: Rng, lengths: readonly number[], pairing: Pairing, batchSize: number, microBatch: number): EpochPlan {
  checkSizes(batchSize, microBatch);
  const order = rng.shuffle(Array.from({ length: pairing.originals.length }, (_, i) => i));
  const steps: EpochPlan = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const group = order.slice(i, i + batchSize);
    const members = [...group.map((k) => pairing.originals[k]), ...group.flatMap((k) => pairing.counterfactualsOf[k])];
    steps.push(lengthGroupedMicroBatches(lengths, members, microBatch, Math.ceil(members.length / microBatch)));
  }
  return steps;
}
