/**
 * Response-level mining: splitting a response into k contiguous segments at line or sentence
 * boundaries, as near as possible to equal token counts.
 *
 * Boundary candidates (character positions p, 0 < p < length):
 *  - a line boundary: right after a line break that is not followed by another one;
 *  - a sentence boundary: right after . ! ? 。 ！ ？ when whitespace follows (the whitespace
 *    starts the next segment, where byte-level tokenizers put it: on the next word).
 * When these cannot give k non-blank segments, word boundaries (before a whitespace run) are
 * allowed too; when even that fails (a response of fewer than k words), there is no split.
 *
 * The k − 1 boundaries minimise Σ_j |tokens before b_j − j·N/k| (N = the response's tokens, a token
 * counted before b when it starts before b), every segment holding a non-whitespace character;
 * ties go to the earlier boundaries.
 */

const SENTENCE_END = /[.!?\u3002\uff01\uff1f]/;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

function isSpace(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

function candidates(text: string, words: boolean): number[] {
  const out: number[] = [];
  for (let p = 1; p < text.length; p++) {
    const prev = text[p - 1], cur = text[p];
    const line = LINE_BREAK.test(prev) && !LINE_BREAK.test(cur) && !(prev === '\r' && cur === '\n');
    const sentence = SENTENCE_END.test(prev) && isSpace(cur);
    const word = words && !isSpace(prev) && isSpace(cur);
    if (line || sentence || word) out.push(p);
  }
  return out;
}

function choose(text: string, k: number, cand: readonly number[], tokenStarts: readonly number[]): number[] | null {
  const n = text.length;
  const N = tokenStarts.length;
  // nextNonWs[p]: the first non-whitespace position ≥ p (n when none).
  const nextNonWs = new Int32Array(n + 1).fill(n);
  for (let p = n - 1; p >= 0; p--) nextNonWs[p] = isSpace(text[p]) ? nextNonWs[p + 1] : p;
  const before = (p: number): number => {
    let lo = 0, hi = N;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tokenStarts[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const C = cand.length;
  const counts = cand.map(before);
  const INF = Infinity;
  // dp[j][c]: best cost with boundary j (1-based) at candidate c; from[j][c]: the candidate of boundary j − 1.
  let dp = new Float64Array(C).fill(INF);
  const from: Int32Array[] = [];
  for (let c = 0; c < C; c++) if (nextNonWs[0] < cand[c]) dp[c] = Math.abs(counts[c] - N / k);
  from.push(new Int32Array(C).fill(-1));
  for (let j = 2; j < k; j++) {
    const next = new Float64Array(C).fill(INF);
    const arg = new Int32Array(C).fill(-1);
    let best = INF, bestAt = -1, q = 0;
    for (let c = 0; c < C; c++) {
      // Valid predecessors c' < c with a non-blank segment [cand[c'], cand[c]): a prefix of candidates.
      while (q < c && nextNonWs[cand[q]] < cand[c]) {
        if (dp[q] < best) {
          best = dp[q];
          bestAt = q;
        }
        q++;
      }
      if (bestAt >= 0) {
        next[c] = best + Math.abs(counts[c] - (j * N) / k);
        arg[c] = bestAt;
      }
    }
    dp = next;
    from.push(arg);
  }
  let end = -1, bestCost = INF;
  for (let c = 0; c < C; c++) if (dp[c] < bestCost && nextNonWs[cand[c]] < n) {
    bestCost = dp[c];
    end = c;
  }
  if (end < 0) return null;
  const out: number[] = [];
  for (let j = k - 1, c = end; j >= 1; j--) {
    out.push(cand[c]);
    c = from[j - 1][c];
  }
  return out.reverse();
}

/**
 * The segment boundaries of `text`: [0, b_1, …, b_{k−1}, text.length], or null when it cannot be
 * split into k non-blank segments. `tokenStarts` are the start offsets of the response's tokens
 * (ascending), which the equal-count target is measured in.
 */
export function splitResponse(text: string, k: number, tokenStarts: readonly number[]): number[] | null {
  if (!Number.isInteger(k) || k < 1) throw new Error(`splitResponse: k must be a positive integer, got ${k}`);
  if (k === 1) return /\S/.test(text) ? [0, text.length] : null;
  for (const words of [false, true]) {
    const b = choose(text, k, candidates(text, words), tokenStarts);
    if (b) return [0, ...b, text.length];
  }
  return null;
}
