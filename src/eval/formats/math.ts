/**
 * MATH (Hendrycks et al. 2021) and MATH-500: `{ problem, solution, level?, type? }` or, as in
 * MATH-500, `{ problem, solution, answer, subject, level, unique_id }`. Reads: `problem` → prompt;
 * `solution` → solution; `answer` when present, else the content of the solution's last
 * `\boxed{…}` (or `\fbox{…}`) → answer; `unique_id` or `id` → id (else `math/<index>`).
 * Metadata: `level` (as given: "Level 5" in MATH, 5 in MATH-500) and `subject` (MATH's `type` or
 * MATH-500's `subject`).
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import { lastBoxed } from '../math/extract.js';
import { has, optId, optString, pickMetadata, reqString, withMetadata, type FormatSpec, type Problem, type RecordContext } from './types.js';

export function parseMath(r: JsonObject, ctx: RecordContext): Problem {
  const problem = reqString(r, 'problem');
  const solution = reqString(r, 'solution');
  let answer = typeof r.answer === 'number' && Number.isFinite(r.answer) ? String(r.answer) : optString(r, 'answer');
  if (answer !== undefined && answer.trim() === '') answer = undefined;
  if (answer === undefined) {
    const boxed = lastBoxed(solution);
    if (boxed === null || boxed === '') {
      throw new InvalidRecord("no 'answer' field and no \\boxed{} answer in field 'solution'");
    }
    answer = boxed;
  }
  const id = optId(r, 'unique_id') ?? optId(r, 'id') ?? `math/${ctx.index}`;
  return withMetadata(
    { id, task: 'math', format: 'math', prompt: problem, answer: answer.trim(), solution },
    pickMetadata(r, { level: 'level', type: 'subject', subject: 'subject' }),
  );
}

export const math: FormatSpec = {
  name: 'math',
  task: 'math',
  describe: 'math: problem, solution (with \\boxed{}), optional answer, level, type/subject (MATH, MATH-500)',
  detect: (r) => has(r, 'problem') && has(r, 'solution'),
  parse: parseMath,
};
