import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeWordLevelTokenizer } from '../../src/tokenizer/index.js';
import { makeResponder } from './tiny-responder.js';

/**
 * A tiny mining set-up with known verdicts. Word-level tokenizer (every word one token); math
 * problems whose prompts are three words; the teacher always answers "So the answer is 7."; the
 * student answers 3, except on some of the two-word prompts that pruning one word leaves:
 *
 *   id  prompt                answer  student: full / with one word cut            teacher  selected
 *   p1  alpha beta gamma      7       3 / 7 whichever word is cut                 7 ✓      yes — always verified
 *   p2  delta epsilon zeta    7       3 / 3                                       7 ✓      yes — never verified
 *   p3  eta theta iota        3       3 ✓                                         7        no (student right)
 *   p4  kappa lambda mu       5       3                                           7        no (teacher wrong)
 *   p5  nu xi omicron         7       3 / 7 only when "nu" is cut                 7 ✓      yes — verified iff "nu" is cut
 * (with a unit of three tokens and q = 0.1 exactly the token with D = 0 is flagged, barring ties),
 * plus two malformed lines (lines 3 and 6 of the file).
 */
export const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron',
  'So', 'the', 'answer', 'is', 'We', 'add', '.', ...'0123456789'];

export const GIVEN_RESPONSE = 'We add.\nSo the answer is 7.';
export const PROBLEMS = [
  { id: 'p1', prompt: 'alpha beta gamma', answer: '7', response: GIVEN_RESPONSE },
  { id: 'p2', prompt: 'delta epsilon zeta', answer: '7' },
  { id: 'p3', prompt: 'eta theta iota', answer: '3' },
  { id: 'p4', prompt: 'kappa lambda mu', answer: 5 },
  { id: 'p5', prompt: 'nu xi omicron', answer: '7', response: GIVEN_RESPONSE },
];
const say = (n: number) => `So the answer is ${n} .`;

/** The prompt with its i-th word cut, as pruning cuts it. */
export const withoutWord = (prompt: string, i: number) => prompt.split(' ').filter((_, j) => j !== i).join(' ');

/** What the student answers to each prompt it was trained on. */
export const STUDENT: Record<string, number> = (() => {
  const out: Record<string, number> = {};
  const rightAfterCut: Record<string, (i: number) => boolean> = { p1: () => true, p2: () => false, p5: (i) => i === 0 };
  for (const p of PROBLEMS) {
    out[p.prompt] = 3;
    for (let i = 0; i < 3; i++) out[withoutWord(p.prompt, i)] = rightAfterCut[p.id]?.(i) ? 7 : 3;
  }
  return out;
})();

/** The data file lines: the problems with two malformed lines among them. */
export function dataLines(problems: ReadonlyArray<Record<string, unknown>> = PROBLEMS): string[] {
  const lines = problems.map((p) => JSON.stringify(p));
  lines.splice(2, 0, '{"id": "bad1", "prompt": 5, "answer": "1"}');
  lines.splice(5, 0, 'not json at all');
  return lines;
}

export interface MiningFixture {
  tokenizer: string;
  student: string;
  teacher: string;
  data: string;
}

/** Writes the tokenizer, trains the two models and writes the data file under `dir`. */
export function makeMiningFixture(dir: string): MiningFixture {
  const tokenizer = join(dir, 'tokenizer');
  writeWordLevelTokenizer(tokenizer, { words: WORDS });
  const student = join(dir, 'student');
  const teacher = join(dir, 'teacher');
  makeResponder(student, tokenizer, Object.entries(STUDENT).map(([prompt, n]) => ({ prompt, response: say(n) })), 1);
  makeResponder(teacher, tokenizer, Object.keys(STUDENT).map((prompt) => ({ prompt, response: say(7) })), 2);
  const data = join(dir, 'train.jsonl');
  writeFileSync(data, dataLines().join('\n') + '\n');
  return { tokenizer, student, teacher, data };
}
