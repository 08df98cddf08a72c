/**
 * Learning rate at optimizer step `step` (0-based) of `total`: linear warm-up from 0 over `warmup` steps,
 * then cosine decay to 0 at `total` (transformers' get_cosine_schedule_with_warmup, 0.5 cycles).
 */
export function cosineWithWarmup(step: number, total: number, warmup: number, peak: number): number {
  if (step < warmup) return (peak * step) / Math.max(1, warmup);
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}
