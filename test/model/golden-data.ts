import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A golden reference set (see test/fixtures/golden/README.md). */
export interface Golden {
  dir: string;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  positionIds: Int32Array;
  batch: number;
  seqLen: number;
  logits: Float64Array;
  loss: number;
  gradInputsEmbeds: Float64Array;
  gradParams: Map<string, Float64Array>;
  greedyPrompt: number[];
  greedyNew: number[];
}

interface Arr { shape: number[]; data: number[] }

export function readGolden(dir: string): Golden {
  const j = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8'));
  const ids: number[][] = j.input_ids;
  const batch = ids.length, seqLen = ids[0].length;
  const gp = new Map<string, Float64Array>();
  for (const [name, v] of Object.entries(j.grad_params as Record<string, Arr>)) gp.set(name, Float64Array.from(v.data));
  return {
    dir,
    inputIds: Int32Array.from(ids.flat()),
    attentionMask: Uint8Array.from((j.attention_mask as number[][]).flat()),
    positionIds: Int32Array.from((j.position_ids as number[][]).flat()),
    batch, seqLen,
    logits: Float64Array.from(j.logits.data),
    loss: j.loss,
    gradInputsEmbeds: Float64Array.from(j.grad_inputs_embeds.data),
    gradParams: gp,
    greedyPrompt: j.greedy.prompt,
    greedyNew: j.greedy.new_tokens,
  };
}

/** ‖a − b‖ / ‖b‖ over the elements where keep(i) holds. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>, keep: (i: number) => boolean = () => true): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!keep(i)) continue;
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return Math.sqrt(num) / Math.sqrt(den);
}
