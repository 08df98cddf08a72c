/**
 * Paired counterfactuals (distill's `pairCounterfactuals`, `--pair-counterfactuals`): LeaF's hybrid loss
 * in its paired form — per original sample s, L_s + λ · Σ_{c ∈ CF(s)} L_c — instead of the reference's
 * data mixing, where counterfactual rows are shuffled in with the originals and so displace some of them
 * from a fixed number of optimizer steps.
 *
 * A counterfactual belongs to the original whose `id` equals its `source_id`. The epoch plan is built from
 * the originals alone — the same shuffle, cut into the same batches as a plain-KD run with the same seed
 * (plan.ts, planPairedEpoch) — and each counterfactual joins the step of its original. A step over the
 * originals O minimises
 *
 *     (1/|O|) · Σ_{s∈O} [ L_s + λ · Σ_{c∈CF(s)} L_c ]
 *
 * i.e. the plain-KD step objective plus an added counterfactual term: the KD term is not rescaled by the
 * counterfactuals' presence, each counterfactual weighs λ relative to an original (as one row of the
 * reference's mixing does at λ = 1), and with no counterfactuals (or λ = 0) the run is plain KD, byte for
 * byte.
 *
 * Counterfactuals whose source is not among the original samples (no `source_id`, an id not in the data,
 * or an original that was left out) cannot join a step: they are counted, reported, and not trained on.
 */
import { LeafError } from '../errors.js';
import type { TrainSample } from './samples.js';

export interface Pairing {
  /** Sample indices of the originals, in sample order. */
  originals: number[];
  /** For each entry of `originals`, the sample indices of its counterfactuals, in sample order. */
  counterfactualsOf: number[][];
  /** Counterfactuals paired with an original. */
  paired: number;
  /** Counterfactual samples whose source_id names no original sample (left out of training). */
  missing: { id: string; sourceId: string | null }[];
}

export function pairSamples(samples: readonly TrainSample[]): Pairing {
  const originals: number[] = [];
  const slot = new Map<string, number>();
  samples.forEach((s, i) => {
    if (s.kind !== 'original') return;
    if (slot.has(s.id)) {
      throw new LeafError(`pairing counterfactuals with their originals: two original samples have the id ${JSON.stringify(s.id)}; counterfactuals are matched by source_id = id, so the originals' ids must be unique`);
    }
    slot.set(s.id, originals.length);
    originals.push(i);
  });
  const counterfactualsOf: number[][] = originals.map(() => []);
  const missing: Pairing['missing'] = [];
  let paired = 0;
  samples.forEach((s, i) => {
    if (s.kind !== 'counterfactual') return;
    const k = s.sourceId === undefined ? undefined : slot.get(s.sourceId);
    if (k === undefined) missing.push({ id: s.id, sourceId: s.sourceId ?? null });
    else {
      counterfactualsOf[k].push(i);
      paired++;
    }
  });
  return { originals, counterfactualsOf, paired, missing };
}

/** The warning for counterfactuals with no original to join (null when there are none). */
export function missingSourceMessage(p: Pairing): string | null {
  if (p.missing.length === 0) return null;
  const shown = p.missing.slice(0, 5).map((m) => `${m.id} (source_id ${m.sourceId === null ? 'missing' : JSON.stringify(m.sourceId)})`);
  return `${p.missing.length} counterfactual(s) have no original sample to pair with and are left out of training: ${shown.join(', ')}${p.missing.length > 5 ? ', …' : ''}`;
}
