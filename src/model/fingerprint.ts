/** A cheap identity of a model's weights, for caches that must not outlive the model they were made with. */
import { createHash } from 'node:crypto';
import type { CausalLM } from './causal-lm.js';

/** A fingerprint of a model's config and weights (a strided sample of every tensor, its shape and ends). */
export function modelFingerprint(model: CausalLM): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(model.config.raw));
  for (const s of model.specs) {
    const p = model.param(s.name);
    h.update(`${s.name}:${s.shape.join('x')}${p instanceof Uint16Array ? ':bf16' : ''};`);
    const stride = Math.max(1, Math.floor(p.length / 65536));
    const sample = new Float64Array(Math.ceil(p.length / stride) + 2);
    let j = 0;
    for (let i = 0; i < p.length; i += stride) sample[j++] = p[i];
    sample[j++] = p[p.length - 1];
    sample[j++] = p.length;
    h.update(new Uint8Array(sample.buffer, 0, j * 8));
  }
  return h.digest('hex');
}
