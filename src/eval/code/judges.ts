/**
 * The three test forms, each judged by running the candidate in a sandbox (sandbox.ts):
 *  - HumanEval / EvalPlus: prompt + completion (or a full solution) + the `test` code defining
 *    check(candidate) + `check(<entry_point>)`;
 *  - MBPP: imports + setup code + solution + the `assert` lines;
 *  - stdin/stdout (LiveCodeBench / Codeforces style): the program runs once per case and its
 *    stdout must equal the expected output after normalising line ends and trailing whitespace.
 * Pass the code as the model wrote it after extractCode (extract.ts) for chat-style responses.
 *
 * A HumanEval or MBPP program passes only when the harness itself reaches the end of every check:
 * after the last assertion it writes a random per-run token on stderr, and exit status 0 without
 * that token (the solution called exit(), sys.exit(0) or os._exit(0) before the checks ran) is
 * 'failed'. The token is in the program text, so a solution that reads its own source could still
 * print it; the guard is against programs that end early, not against a forger.
 */
import { randomBytes } from 'node:crypto';
import { LeafError } from '../../errors.js';
import { runPython, type RunOptions, type RunResult, type RunStatus } from './sandbox.js';

export interface HumanEvalProblem {
  task_id?: string;
  prompt: string;
  entry_point: string;
  /** Python defining check(candidate). */
  test: string;
}

export interface MbppProblem {
  task_id?: string | number;
  /** `assert ...` lines. */
  test_list: string[];
  test_setup_code?: string;
  test_imports?: string[];
}

export interface StdioCase {
  input: string;
  output: string;
}

export interface JudgeResult {
  status: RunStatus;
  /** One line ('' when passed). */
  reason: string;
  /** Last ~2 KB of stderr of the deciding run. */
  errorTail: string;
  /** Total sandbox wall time. */
  durationMs: number;
  /** stdio form: cases that passed and cases in all (with stopOnFailure, later cases are not run). */
  passedCases?: number;
  totalCases?: number;
}

export interface StdioOptions extends RunOptions {
  /** Stop at the first failing case (default true). */
  stopOnFailure?: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function fromRun(r: RunResult): JudgeResult {
  return { status: r.status, reason: r.reason, errorTail: r.errorTail, durationMs: r.durationMs };
}

/** A fresh token the harness prints once every check has run. */
function completionToken(): string {
  return `leaf-checks-completed-${randomBytes(16).toString('hex')}`;
}

/** The harness's last statement: the token on stderr (os.write: no buffering, no print override). */
function completionLine(token: string): string {
  return `\n__import__('os').write(2, b'\\n${token}\\n')\n`;
}

/**
 * The verdict of a HumanEval/MBPP run with the completion token: exit status 0 counts only when the
 * token was written (the harness ran to its end); the token line is removed from the error tail.
 */
function requireCompletion(r: RunResult, token: string): JudgeResult {
  const seen = r.errorTail.includes(token);
  const errorTail = r.errorTail.split(`\n${token}\n`).join('\n').split(token).join('');
  const out = { ...fromRun(r), errorTail };
  if (r.status !== 'passed' || seen) return out;
  return {
    ...out,
    status: 'failed',
    reason: 'the program exited before the tests finished (exit(), sys.exit() or os._exit() before the last check)',
  };
}

/**
 * The HumanEval program: a completion that defines the entry point at the top level is a full
 * solution and goes after the prompt (so the prompt's imports and helpers stay available and the
 * solution's definition wins); anything else continues the prompt verbatim.
 */
export function humanEvalProgram(problem: HumanEvalProblem, completion: string, token?: string): string {
  if (!/^[A-Za-z_]\w*$/.test(problem.entry_point)) {
    throw new LeafError(`code judge: HumanEval problem ${problem.task_id ?? ''} has an invalid entry_point '${problem.entry_point}'`);
  }
  const full = new RegExp(`^(async\\s+)?def\\s+${escapeRegExp(problem.entry_point)}\\s*\\(`, 'm').test(completion);
  const solution = full ? `${problem.prompt}\n\n${completion}` : problem.prompt + completion;
  const end = token !== undefined ? completionLine(token) : '';
  return `${solution}\n\n${problem.test}\n\ncheck(${problem.entry_point})\n${end}`;
}

/** The MBPP program (with `token`, the harness's completion line after the last assert). */
export function mbppProgram(problem: MbppProblem, code: string, token?: string): string {
  if (!Array.isArray(problem.test_list) || problem.test_list.length === 0) {
    throw new LeafError(`code judge: MBPP problem ${problem.task_id ?? ''} has no test_list`);
  }
  const parts = [
    ...(problem.test_imports ?? []),
    problem.test_setup_code ?? '',
    code,
    '',
    ...problem.test_list,
  ];
  const end = token !== undefined ? completionLine(token) : '';
  return `${parts.join('\n')}\n${end}`;
}

export async function judgeHumanEval(problem: HumanEvalProblem, completion: string, opts: RunOptions = {}): Promise<JudgeResult> {
  const token = completionToken();
  return requireCompletion(await runPython(humanEvalProgram(problem, completion, token), opts), token);
}

export async function judgeMbpp(problem: MbppProblem, code: string, opts: RunOptions = {}): Promise<JudgeResult> {
  const token = completionToken();
  return requireCompletion(await runPython(mbppProgram(problem, code, token), opts), token);
}

/** Line ends to \n, trailing whitespace of every line removed, trailing blank lines removed. */
export function normalizeOutput(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

function clip(s: string, n = 80): string {
  const j = JSON.stringify(s);
  return j.length > n ? `${j.slice(0, n - 1)}…` : j;
}

function firstDifference(expected: string, got: string): string {
  const e = expected.split('\n');
  const g = got.split('\n');
  for (let i = 0; i < Math.max(e.length, g.length); i++) {
    if (e[i] !== g[i]) {
      const ex = e[i] === undefined ? '<end of output>' : clip(e[i]!);
      const gx = g[i] === undefined ? '<end of output>' : clip(g[i]!);
      return `line ${i + 1}: expected ${ex}, got ${gx}`;
    }
  }
  return 'outputs differ';
}

export async function judgeStdio(code: string, cases: readonly StdioCase[], opts: StdioOptions = {}): Promise<JudgeResult> {
  if (cases.length === 0) throw new LeafError('code judge: stdin/stdout problem has no test cases');
  const stop = opts.stopOnFailure ?? true;
  let passed = 0;
  let durationMs = 0;
  let firstFailure: JudgeResult | null = null;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const r = await runPython(code, { ...opts, stdin: c.input });
    durationMs += r.durationMs;
    let failure: JudgeResult | null = null;
    if (r.status !== 'passed') {
      failure = { ...fromRun(r), reason: `case ${i + 1}/${cases.length}: ${r.reason}` };
    } else {
      const got = normalizeOutput(r.stdout);
      const want = normalizeOutput(c.output);
      if (got !== want) {
        const trunc = r.stdoutTruncated ? ' (output truncated)' : '';
        failure = {
          ...fromRun(r),
          status: 'failed',
          reason: `case ${i + 1}/${cases.length}: wrong answer${trunc}: ${firstDifference(want, got)}`,
        };
      }
    }
    if (failure === null) passed++;
    else {
      firstFailure ??= failure;
      if (stop) break;
    }
  }
  if (firstFailure !== null) return { ...firstFailure, durationMs, passedCases: passed, totalCases: cases.length };
  return { status: 'passed', reason: '', errorTail: '', durationMs, passedCases: passed, totalCases: cases.length };
}
