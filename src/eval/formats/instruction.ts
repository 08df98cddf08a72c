/**
 * The standard generation prompt of each task (the user message; apply the chat template after).
 *
 * Math — the Qwen2.5-Math / DeepSeek convention: the question, a newline, then
 *     Please reason step by step, and put your final answer within \boxed{}.
 *
 * Code — the problem and an instruction to answer with a single ```python fenced block (which
 * eval/code's extractCode takes out of the response):
 *   - HumanEval (tests of kind 'humaneval' with a prompt that is code): "Complete the following
 *     Python function." followed by the prompt code in a ```python block; the answer is the
 *     complete function (the judge accepts a full definition of the entry point);
 *   - MBPP (kind 'mbpp'): the task text and "Your code should pass these tests:" with the
 *     `assert` lines (the MBPP paper's convention, which also tells the function's name);
 *   - stdin/stdout (kind 'stdio'): the statement and an instruction to read standard input and
 *     write standard output;
 *   - a natural-language prompt with an entry point (leaf's format): the prompt and the name of
 *     the function to define.
 */
import { LeafError } from '../../errors.js';
import type { Problem } from './types.js';

/** Appended to every math question (after a newline). */
export const MATH_INSTRUCTION = 'Please reason step by step, and put your final answer within \\boxed{}.';

/** Ends every code instruction. */
export const CODE_FENCE_INSTRUCTION = 'Answer with a single ```python fenced code block.';

function fence(code: string): string {
  return `\`\`\`python\n${code.replace(/\s+$/, '')}\n\`\`\``;
}

/** The generation prompt for `problem` (see the module comment). */
export function buildInstruction(problem: Problem): string {
  if (problem.task === 'math') return `${problem.prompt.trim()}\n${MATH_INSTRUCTION}`;
  const tests = problem.tests;
  if (!tests) throw new LeafError(`problem ${problem.id}: a code problem without tests has no instruction form`);
  const text = problem.prompt.trim();
  switch (tests.kind) {
    case 'humaneval': {
      const name = tests.entryPoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const looksLikeCode = new RegExp(`^\\s*(async\\s+)?def\\s+${name}\\s*\\(`, 'm').test(problem.prompt);
      if (looksLikeCode) {
        return (
          'Complete the following Python function. Give the complete function, including its signature and ' +
          `any imports it needs. ${CODE_FENCE_INSTRUCTION}\n\n${fence(problem.prompt)}`
        );
      }
      return `${text}\n\nWrite a Python function named \`${tests.entryPoint}\`. ${CODE_FENCE_INSTRUCTION}`;
    }
    case 'mbpp': {
      const asserts = tests.testList.join('\n');
      return `${text}\nYour code should pass these tests:\n\n${asserts}\n\n${CODE_FENCE_INSTRUCTION}`;
    }
    case 'stdio':
      return (
        `${text}\n\nWrite a complete Python 3 program that reads the input from standard input and writes the ` +
        `answer to standard output. ${CODE_FENCE_INSTRUCTION}`
      );
  }
}
