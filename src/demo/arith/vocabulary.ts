/**
 * The closed vocabulary of the benchmark: every piece (word-level pre-tokenizer piece: a run of
 * letters, one digit, or one other character) that a prompt or worked solution can contain. The demo
 * builds its models' word-level tokenizer from it, so no benchmark text ever maps to <unk>.
 */
import { wordLevelPieces } from '../../tokenizer/build-word-level.js';
import {
  DISTRACTOR_TEMPLATES, NAMES, OBJECTS, OP_TEMPLATES, QUESTION_TEMPLATE, SOLUTION_END, SOLUTION_START, SOLUTION_STEP,
  SINGULAR, START_TEMPLATE,
} from './lexicon.js';

/** Vocabulary words in a fixed order: digits, symbols, then words in order of first appearance. */
export function arithVocabulary(): string[] {
  const words = new Set<string>(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '-', '=', '.', ',', '?', '\\', '{', '}']);
  const templates = [
    START_TEMPLATE, QUESTION_TEMPLATE, SOLUTION_START, SOLUTION_STEP, SOLUTION_END,
    ...OP_TEMPLATES.map((t) => t.text), ...DISTRACTOR_TEMPLATES.flatMap((d) => [d.text, d.vague]),
  ];
  for (const t of templates) for (const piece of wordLevelPieces(t.replace(/\{[A-Za-z0-9]+\}/g, ' '))) words.add(piece);
  for (const w of [...NAMES, ...OBJECTS, ...Object.values(SINGULAR)]) words.add(w);
  return [...words];
}
