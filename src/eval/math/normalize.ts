/**
 * String-level normalisation of a math answer before it is compared.
 *
 * What it does, in order: unicode symbols to LaTeX (`−`, `×`, `π`, `∞`, `√`, `°`); surrounding
 * `$…$`, `$$…$$`, `\(…\)`, `\[…\]` and stray `$` / `\$` (currency); `\left` / `\right` /
 * `\big…` / `\displaystyle`; `\!` `\,` `\;` `\:` `\ ` `~` `\quad`; `\dfrac` / `\tfrac` / `\cfrac`
 * to `\frac` and `\frac12` to `\frac{1}{2}` (also `\sqrt2` to `\sqrt{2}`); degrees (`^\circ`,
 * `^{\circ}`, `°`, `\degree`); `\text{…}` / `\mbox{…}` / `\mathrm{…}` (units after a value are
 * dropped, a lone `\text{yes}` is unwrapped, `\text{ or }` becomes a list comma); unit words
 * after a plain number (`5 dollars`, `12 cm`, `18 eggs`); `\%` to `%` and `percent` to `%`
 * (the `%` itself is kept: equivalence.ts applies the percent convention); thousands
 * separators (`1,000` / `1{,}000` / `1\,000` to `1000`, but not inside brackets, so `(1,200)`
 * stays a pair, and not with a space after the comma, so `1, 200` stays a list); every other
 * comma is written `, `; a leading
 * `x =` / `y=` / `f(x) =` / `x \in`; a leading `+`; trailing periods; white space; a multiple-choice
 * letter `(B)` to `B`.
 */

import { readBraced } from './extract.js';

const TEXT_COMMANDS = ['text', 'textrm', 'textnormal', 'textbf', 'textit', 'mbox', 'mathrm', 'mathbf', 'mathit', 'operatorname'];

/** Units and counted nouns dropped after a plain number (`5 dollars`, `12 cm`). */
const UNIT_WORD = String.raw`(?:dollars?|cents?|euros?|pounds?|yuan|rupees?|mm|cm|km|m|meters?|metres?|centimeters?|centimetres?|millimeters?|kilometers?|inch(?:es)?|in|feet|foot|ft|yards?|yd|miles?|mi|units?|sq|square|cubic|degrees?|deg|radians?|rad|hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s|days?|weeks?|months?|years?|kg|g|grams?|kilograms?|mg|lbs?|ounces?|oz|liters?|litres?|l|L|ml|mL|C|F|gallons?|gal|mph|kph|km/h|m/s|ways?|times|people|persons?|students?|items?|pieces?|points?|apples?|eggs?|books?|cookies?|boxes?|cars?|pages?|marbles?|tickets?|hours|per|each|an?|the|of)`;
const UNIT_TAIL_RE = new RegExp(
  String.raw`^([-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:/\d+)?%?)\s+(?:${UNIT_WORD}\b[\s.]*)+(?:\^?\{?[23]\}?)?$`,
);
/** A plain number followed by any English words (`18 eggs`, `42 red marbles`). */
const WORD_TAIL_RE = /^([-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:\/\d+)?%?)\s+(?!(?:and|or|to|pi|sqrt|i|e)\b)([a-zA-Z]{2,}(?:\s+[a-zA-Z]+)*)\.?$/;
/** Known multi-letter units glued to a number (`12cm`, `5kg`). */
const GLUED_UNIT_RE = /^([-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+))(?:mm|cm|km|kg|mg|mL|ml|ft|mph|kph|units?|dollars?|cents?)(?:\^?\{?[23]\}?)?$/;

