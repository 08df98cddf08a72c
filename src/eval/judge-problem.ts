import { LeafError } from '../errors.js';
import type { CodeJob, CodePool } from './code/index.js';
import { extractCode } from './code/index.js';
import type { Problem } from './formats/index.js';
import { judgeMath } from './math/index.js';

/** The verdict on one response to one problem, math or code. */
export interface Verdict {
  correct: boolean;
  /** Math: the extracted final answer; code: the extracted program. Null when nothing could be extracted. */
  extracted: string | null;
  /** Math: which extraction rule fired; code: the sandbox status (passed / failed / timeout / memory / crashed / output-limit). */
  detail: string;
  /** One line explaining a failure ('' when correct). */
  reason: string;
}

/** The sandbox job that judges `code` against a code problem's tests. */
export function codeJob(problem: Problem, code: string): CodeJob {
  const t = problem.tests;
  if (!t) throw new LeafError(`problem ${problem.id}: no tests to judge code with`);
  if (t.kind === 'humaneval') {
    // HumanEval's prompt is code (signature + docstring) that a completion continues or a full solution follows.
    // leaf's own format may have a natural-language prompt: there a full solution (one that defines the entry
    // point) is the whole program, and only a bare continuation is appended to the prompt.
    const full = new RegExp(`^(async\\s+)?def\\s+${t.entryPoint}\\s*\\(`, 'm').test(code);
    const prompt = problem.format === 'leaf' && full ? '' : problem.prompt;
    return { form: 'humaneval', problem: { task_id: problem.id, prompt, entry_point: t.entryPoint, test: t.test }, code };
  }
  if (t.kind === 'mbpp') return { form: 'mbpp', problem: { task_id: problem.id, test_list: t.testList, test_setup_code: t.setupCode, test_imports: t.imports }, code };
  return { form: 'stdio', cases: t.cases, code };
}

/**
 * Judges one response: math responses by their final answer against the reference (every reference
 * answer, for multi-answer problems), code responses by running the extracted program in the sandbox pool.
 */
export async function judgeResponse(problem: Problem, response: string, pool: CodePool | null): Promise<Verdict> {
  if (problem.task === 'math') {
    const reference = problem.answer ?? (problem.answers ? problem.answers.join(', ') : undefined);
    if (reference === undefined) throw new LeafError(`problem ${problem.id}: no reference answer to judge with`);
    const j = judgeMath(response, reference);
    return {
      correct: j.correct,
      extracted: j.extracted,
      detail: j.rule ?? 'none',
      reason: j.correct ? '' : j.extracted === null ? 'no final answer found' : `answer ${JSON.stringify(j.extracted)} ≠ reference ${JSON.stringify(reference)}`,
    };
  }
  if (!pool) throw new LeafError('code problems need a code sandbox pool');
  const code = extractCode(response);
  const r = await pool.judge(codeJob(problem, code));
  return { correct: r.status === 'passed', extracted: code, detail: r.status, reason: r.reason };
}
