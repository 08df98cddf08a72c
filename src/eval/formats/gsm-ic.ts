/**
 * GSM-IC (Shi et al. 2023, "Large Language Models Can Be Easily Distracted by Irrelevant Context"):
 * `GSM-IC_2step.json` / `GSM-IC_mstep.json` are JSON arrays of `{ original_question, new_question,
 * answer, n_steps, role, number, sentence_template, role_label, number_label, sentence_label }`,
 * where `new_question` is `original_question` with one irrelevant sentence inserted and `answer` is
 * bare (a number or a numeric string). Reads: `new_question` → prompt; `answer` → answer (commas
 * removed); the inserted sentence's character span in `new_question` (eval/formats/inserted-span.ts)
 * → `distractorSpans` (ground truth for detection; written as `distractor_spans` in leaf's format);
 * the other fields → metadata under their own names (`original_question` included, the same problem
 * without the distractor). Optional `id` is used as the id, else `gsm-ic/<index>`.
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import { insertedSpan } from './inserted-span.js';
import { has, optId, pickMetadata, reqString, withMetadata, type FormatSpec, type Problem, type RecordContext } from './types.js';

const KEPT = ['original_question', 'n_steps', 'role', 'number', 'sentence_template', 'role_label', 'number_label', 'sentence_label'];

/** A bare numeric answer (a number, or a string such as "1,250" or "-3.5"), commas removed; null otherwise. */
export function bareAnswer(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  const s = v.trim().replace(/,/g, '');
  return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(s) ? s : null;
}

export function parseGsmIc(r: JsonObject, ctx: RecordContext): Problem {
  const original = reqString(r, 'original_question');
  const prompt = reqString(r, 'new_question');
  const answer = bareAnswer(r.answer);
  if (answer === null) throw new InvalidRecord(`field 'answer' must be a number, got ${JSON.stringify(r.answer)?.slice(0, 40)}`);
  const span = insertedSpan(original, prompt);
  if (span === null) throw new InvalidRecord("'new_question' adds nothing to 'original_question' (no inserted sentence)");
  const p: Problem = {
    id: optId(r, 'id') ?? `gsm-ic/${ctx.index}`,
    task: 'math',
    format: 'gsm-ic',
    prompt,
    answer,
    distractorSpans: [[span.start, span.end]],
  };
  return withMetadata(p, pickMetadata(r, Object.fromEntries(KEPT.map((k) => [k, k]))));
}

export const gsmIc: FormatSpec = {
  name: 'gsm-ic',
  task: 'math',
  describe: 'gsm-ic: original_question, new_question, answer (a JSON array or JSONL)',
  detect: (r) => has(r, 'original_question') && has(r, 'new_question'),
  parse: parseGsmIc,
};
