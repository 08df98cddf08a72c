/**
 * MBPP (Austin et al. 2021), full and sanitized, and MBPP+ (EvalPlus): `{ task_id, text, code,
 * test_list, test_setup_code, challenge_test_list }`; the sanitized set names the task `prompt`
 * and adds `test_imports`. Reads: `task_id` → id; `text` (else `prompt`) → prompt; `code` →
 * solution; `test_list` (required, non-empty `assert` lines), `test_setup_code`, `test_imports`,
 * `challenge_test_list` → tests `{ kind: 'mbpp' }`; `entry_point` when present → entryPoint.
 * Metadata: plusTest (MBPP+'s `test` script, which judgeMbpp does not run) when present.
 */
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import {
  has,
  optString,
  optStringList,
  pickMetadata,
  reqId,
  reqStringList,
  withMetadata,
  type FormatSpec,
  type Problem,
  type ProblemTests,
} from './types.js';

export function parseMbpp(r: JsonObject): Problem {
  const id = reqId(r, 'task_id');
  let text = optString(r, 'text');
  if (text === undefined || text.trim() === '') text = optString(r, 'prompt');
  if (text === undefined || text.trim() === '') throw new InvalidRecord("missing field 'text' (or 'prompt')");
  const testList = reqStringList(r, 'test_list');
  const tests: ProblemTests & { kind: 'mbpp' } = { kind: 'mbpp', testList };
  const setup = optString(r, 'test_setup_code');
  if (setup !== undefined && setup.trim() !== '') tests.setupCode = setup;
  const imports = optStringList(r, 'test_imports');
  if (imports !== undefined && imports.length > 0) tests.imports = imports;
  const challenge = optStringList(r, 'challenge_test_list');
  if (challenge !== undefined && challenge.length > 0) tests.challengeTestList = challenge;
  const p: Problem = { id, task: 'code', format: 'mbpp', prompt: text, tests };
  const code = optString(r, 'code');
  if (code !== undefined) p.solution = code;
  const entry = optString(r, 'entry_point');
  if (entry !== undefined && entry.trim() !== '') p.entryPoint = entry.trim();
  return withMetadata(p, pickMetadata(r, { test: 'plusTest' }));
}

export const mbpp: FormatSpec = {
  name: 'mbpp',
  task: 'code',
  describe: 'mbpp: task_id, text or prompt, code, test_list, test_setup_code, challenge_test_list (MBPP, MBPP+)',
  detect: (r) => has(r, 'test_list'),
  parse: parseMbpp,
};
