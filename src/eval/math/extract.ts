/**
 * Final-answer extraction from a model's free-text response.
 *
 * Rules, tried in this order (the first that yields text wins):
 *  1. `boxed`       — the last `\boxed{…}` / `\fbox{…}` (nested braces), or `\boxed 5`;
 *  2. `answer-is`   — the last "the answer is …" (case-insensitive), up to the end of the
 *                     sentence or line;
 *  3. `hash`        — the last `#### …` line (GSM8K style);
 *  4. `last-number` — the last number in the text (`-1,234.5`, `3/4`, `.5`).
 */

export type ExtractionRule = 'boxed' | 'answer-is' | 'hash' | 'last-number';

export interface Extraction {
  answer: string | null;
  rule: ExtractionRule | null;
}

/** Read a balanced `{…}` group starting at `open` (which must be `{`); `null` when unclosed. */
export function readBraced(s: string, open: number): { body: string; end: number } | null {
  if (s[open] !== '{') return null;
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++; // skip the escaped character (`\{`, `\}`)
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { body: s.slice(open + 1, i), end: i + 1 };
    }
  }
  return null;
}

/**
 * The content of the last `\boxed{…}` or `\fbox{…}` in `text` (also `\boxed 5`), or `null`.
 * An unclosed last box (a truncated response) falls back to the box before it.
 */
export function lastBoxed(text: string): string | null {
  const re = /\\(?:boxed|fbox)(?![a-zA-Z])/g;
  const starts: number[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + m[0].length);
  for (let k = starts.length - 1; k >= 0; k--) {
    let i = starts[k]!;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === '{') {
      const g = readBraced(text, i);
      if (g) return g.body.trim();
      continue;
    }
    if (i > starts[k]!) {
      // `\boxed 5` form: one token, up to white space or the end of the math.
      const m = /^[^\s$]+/.exec(text.slice(i));
      if (m) return m[0].replace(/[.,;]+$/, '');
    }
  }
  return null;
}

/** Text after the last "answer is", up to the end of that sentence or line. */
export function answerIsPhrase(text: string): string | null {
  const re = /\banswer\s+is\b\s*:?/gi;
  let last = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m.index + m[0].length;
  if (last < 0) return null;
  let i = last;
  while (i < text.length && /\s/.test(text[i]!)) i++; // the answer may start on the next line
  let depth = 0;
  let inMath = false;
  let j = i;
  for (; j < text.length; j++) {
    const c = text[j]!;
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '$') inMath = !inMath;
    else if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\n') break;
    else if (depth === 0 && (c === '.' || c === '!' || c === '?')) {
      // A sentence ends at `. ` outside math; inside an unclosed `$` (often a currency sign,
      // `$18. So…`) only where a capital letter starts the next sentence.
      const rest = text.slice(j + 1);
      if (rest === '' || (/^\s/.test(rest) && (!inMath || /^\s+[A-Z]/.test(rest)))) break;
    }
  }
  const out = text.slice(i, j).trim();
  return out === '' ? null : out;
}

/** Text after the last `####` marker, to the end of its line. */
export function hashLine(text: string): string | null {
  const re = /####[ \t]*([^\n]*)/g;
  let found: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const v = m[1]!.trim();
    if (v !== '') found = v;
  }
  return found;
}

/** The last number written in `text`, or `null`. */
export function lastNumber(text: string): string | null {
  const re = /(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\/\d+)?(?![\d])|(?<![\w.\d])-?\.\d+/g;
  let found: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) found = m[0];
  return found;
}

/** Extract the final answer from a model response; `rule` says which rule fired. */
export function extractAnswer(response: string): Extraction {
  const boxed = lastBoxed(response);
  if (boxed !== null) return { answer: boxed, rule: 'boxed' };
  const phrase = answerIsPhrase(response);
  if (phrase !== null) return { answer: phrase, rule: 'answer-is' };
  const hash = hashLine(response);
  if (hash !== null) return { answer: hash, rule: 'hash' };
  const num = lastNumber(response);
  if (num !== null) return { answer: num, rule: 'last-number' };
  return { answer: null, rule: null };
}
