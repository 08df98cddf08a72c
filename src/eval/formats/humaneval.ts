/**
 * HumanEval / HumanEval+ (EvalPlus): `{ task_id, prompt, entry_point, canonical_solution, test }`
 * (EvalPlus adds contract, base_input, plus_input, atol). Reads: `task_id` → id; `prompt` (the
 * function signature and docstring) → prompt; `entry_point` → entryPoint; `canonical_solution`
 * (optional; the body that continues the prompt) → solution; `test` (Python defining
 * check(candidate)) → tests `{ kind: 'humaneval' }`. Metadata: atol (EvalPlus) when present.
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import { has, optString, pickMetadata, reqId, reqString, withMetadata, type FormatSpec, type Problem } from './types.js';

const IDENT = /^[A-Za-z_]\w*$/;

/** A required `entry_point`-style field holding a Python identifier. */
export function reqIdentifier(r: JsonObject, key: string): string {
  const v = reqString(r, key).trim();
  if (!IDENT.test(v)) throw new InvalidRecord(`field '${key}' must be a Python identifier, got ${JSON.stringify(v)}`);
  return v;
}

export function parseHumanEval(r: JsonObject): Problem {
  const id = reqId(r, 'task_id');
  const prompt = reqString(r, 'prompt');
  const entryPoint = reqIdentifier(r, 'entry_point');
  const test = reqString(r, 'test');
  const p: Problem = {
    id,
    task: 'code',
    format: 'humaneval',
    prompt,
    entryPoint,
    tests: { kind: 'humaneval', test, entryPoint },
  };
  const solution = optString(r, 'canonical_solution');
  if (solution !== undefined) p.solution = solution;
  return withMetadata(p, pickMetadata(r, { atol: 'atol' }));
}

export const humaneval: FormatSpec = {
  name: 'humaneval',
  task: 'code',
  describe: 'humaneval: task_id, prompt, entry_point, test, canonical_solution (HumanEval, HumanEval+/EvalPlus)',
  detect: (r) => has(r, 'task_id') && has(r, 'prompt') && has(r, 'entry_point') && has(r, 'test') && !has(r, 'test_list'),
  parse: parseHumanEval,
};
