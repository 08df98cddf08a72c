/**
 * leaf's own mining input: `{ id, prompt, response?, answer? | tests + entry_point, solution?,
 * metadata? }`. A record is math when it has `answer` (string or number) and code when it has
 * `tests`, never both. `tests` is one of:
 *   - a string of Python defining check(candidate) (HumanEval style; needs `entry_point`);
 *   - a list of `assert` lines (MBPP style; `entry_point` optional);
 *   - a list of `{ input, output }` (stdin/stdout).
 * `prompt` is the problem itself (buildInstruction adds the task's instruction); `response`, when
 * given, is a model answer to it (what confounder mining scores); `metadata` (an object) is kept.
 * (Mining also reads `protected_spans` and `distractor_spans`: method/input.ts.)
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import { reqIdentifier } from './humaneval.js';
import { parseStdioTests } from './livecodebench.js';
import { has, optString, reqId, reqString, reqStringList, type FormatSpec, type Problem } from './types.js';

export function parseLeaf(r: JsonObject): Problem {
  const id = reqId(r, 'id');
  const prompt = reqString(r, 'prompt');
  const hasAnswer = has(r, 'answer') && r.answer !== null;
  const hasTests = has(r, 'tests') && r.tests !== null;
  if (hasAnswer && hasTests) throw new InvalidRecord("has both 'answer' (math) and 'tests' (code); give one");
  if (!hasAnswer && !hasTests) throw new InvalidRecord("needs 'answer' (math) or 'tests' (code)");
  let p: Problem;
  if (hasAnswer) {
    const a = r.answer;
    let answer: string;
    if (typeof a === 'number' && Number.isFinite(a)) answer = String(a);
    else if (typeof a === 'string' && a.trim() !== '') answer = a.trim();
    else throw new InvalidRecord("field 'answer' must be a non-empty string or a number");
    p = { id, task: 'math', format: 'leaf', prompt, answer };
  } else if (typeof r.tests === 'string') {
    const entryPoint = reqIdentifier(r, 'entry_point');
    const test = reqString(r, 'tests');
    p = { id, task: 'code', format: 'leaf', prompt, entryPoint, tests: { kind: 'humaneval', test, entryPoint } };
  } else if (Array.isArray(r.tests) && r.tests.length > 0 && typeof r.tests[0] === 'string') {
    p = { id, task: 'code', format: 'leaf', prompt, tests: { kind: 'mbpp', testList: reqStringList(r, 'tests') } };
    if (has(r, 'entry_point')) p.entryPoint = reqIdentifier(r, 'entry_point');
  } else if (Array.isArray(r.tests)) {
    p = { id, task: 'code', format: 'leaf', prompt, tests: { kind: 'stdio', cases: parseStdioTests(r, 'tests') } };
    if (has(r, 'entry_point')) throw new InvalidRecord("'entry_point' given with stdin/stdout tests");
  } else {
    throw new InvalidRecord("field 'tests' must be a string (check(candidate) code) or a list (asserts or {input, output})");
  }
  const response = optString(r, 'response');
  if (response !== undefined) p.response = response;
  const solution = optString(r, 'solution');
  if (solution !== undefined) p.solution = solution;
  if (has(r, 'metadata') && r.metadata !== null) {
    if (typeof r.metadata !== 'object' || Array.isArray(r.metadata)) throw new InvalidRecord("field 'metadata' must be an object");
    p.metadata = r.metadata as Record<string, unknown>;
  }
  return p;
}

export const leaf: FormatSpec = {
  name: 'leaf',
  task: 'math or code',
  describe: "leaf: id, prompt, response?, and answer (math) or tests + entry_point (code)",
  detect: (r) => has(r, 'id') && has(r, 'prompt') && (has(r, 'answer') || has(r, 'tests')),
  parse: parseLeaf,
};
