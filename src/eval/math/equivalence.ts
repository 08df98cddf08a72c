/**
 * Equivalence of a model's answer and a reference answer.
 *
 * Steps, after `normalizeAnswer` on both sides:
 *  1. an empty answer (or reference) is never equal to anything;
 *  2. equal strings are equal; words compare case-insensitively (`Yes` = `yes`);
 *  3. composites compare part by part (structure.ts): lists and sets without order (each element
 *     recursively, as a matching; `a=2, b=3` on both sides pairs values by name), tuples and matrices in order, intervals end by end with the
 *     same open/closed brackets, unions of intervals without order; `\pm` expands to both signs;
 *  4. plain numbers compare within a relative 1e-6 (number.ts): `0.5` = `\frac12`,
 *     `1e3` = `1000`, but `0.333` ≠ `\frac13`;
 *  5. anything else goes to the computer-algebra engine (symbolic.ts), under a time bound:
 *     `\frac{\sqrt3}{2}` = `\sqrt3/2`, `x^2+2x+1` = `(x+1)^2`.
 *
 * Percent convention (lenient, as many graders are, since references often drop the `%`):
 * an answer `p%` equals a value `v` written without `%` when `p = v` or when `p/100 = v`, so
 * `10%` equals `10` and `0.1`. Two values that both carry `%` compare as written (`10%` = `10%`,
 * `10%` ≠ `0.1%`), and two values without `%` never get a factor of 100 (`10` ≠ `0.1`).
 */

import { normalizeAnswer } from './normalize.js';
import { numbersClose, parseNumber } from './number.js';
import { expandPlusMinus, parseStructure, type Structure } from './structure.js';
import { DEFAULT_SYMBOLIC_TIMEOUT_MS, symbolicEqual } from './symbolic.js';

export interface EquivalenceOptions {
  /** Bound on each symbolic comparison, in milliseconds (default 2000). */
  symbolicTimeoutMs?: number;
}

const MAX_DEPTH = 6;

/** Is `answer` mathematically the same as `reference`? (see the file comment) */
export function isEquivalent(answer: string, reference: string, options: EquivalenceOptions = {}): boolean {
  const timeoutMs = options.symbolicTimeoutMs ?? DEFAULT_SYMBOLIC_TIMEOUT_MS;
  return equivalent(answer, reference, timeoutMs, 0);
}

function equivalent(answer: string, reference: string, timeoutMs: number, depth: number): boolean {
  const a = normalizeAnswer(answer);
  const b = normalizeAnswer(reference);
  if (a === '' || b === '') return false;
  if (a === b) return true;
  if (isWord(a) && isWord(b)) return a.toLowerCase() === b.toLowerCase();
  if (depth > MAX_DEPTH) return false;

  const sa = parseStructure(a);
  const sb = parseStructure(b);
  const pmA = sa.kind === 'scalar' ? expandPlusMinus(a) : [a];
  const pmB = sb.kind === 'scalar' ? expandPlusMinus(b) : [b];
  if (pmA.length > 1 || pmB.length > 1) {
    return unorderedMatch(listItems(sa, pmA), listItems(sb, pmB), timeoutMs, depth);
  }
  if (sa.kind === 'scalar' && sb.kind === 'scalar') return scalarEquivalent(a, b, timeoutMs);
  return structuresEquivalent(sa, sb, timeoutMs, depth);
}

/** The elements of a list-like answer, with `\pm` expanded in each. */
function listItems(s: Structure, pm: string[]): string[] {
  if (s.kind === 'list') return s.items.flatMap((x) => expandPlusMinus(normalizeAnswer(x)));
  if (s.kind === 'scalar') return pm;
  return pm;
}

