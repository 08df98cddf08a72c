/** Number formats shared by the commands' and the demo's printed lines. */

/** A fraction as a percentage with one decimal, without the sign: 0.4567 → "45.7". */
export function pct(x: number): string {
  return (100 * x).toFixed(1);
}
