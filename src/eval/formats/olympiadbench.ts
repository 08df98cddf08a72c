/**
 * OlympiadBench (He et al. 2024), open-ended problems: `{ id, question, final_answer: [..],
 * solution: [..], context?, is_multiple_answer, unit, answer_type, error, subject, subfield,
 * question_type, language, modality, image_1.. }`. Reads: `context` (physics problems; when
 * present it precedes the question, separated by a blank line) + `question` → prompt;
 * `final_answer` → answers (the list as given) and answer (its entries joined with ", ");
 * `solution` (list) → solution (joined with blank lines); `id` → id (else `olympiadbench/<index>`).
 * Metadata: unit, isMultipleAnswer, answerType, error (the numeric tolerance), subject, subfield,
 * questionType, language, modality, and hasImage (true when an `image_N` field is set: the text
 * then refers to a figure that a text-only model does not see).
 * Records without a final answer (theorem-proving problems) are rejected.
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import {
  has,
  optId,
  optString,
  optStringList,
  pickMetadata,
  reqString,
  withMetadata,
  type FormatSpec,
  type Problem,
  type RecordContext,
} from './types.js';

export function parseOlympiadBench(r: JsonObject, ctx: RecordContext): Problem {
  const question = reqString(r, 'question');
  if (!has(r, 'final_answer') || r.final_answer === null) {
    throw new InvalidRecord("missing field 'final_answer' (theorem-proving problems have none and are not supported)");
  }
  let answers: string[];
  if (typeof r.final_answer === 'string') answers = [r.final_answer];
  else answers = optStringList(r, 'final_answer') ?? [];
  answers = answers.map((a) => a.trim());
  if (answers.length === 0 || answers.some((a) => a === '')) {
    throw new InvalidRecord("field 'final_answer' must be a non-empty list of non-empty strings");
  }
  const context = optString(r, 'context');
  const prompt = context !== undefined && context.trim() !== '' ? `${context.trim()}\n\n${question}` : question;
  let solution: string | undefined;
  if (typeof r.solution === 'string') solution = r.solution;
  else {
    const parts = optStringList(r, 'solution');
    if (parts !== undefined && parts.length > 0) solution = parts.join('\n\n');
  }
  const metadata = pickMetadata(r, {
    unit: 'unit',
    is_multiple_answer: 'isMultipleAnswer',
    answer_type: 'answerType',
    error: 'error',
    subject: 'subject',
    subfield: 'subfield',
    question_type: 'questionType',
    language: 'language',
    modality: 'modality',
  }) ?? {};
  if (Object.keys(r).some((k) => /^image_\d+$/.test(k) && r[k] !== null && r[k] !== '')) metadata.hasImage = true;
  const p: Problem = {
    id: optId(r, 'id') ?? `olympiadbench/${ctx.index}`,
    task: 'math',
    format: 'olympiadbench',
    prompt,
    answer: answers.join(', '),
    answers,
  };
  if (solution !== undefined) p.solution = solution;
  return withMetadata(p, Object.keys(metadata).length > 0 ? metadata : undefined);
}

export const olympiadbench: FormatSpec = {
  name: 'olympiadbench',
  task: 'math',
  describe: 'olympiadbench: question, final_answer (list), optional context, unit, is_multiple_answer, answer_type',
  detect: (r) => has(r, 'question') && has(r, 'final_answer'),
  parse: parseOlympiadBench,
};