function structuresEquivalent(sa: Structure, sb: Structure, timeoutMs: number, depth: number): boolean {
  const next = depth + 1;
  if (sa.kind === 'list' && sb.kind === 'list') {
    const na = namedValues(sa.items);
    const nb = namedValues(sb.items);
    if (na && nb) {
      // `a=2, b=3` against `b=3, a=2`: the same names, each with an equivalent value
      return na.size === nb.size && [...na].every(([k, v]) => nb.has(k) && equivalent(v, nb.get(k)!, timeoutMs, next));
    }
    return unorderedMatch(listItems(sa, []), listItems(sb, []), timeoutMs, next);
  }
  if (sa.kind === 'union' && sb.kind === 'union') return unorderedMatch(sa.items, sb.items, timeoutMs, next);
  if (sa.kind === 'tuple' && sb.kind === 'tuple') {
    return sa.items.length === sb.items.length && sa.items.every((x, i) => equivalent(x, sb.items[i]!, timeoutMs, next));
  }
  if (sa.kind === 'interval' && sb.kind === 'interval') {
    return (
      sa.left === sb.left &&
      sa.right === sb.right &&
      equivalent(sa.lo, sb.lo, timeoutMs, next) &&
      equivalent(sa.hi, sb.hi, timeoutMs, next)
    );
  }
  if (sa.kind === 'matrix' && sb.kind === 'matrix') {
    return (
      sa.rows.length === sb.rows.length &&
      sa.rows.every(
        (row, i) => row.length === sb.rows[i]!.length && row.every((x, j) => equivalent(x, sb.rows[i]![j]!, timeoutMs, next)),
      )
    );
  }
  return false;
}

/** `name = value` for every item (names distinct), or `null`. */
function namedValues(items: string[]): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const item of items) {
    const m = /^\s*(\\?[a-zA-Z]+(?:_(?:\{\w+\}|\w))?)\s*=([^=]+)$/.exec(item);
    if (!m || out.has(m[1]!)) return null;
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Same number of elements, and a one-to-one pairing of equivalent elements (bipartite matching). */
function unorderedMatch(xs: string[], ys: string[], timeoutMs: number, depth: number): boolean {
  if (xs.length !== ys.length || xs.length === 0) return false;
  const n = xs.length;
  const eq: boolean[][] = xs.map((x) => ys.map((y) => equivalent(x, y, timeoutMs, depth + 1)));
  const owner = new Array<number>(n).fill(-1); // owner[j] = index in xs matched to ys[j]
  const augment = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < n; j++) {
      if (!eq[i]![j] || seen[j]) continue;
      seen[j] = true;
      if (owner[j] === -1 || augment(owner[j]!, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < n; i++) if (!augment(i, new Array<boolean>(n).fill(false))) return false;
  return true;
}

/** A plain word or phrase (`yes`, `Monday`, `nosolution`): letters only, at least 3 of them. */
function isWord(s: string): boolean {
  return /^[a-zA-Z]{3,}$/.test(s);
}

function scalarEquivalent(a: string, b: string, timeoutMs: number): boolean {
  const pa = a.endsWith('%');
  const pb = b.endsWith('%');
  const a0 = pa ? a.slice(0, -1) : a;
  const b0 = pb ? b.slice(0, -1) : b;
  if (a0 === '' || b0 === '') return false;
  if (valueEquivalent(a0, b0, timeoutMs)) return true;
  if (pa !== pb) {
    // the percent convention: `p%` also equals `p/100`
    return pa ? valueEquivalent(percentOf(a0), b0, timeoutMs) : valueEquivalent(a0, percentOf(b0), timeoutMs);
  }
  return false;
}

function percentOf(s: string): string {
  const v = parseNumber(s);
  return v !== null && Number.isFinite(v) ? String(v / 100) : `\\frac{${s}}{100}`;
}

function valueEquivalent(a: string, b: string, timeoutMs: number): boolean {
  if (a === b) return true;
  const x = parseNumber(a);
  const y = parseNumber(b);
  if (x !== null && y !== null) return numbersClose(x, y);
  if (a.toLowerCase() === b.toLowerCase() && /[a-zA-Z]{2,}/.test(a) && !a.includes('\\')) return true;
  return symbolicEqual(a, b, timeoutMs) === true;
}
