/**
 * Word-level tokenizers decode by joining tokens with spaces ("1 6", "\ boxed { 1 6 }"), which the
 * math judge cannot read. For the benchmark's closed language the original spacing is a function of
 * the pieces, so it can be restored exactly: no space between two digits, after `\` or `{`, before
 * `{` `}` `.` `,` `?`. detokenize(decode(encode(text))) === text for every benchmark text.
 */
const NO_SPACE_BEFORE = new Set(['{', '}', '.', ',', '?']);
const NO_SPACE_AFTER = new Set(['\\', '{']);

export function arithDetokenize(decoded: string): string {
  const pieces = decoded.split(/\s+/u).filter((p) => p.length > 0);
  let out = '';
  let prev = '';
  for (const p of pieces) {
    const glue = out === '' || NO_SPACE_AFTER.has(prev) || NO_SPACE_BEFORE.has(p[0]) || (/\d$/u.test(prev) && /^\d/u.test(p));
    out += glue ? p : ` ${p}`;
    prev = p;
  }
  return out;
}