/** Normalise one answer string (see the file comment). Returns `''` for an empty answer. */
export function normalizeAnswer(input: string): string {
  let s = input;
  s = unicodeToLatex(s);
  s = s.trim().replace(/[.\s]+$/, '');
  s = stripDelimiters(s);
  s = s.replace(/\\\$/g, '').replace(/\$/g, '');
  s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle)/g, '');
  s = s.replace(/\\(?:left|right)\s*\./g, '');
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![a-zA-Z])/g, '');
  s = s.replace(/\\\\|\\(?:[!,;:> ]|quad|qquad|thinspace|medspace|thickspace|hspace\{[^}]*\})/g, (m) => (m === '\\\\' ? m : ' '));
  s = s.replace(/~/g, ' ');
  s = unwrapBoxed(s);
  s = s.replace(/\{,\}/g, ',');
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac');
  s = braceCommandArgs(s);
  s = stripDegrees(s);
  s = s.replace(/\\%/g, '%').replace(/\s*\bpercent\b/gi, '%').replace(/\s+%/g, '%');
  s = replaceTextCommands(s);
  s = s.trim().replace(/[.\s]+$/, '');
  s = stripPrefix(s);
  s = stripUnits(s);
  s = mergeThousands(s);
  s = collapseSpaces(s);
  s = s.replace(/^\+(?=.)/, '');
  s = s.replace(/\.+$/, '');
  s = unwrapBraces(s);
  const choice = /^\(([A-Ea-e])\)$/.exec(s);
  if (choice) s = choice[1]!;
  return s;
}

function unicodeToLatex(s: string): string {
  return s
    .replace(/[−–—]/g, '-')
    .replace(/×/g, '\\times ')
    .replace(/[·⋅]/g, '\\cdot ')
    .replace(/÷/g, '/')
    .replace(/π/g, '\\pi ')
    .replace(/∞/g, '\\infty ')
    .replace(/√\s*(\d+(?:\.\d+)?|[a-zA-Z])/g, '\\sqrt{$1}')
    .replace(/√/g, '\\sqrt')
    .replace(/≤/g, '\\leq ')
    .replace(/≥/g, '\\geq ')
    .replace(/≠/g, '\\neq ')
    .replace(/±/g, '\\pm ')
    .replace(/∪/g, '\\cup ')
    .replace(/[\u00a0\u2009\u202f\u2002\u2003]/g, ' ');
}

/** Strip one or more layers of `$…$`, `$$…$$`, `\(…\)`, `\[…\]` around the whole answer. */
function stripDelimiters(s: string): string {
  for (;;) {
    const t = s.trim();
    let m: RegExpExecArray | null;
    if ((m = /^\$\$([\s\S]*)\$\$$/.exec(t)) || (m = /^\$([^$]*)\$$/.exec(t))) s = m[1]!;
    else if ((m = /^\\\(([\s\S]*)\\\)$/.exec(t)) || (m = /^\\\[([\s\S]*)\\\]$/.exec(t))) s = m[1]!;
    else return t;
  }
}

/** One argument of a LaTeX command at `i`: `{…}`, a `\command`, or one character. */
function readArg(s: string, i: number): { arg: string; end: number } | null {
  let j = i;
  while (j < s.length && s[j] === ' ') j++;
  if (j >= s.length) return null;
  if (s[j] === '{') {
    const g = readBraced(s, j);
    return g ? { arg: g.body, end: g.end } : null;
  }
  if (s[j] === '\\') {
    const m = /^\\(?:[a-zA-Z]+|.)/.exec(s.slice(j));
    return m ? { arg: m[0], end: j + m[0].length } : null;
  }
  if (s[j] === '}' || s[j] === '^' || s[j] === '_') return null;
  return { arg: s[j]!, end: j + 1 };
}

/** `\frac12` → `\frac{1}{2}`, `\sqrt2` → `\sqrt{2}`, recursively, so every argument is braced. */
export function braceCommandArgs(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const m = /^\\(frac|binom|sqrt)(?![a-zA-Z])/.exec(s.slice(i));
    if (!m) {
      out += s[i];
      i++;
      continue;
    }
    let j = i + m[0].length;
    if (m[1] === 'sqrt') {
      let index = '';
      while (s[j] === ' ') j++;
      if (s[j] === '[') {
        const close = s.indexOf(']', j);
        if (close < 0) return out + s.slice(i);
        index = `[${braceCommandArgs(s.slice(j + 1, close))}]`;
        j = close + 1;
      }
      const a = readArg(s, j);
      if (!a) return out + s.slice(i);
      out += `\\sqrt${index}{${braceCommandArgs(a.arg)}}`;
      i = a.end;
      continue;
    }
    const a = readArg(s, j);
    const b = a ? readArg(s, a.end) : null;
    if (!a || !b) return out + s.slice(i);
    out += `\\${m[1]}{${braceCommandArgs(a.arg)}}{${braceCommandArgs(b.arg)}}`;
    i = b.end;
  }
  return out;
}

