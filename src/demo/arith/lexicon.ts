/**
 * The words and sentence templates of the distracted-arithmetic benchmark.
 *
 * Placeholders: {N} the main person, {F} a friend taking part in an operation, {P} / {Q} other people
 * (distractors only), {O} the counted object, {O2} another object, {b} an operand, {c} a distractor's
 * number. Every template is one sentence ending with a period; numbers are written in digits.
 */

export const NAMES = [
  'Tom', 'Ann', 'Maya', 'Leo', 'Sara', 'Ben', 'Nina', 'Omar', 'Lily', 'Jack', 'Emma', 'Sam', 'Zoe', 'Max', 'Ivy', 'Raj',
] as const;

/** Counted objects (plural nouns, one word each). */
export const OBJECTS = [
  'apples', 'pears', 'marbles', 'stickers', 'books', 'cookies', 'cards', 'shells', 'pencils', 'coins', 'stamps', 'eggs',
] as const;

export type OpSign = '+' | '-';

/** An operation sentence of the problem and how the worked solution restates it. */
export interface OpTemplate {
  id: string;
  sign: OpSign;
  /** The prompt sentence. */
  text: string;
}

export const OP_TEMPLATES: readonly OpTemplate[] = [
  { id: 'buy', sign: '+', text: 'Then {N} buys {b} more {O}.' },
  { id: 'get', sign: '+', text: '{N} gets {b} {O} from {F}.' },
  { id: 'find', sign: '+', text: '{N} finds {b} {O}.' },
  { id: 'win', sign: '+', text: 'Later {N} wins {b} {O}.' },
  { id: 'give', sign: '-', text: '{N} gives {b} {O} to {F}.' },
  { id: 'lose', sign: '-', text: 'Then {N} loses {b} {O}.' },
  { id: 'sell', sign: '-', text: '{N} sells {b} {O}.' },
  { id: 'use', sign: '-', text: 'Later {N} uses {b} {O}.' },
];

export const START_TEMPLATE = '{N} has {a} {O}.';
export const QUESTION_TEMPLATE = 'How many {O} does {N} have now?';
/** The worked solution restates the start sentence, then each operation sentence with its equation. */
export const SOLUTION_START = '';
export const SOLUTION_STEP = '{x} {sign} {b} = {y}.';
export const SOLUTION_END = '\\boxed{{y}}';

export type DistractorTopic = 'same' | 'other';

/** An irrelevant sentence with a number: on the problem's topic (its people or objects) or another. */
export interface DistractorTemplate {
  id: string;
  topic: DistractorTopic;
  text: string;
  /** The same sentence without a number (for training data in which every number is used). */
  vague: string;
}

export const DISTRACTOR_TEMPLATES: readonly DistractorTemplate[] = [
  { id: 'other-has', topic: 'same', text: '{P} has {c} {O}.', vague: '{P} has some {O}.' },
  { id: 'age', topic: 'same', text: '{N} is {c} years old.', vague: '{N} is very old.' },
  { id: 'other-age', topic: 'same', text: '{P} is {c} years old.', vague: '{P} is very old.' },
  { id: 'price', topic: 'same', text: 'The {O} cost {c} dollars.', vague: 'The {O} cost many dollars.' },
  { id: 'park', topic: 'other', text: 'The park has {c} trees.', vague: 'The park has many trees.' },
  { id: 'rain', topic: 'other', text: 'It rained for {c} days.', vague: 'It rained for many days.' },
  { id: 'bus', topic: 'other', text: 'A bus has {c} seats.', vague: 'A bus has many seats.' },
  { id: 'store', topic: 'other', text: 'The store opens at {c} am.', vague: 'The store opens very early.' },
  { id: 'run', topic: 'other', text: '{P} runs {c} miles every day.', vague: '{P} runs many miles every day.' },
  { id: 'class', topic: 'other', text: 'The school has {c} classrooms.', vague: 'The school has many classrooms.' },
];

/** The singular of every plural noun that can follow a number ("1 apple", "1 year old", "1 more card"). */
export const SINGULAR: Readonly<Record<string, string>> = {
  apples: 'apple', pears: 'pear', marbles: 'marble', stickers: 'sticker', books: 'book', cookies: 'cookie',
  cards: 'card', shells: 'shell', pencils: 'pencil', coins: 'coin', stamps: 'stamp', eggs: 'egg',
  years: 'year', dollars: 'dollar', trees: 'tree', days: 'day', seats: 'seat', miles: 'mile', classrooms: 'classroom',
};

/** Number agreement: a noun counted by the number 1 (alone, or after "more") becomes singular. */
export function agree(text: string): string {
  return text.replace(/\b1 (more )?([a-z]+)\b/g, (m, more: string | undefined, noun: string) =>
    noun in SINGULAR ? `1 ${more ?? ''}${SINGULAR[noun]}` : m);
}

/** Fills `{key}` placeholders (unknown keys are an error: a template bug), with number agreement. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return agree(template.replace(/\{([A-Za-z0-9]+)\}/g, (m, key: string) => {
    if (!(key in values)) throw new Error(`template ${JSON.stringify(template)}: no value for ${m}`);
    return String(values[key]);
  }));
}
