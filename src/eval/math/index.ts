/** The math answer judge: extraction, normalisation and equivalence of final answers. */

export { extractAnswer, type Extraction, type ExtractionRule } from './extract.js';
export { normalizeAnswer } from './normalize.js';
export { isEquivalent, type EquivalenceOptions } from './equivalence.js';
export { judgeMath, referenceAnswer, type MathJudgement } from './judge.js';
export { symbolicEqual, shutdownSymbolic, DEFAULT_SYMBOLIC_TIMEOUT_MS } from './symbolic.js';
export { RELATIVE_TOLERANCE } from './number.js';
