/**
 * The shape of a normalised answer: a single value, or a composite the judge compares part by
 * part — an unordered list (`1, 2, 3`, OlympiadBench multiple answers), a set `\{1, 2\}`, an
 * ordered tuple or point `(1, 2)`, an interval with its open/closed ends (`[0, 1)`,
 * `(-\infty, 3]`), a union of intervals, or a matrix (`pmatrix`/`bmatrix`/…).
 *
 * `(a, b)` is read as a tuple (an open interval and a point are written alike; two such answers
 * still compare equal part by part); an interval needs a `[` or `]` at one end, so `(0, 1)` never
 * equals `[0, 1)`. `\pm` / `\mp` inside a value expands to both signs (`1 \pm \sqrt{2}` is the
 * list `1+\sqrt{2}, 1-\sqrt{2}`).
 */

export type Structure =
  | { kind: 'scalar'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'tuple'; items: string[] }
  | { kind: 'interval'; left: '(' | '['; right: ')' | ']'; lo: string; hi: string }
  | { kind: 'union'; items: string[] }
  | { kind: 'matrix'; rows: string[][] };

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** Split `s` at `sep` where it stands outside every bracket (`(`/`[`/`{` vs `)`/`]`/`}`). */
export function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && s.startsWith(sep, i) && depth === 0) {
      parts.push(s.slice(start, i));
      i += sep.length - 1;
      start = i + 1;
      continue;
    }
    if (c === '\\') {
      // `\{` / `\}` count as brackets, any other escaped character does not
      const n = s[i + 1];
      if (n === '{') depth++;
      else if (n === '}') depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) depth = Math.max(0, depth - 1);
    else if (depth === 0 && s.startsWith(sep, i)) {
      parts.push(s.slice(start, i));
      i += sep.length - 1;
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** Index of the bracket closing the one at 0, or -1. */
function matchingClose(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

const MATRIX_RE = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/;

/** Read the structure of a normalised answer. */
export function parseStructure(s: string): Structure {
  const union = splitTopLevel(s, '\\cup');
  if (union.length > 1) return { kind: 'union', items: union };

  const mat = MATRIX_RE.exec(s);
  if (mat) {
    const rows = mat[2]!
      .split(/\\\\/)
      .map((r) => r.trim())
      .filter((r) => r !== '')
      .map((r) => r.split('&').map((c) => c.trim()));
    return { kind: 'matrix', rows };
  }

  const top = splitTopLevel(s, ',');
  if (top.length > 1) return { kind: 'list', items: top };

  if (s.startsWith('\\{') && s.endsWith('\\}')) {
    return { kind: 'list', items: splitTopLevel(s.slice(2, -2), ',') };
  }

  const first = s[0];
  const last = s[s.length - 1];
  if ((first === '(' || first === '[') && (last === ')' || last === ']') && matchingClose(s) === s.length - 1) {
    const inner = s.slice(1, -1);
    const items = splitTopLevel(inner, ',');
    if (items.length === 2 && (first === '[' || last === ']')) {
      return { kind: 'interval', left: first, right: last, lo: items[0]!, hi: items[1]! };
    }
    if (items.length > 1) return { kind: 'tuple', items };
  }
  return { kind: 'scalar', text: s };
}

/** Every sign choice of the `\pm` / `\mp` in `s` (at most 4 of them, so 16 values); `[s]` if none. */
export function expandPlusMinus(s: string): string[] {
  const m = /\\(?:pm|mp)(?![a-zA-Z])/.exec(s);
  if (!m || (s.match(/\\(?:pm|mp)(?![a-zA-Z])/g) ?? []).length > 4) return [s];
  const head = s.slice(0, m.index);
  const tail = s.slice(m.index + m[0].length);
  return [...expandPlusMinus(`${head}+${tail}`), ...expandPlusMinus(`${head}-${tail}`)];
}
