/**
 * GSM8K (Cobbe et al. 2021): `{ question, answer }` where `answer` is the worked solution ending in
 * a `#### 42` line. Reads: `question` → prompt; `answer` → solution (verbatim, calculator
 * annotations `<<…>>` included); the text after the last `####`, trimmed and with thousands commas
 * removed → answer. A bare numeric `answer` (a number or a string like "1,250", as in GSM-IC's
 * `GSM8K_validation.jsonl`) is the answer itself, with no solution; `n_steps` is kept as metadata. Optional `id` is used as the id, else `gsm8k/<index>` (0-based index of the
 * record's non-blank line in the file).
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import { bareAnswer } from './gsm-ic.js';
import { has, optId, pickMetadata, reqString, withMetadata, type FormatSpec, type Problem, type RecordContext } from './types.js';

/** The final answer of a GSM8K solution: after its last `####`, commas removed; null when none. */
export function gsm8kFinalAnswer(solution: string): string | null {
  const at = solution.lastIndexOf('####');
  if (at < 0) return null;
  const ans = solution.slice(at + 4).trim().replace(/,/g, '');
  return ans === '' ? null : ans;
}

export function parseGsm8k(r: JsonObject, ctx: RecordContext): Problem {
  const question = reqString(r, 'question');
  const id = optId(r, 'id') ?? `gsm8k/${ctx.index}`;
  const metadata = pickMetadata(r, { n_steps: 'n_steps' });
  const bare = bareAnswer(r.answer);
  if (bare !== null) return withMetadata({ id, task: 'math', format: 'gsm8k', prompt: question, answer: bare }, metadata);
  const solution = reqString(r, 'answer');
  const answer = gsm8kFinalAnswer(solution);
  if (answer === null) throw new InvalidRecord("field 'answer' has no final '#### <answer>' line and is not a bare number");
  return withMetadata({ id, task: 'math', format: 'gsm8k', prompt: question, answer, solution }, metadata);
}

export const gsm8k: FormatSpec = {
  name: 'gsm8k',
  task: 'math',
  describe: "gsm8k: question, answer (solution ending in '#### <answer>', or a bare number)",
  detect: (r) => has(r, 'question') && (typeof r.answer === 'string' || typeof r.answer === 'number') && !has(r, 'final_answer') && !has(r, 'question_content'),
  parse: parseGsm8k,
};
