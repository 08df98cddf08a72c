export * from './lexicon.js';
export * from './problem.js';
export * from './dataset.js';
export * from './vocabulary.js';
export * from './detokenize.js';
