/**
 * Limits on rendering a chat template, so that a template that loops or grows without end
 * (`{% for i in range(100000000) %}x{% endfor %}`, `{% set s = s + s %}` in a loop) fails with a
 * one-line error in bounded time and memory instead of exhausting the process.
 *
 * @huggingface/jinja interprets templates synchronously, node by node, through one public method,
 * `Interpreter.evaluate`. {@link BoundedInterpreter} counts those calls and checks every value they
 * return:
 * - steps: at most `maxSteps` per render, a step being one node evaluation or one item of a list a
 *   node made (which a loop then walks) — a deterministic bound on the work: Qwen2's ChatML template
 *   takes about 20 steps per message (38k for 2000 messages); a step costs 1–10 µs, so the budget is
 *   a few seconds at most; the same input always takes the same steps, so a render that passes once
 *   passes on any machine and in a resumed run;
 * - size: no string longer than `maxChars` and no list or mapping of more than `maxItems` entries
 *   (checked on every value, so repeated doubling stops at twice the cap);
 * - time: a wall-clock backstop of `maxMillis`, checked every 1024 steps, for a single step that is
 *   slow in a way the step count does not see;
 * - `range()` with more than `maxRange` items is an error, as in Jinja's sandbox (MAX_RANGE = 100000),
 *   which transformers renders templates in.
 * Rendering in a worker thread with a timeout was the alternative; it needs a thread hop and a copy of
 * the messages for every one of the many prompts mining and evaluation render, and its time limit
 * makes the outcome depend on the machine's load. The counting costs one increment per node.
 */
import { Interpreter } from '@huggingface/jinja';
import { LeafError } from '../errors.js';

export interface TemplateLimits {
  maxSteps: number;
  maxChars: number;
  maxItems: number;
  maxRange: number;
  maxMillis: number;
}

export const TEMPLATE_LIMITS: Readonly<TemplateLimits> = Object.freeze({
  maxSteps: 250_000,
  maxChars: 16 << 20,
  maxItems: 1 << 20,
  maxRange: 100_000,
  maxMillis: 10_000,
});

/** What `Interpreter.evaluate` returns (the package's declarations do not resolve under NodeNext). */
interface Evaluated {
  value: unknown;
}
interface InterpreterBase {
  run(program: unknown): Evaluated;
  evaluate(statement: unknown, environment: unknown): Evaluated;
}
const Base = Interpreter as unknown as new (env: unknown) => InterpreterBase;

/** Thrown when a render exceeds a limit; the renderer turns it into a LeafError naming the template. */
export class TemplateLimitError extends LeafError {}

function sizeOf(v: Evaluated): { n: number; what: 'characters' | 'items' } {
  const value: unknown = v.value;
  if (typeof value === 'string') return { n: value.length, what: 'characters' };
  if (Array.isArray(value)) return { n: value.length, what: 'items' };
  if (value instanceof Map) return { n: value.size, what: 'items' };
  return { n: 0, what: 'items' };
}

const LOOKUPS = new Set(['Identifier', 'MemberExpression']);

/** An Interpreter that enforces {@link TemplateLimits} on one render. */
export class BoundedInterpreter extends Base {
  private steps = 0;
  private calls = 0;
  private readonly deadline: number;

  constructor(env: unknown, private readonly limits: Readonly<TemplateLimits> = TEMPLATE_LIMITS) {
    super(env);
    this.deadline = Date.now() + limits.maxMillis;
  }

  override evaluate(statement: unknown, environment: unknown): Evaluated {
    const l = this.limits;
    if (++this.calls % 1024 === 0 && Date.now() > this.deadline) throw new TemplateLimitError(`took more than ${l.maxMillis / 1000} s`);
    this.charge(1);
    const v = super.evaluate(statement, environment);
    const { n, what } = sizeOf(v);
    const cap = what === 'characters' ? l.maxChars : l.maxItems;
    if (n > cap) throw new TemplateLimitError(`made a value of ${n} ${what} (the limit is ${cap})`);
    // A list made here (range, filters, +) is work a loop will walk; a variable looked up is not new.
    if (what === 'items' && !LOOKUPS.has((statement as { type?: string } | undefined)?.type ?? '')) this.charge(n);
    return v;
  }

  private charge(n: number): void {
    this.steps += n;
    if (this.steps > this.limits.maxSteps) throw new TemplateLimitError(`took more than ${this.limits.maxSteps} steps (a loop without end?)`);
  }
}

/** Python's range() for templates, refusing more than `maxRange` items (as Jinja's sandbox). */
export function boundedRange(maxRange = TEMPLATE_LIMITS.maxRange) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) {
      stop = start;
      start = 0;
    }
    if (step === 0) throw new LeafError('chat template: range() step must not be zero');
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (!(count <= maxRange)) throw new TemplateLimitError(`asked range() for ${count} items (the limit is ${maxRange})`);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(start + i * step);
    return out;
  };
}
