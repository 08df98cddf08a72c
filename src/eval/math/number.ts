/**
 * Plain-number reading for the math judge: the fast path that settles most comparisons
 * without the computer-algebra worker.
 *
 * Reads (after `normalizeAnswer`): integers and decimals (`3`, `-0.5`, `.5`), scientific
 * notation (`1e3`, `1.5E-2`, `1.5\times10^{3}`, `2\cdot 10^{-3}`, `10^{6}`), fractions
 * (`3/4`, `\frac{3}{4}`, `-\frac{3}{4}`, `\frac{-3}{4}`), mixed numbers (`2\frac{1}{2}` = 2.5)
 * and infinities (`\infty`, `-\infty`). Anything else gives `null` and is left to the
 * symbolic path.
 */

/** Relative tolerance for numeric equality. */
export const RELATIVE_TOLERANCE = 1e-6;

const DEC = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)`;
const INT = String.raw`[-+]?\d+`;
const DECIMAL_RE = new RegExp(`^${DEC}(?:[eE][-+]?\\d+)?$`);
const TIMES_TEN_RE = new RegExp(
  String.raw`^(${DEC})(?:\\times|\\cdot|\*|×)10\^(?:\{(${INT})\}|(${INT}))$`,
);
const POW_TEN_RE = new RegExp(String.raw`^(-?)10\^(?:\{(${INT})\}|(\d))$`);
const SLASH_RE = new RegExp(`^(${DEC})/(${DEC})$`);
const FRAC_RE = new RegExp(String.raw`^(-?)\\frac\{(${DEC})\}\{(${DEC})\}$`);
const MIXED_RE = /^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/;

/** The value of a plain number written as `s` (no spaces expected), or `null`. */
export function parseNumber(s: string): number | null {
  const t = s.trim();
  if (t === '') return null;
  if (DECIMAL_RE.test(t)) return Number(t);
  if (t === '\\infty' || t === '+\\infty') return Infinity;
  if (t === '-\\infty') return -Infinity;
  let m = TIMES_TEN_RE.exec(t);
  if (m) return Number(m[1]) * 10 ** Number(m[2] ?? m[3]);
  m = POW_TEN_RE.exec(t);
  if (m) return (m[1] === '-' ? -1 : 1) * 10 ** Number(m[2] ?? m[3]);
  m = SLASH_RE.exec(t);
  if (m) return divide(Number(m[1]), Number(m[2]));
  m = MIXED_RE.exec(t);
  if (m) {
    const whole = Number(m[2]);
    const num = Number(m[3]);
    const den = Number(m[4]);
    if (num >= den) return null; // `3\frac{5}{2}` is no mixed number: leave it to the CAS
    const v = whole + num / den;
    return m[1] === '-' ? -v : v;
  }
  m = FRAC_RE.exec(t);
  if (m) {
    const v = divide(Number(m[2]), Number(m[3]));
    return v === null ? null : m[1] === '-' ? -v : v;
  }
  return null;
}

function divide(a: number, b: number): number | null {
  if (b === 0) return null;
  return a / b;
}

/** Numeric equality within a relative tolerance (infinities equal only themselves). */
export function numbersClose(a: number, b: number, tolerance: number = RELATIVE_TOLERANCE): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(a - b);
  return diff <= tolerance * Math.max(Math.abs(a), Math.abs(b)) || diff <= 1e-12;
}