function stripDegrees(s: string): string {
  return s
    .replace(/\^\s*\{\s*\\circ\s*\}/g, '')
    .replace(/\^\s*\\circ/g, '')
    .replace(/\\circ(?![a-zA-Z])/g, '')
    .replace(/\\degree(?![a-zA-Z])/g, '')
    .replace(/°/g, '');
}

/**
 * `\text{…}`-like groups: after a value, a group of words is a unit and goes (with a trailing
 * `^2`); `or` / `and` become a list comma; anything else is unwrapped.
 */
function replaceTextCommands(s: string): string {
  const re = new RegExp(String.raw`\\(?:${TEXT_COMMANDS.join('|')})\s*(?=\{)`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const g = readBraced(s, m.index + m[0].length);
    if (!g) break;
    const before = out + s.slice(last, m.index);
    const body = g.body.trim();
    let end = g.end;
    if (/^(?:or|and)$/i.test(body)) {
      out = before + ',';
    } else if (before.trim() !== '' && /[\w})]\s*$/.test(before) && /^[a-zA-Z][a-zA-Z\s.\/]*$/.test(body)) {
      const pow = /^\s*\^\s*(?:\{\s*\d\s*\}|\d)/.exec(s.slice(end));
      if (pow) end += pow[0].length;
      out = before;
    } else {
      out = before + body;
    }
    last = end;
    re.lastIndex = end;
  }
  return out + s.slice(last);
}

/** A leading `x =`, `y=`, `x_1 =`, `\theta =`, `f(x) =`, `x \in`. */
function stripPrefix(s: string): string {
  const m = /^\s*(?:\\?[a-zA-Z]+(?:_(?:\{\w+\}|\w))?(?:\([a-zA-Z]\))?)\s*(?:=|\\in(?![a-zA-Z]))\s*/.exec(s);
  if (!m) return s;
  const rest = s.slice(m[0].length);
  if (rest === '' || /(?<![<>!\\])=/.test(rest)) return s;
  return rest;
}

function stripUnits(s: string): string {
  let m = UNIT_TAIL_RE.exec(s);
  if (m) return m[1]!;
  m = WORD_TAIL_RE.exec(s);
  if (m) return m[1]!;
  m = GLUED_UNIT_RE.exec(s);
  if (m) return m[1]!;
  return s;
}

/** Bracket depth before each character, `(`/`[`/`{` opening and `)`/`]`/`}` closing alike. */
function depths(s: string): number[] {
  const d: number[] = [];
  let depth = 0;
  for (const c of s) {
    if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    d.push(depth);
    if (c === '(' || c === '[' || c === '{') depth++;
  }
  return d;
}

/** `1,000,000` → `1000000` at bracket depth 0, where every group after a comma has 3 digits. */
function mergeThousands(s: string): string {
  const d = depths(s);
  return s.replace(/(?<![\d.]|\d,)\d{1,3}(?:,\d{3})+(?![\d]|,\d)/g, (match, offset: number) =>
    d[offset] === 0 ? match.replace(/,/g, '') : match,
  );
}

/**
 * Drop white space, keeping one space where it ends a command (`\pi r`, `\cdot x`); every comma
 * that is left (a list or a pair, thousands are merged by now) is written `, ` so that a second
 * pass cannot read `1, 000` as a thousand.
 */
function collapseSpaces(s: string): string {
  return s
    .replace(/(\\[a-zA-Z]+)\s+(?=[a-zA-Z])/g, '$1\u0000')
    .replace(/\s+/g, '')
    .replace(/\u0000/g, ' ')
    .replace(/,/g, ', ');
}

/** `\boxed{5}` / `\fbox{5}` → `5` (a reference or answer that still carries its box). */
function unwrapBoxed(s: string): string {
  let out = s;
  for (let guard = 0; guard < 8; guard++) {
    const m = /\\(?:boxed|fbox)\s*(?=\{)/.exec(out);
    if (!m) break;
    const g = readBraced(out, m.index + m[0].length);
    if (!g) break;
    out = out.slice(0, m.index) + g.body + out.slice(g.end);
  }
  return out;
}

/** `{5}` → `5` when one brace group spans the whole answer. */
function unwrapBraces(s: string): string {
  let t = s;
  while (t.startsWith('{')) {
    const g = readBraced(t, 0);
    if (!g || g.end !== t.length) break;
    t = g.body.trim();
  }
  return t;
}
