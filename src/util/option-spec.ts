/**
 * Options declared once. A command's tunable options are one spec — per option its flag, help, kind,
 * default and rule — from which come the library's defaults and checks (resolveSpec) and the command
 * line's options (cli/spec-options.ts registers them with commander and passes the values straight through).
 *
 *   const SPEC = { lr: option({ flag: '--lr <lr>', help: 'peak learning rate', kind: 'number', default: 1e-5, rule: atLeast(0) }), … };
 *   type Resolved = ResolvedOf<typeof SPEC>;          // { lr: number; … }
 *   const r = resolveSpec(SPEC, options);             // defaults applied, rules checked (one-line LeafError)
 */
import { LeafError } from '../errors.js';

export type OptionKind = 'int' | 'number' | 'boolean' | 'choice';

/** A rule a resolved value must satisfy, and how it is stated in the error ("must be " + what). */
export interface Rule<T> {
  ok: (value: T, all: Record<string, unknown>) => boolean;
  what: string | ((all: Record<string, unknown>) => string);
}

export interface OptionSpec<T> {
  /** Commander's flag syntax: '--lr <lr>', or '--pair-counterfactuals' for a boolean. */
  flag: string;
  help: string;
  kind: OptionKind;
  /** The allowed values of a 'choice'. */
  choices?: readonly string[];
  /**
   * The default, or a function of the options resolved before this one (in declaration order). null means
   * unset (e.g. --limit: all problems); a null value is not checked by kind or rule.
   */
  default: T | ((resolved: Record<string, unknown>) => T);
  /** How the default reads in --help and the docs, when it is a function or null. */
  defaultHelp?: string;
  rule?: Rule<NonNullable<T>>;
  /** The rule applies only when this holds (e.g. --jsd-beta only with --loss jsd). */
  when?: (all: Record<string, unknown>) => boolean;
}

/** Declares one option (keeps its value type). */
export const option = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each option has its own value type
export type Spec = Record<string, OptionSpec<any>>;
export type ResolvedOf<S> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** '--micro-batch-size' of '--micro-batch-size <b>'. */
export const flagName = (s: OptionSpec<unknown>): string => s.flag.split(' ')[0];

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Rules. */
export const intAtLeast = (min: number): Rule<number> => ({ ok: (v) => Number.isInteger(v) && v >= min, what: `an integer ≥ ${min}` });
export const atLeast = (min: number): Rule<number> => ({ ok: (v) => finite(v) && v >= min, what: `≥ ${min}` });
export const above = (min: number): Rule<number> => ({ ok: (v) => finite(v) && v > min, what: `> ${min}` });
export const inRange = (lo: number, hi: number, what = `in [${lo}, ${hi})`): Rule<number> => ({ ok: (v) => finite(v) && v >= lo && v < hi, what });
export const fraction: Rule<number> = { ok: (v) => finite(v) && v >= 0 && v <= 1, what: 'a fraction in [0, 1]' };
export const finiteNumber: Rule<number> = { ok: finite, what: 'a finite number' };

function checkKind(s: OptionSpec<unknown>, v: unknown): string | null {
  if (s.kind === 'int' && !(typeof v === 'number' && Number.isInteger(v))) return 'an integer';
  if (s.kind === 'number' && typeof v !== 'number') return 'a number';
  if (s.kind === 'boolean' && typeof v !== 'boolean') return 'true or false';
  if (s.kind === 'choice' && !s.choices!.includes(v as string)) return `one of ${s.choices!.join(', ')}`;
  return null;
}

/** The options' values: each given one (not undefined) or its default, checked by kind and rule (null: unset, unchecked), in declaration order. */
export function resolveSpec<S extends Spec>(spec: S, given: Partial<Record<keyof S, unknown>>): ResolvedOf<S> {
  const r: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const v = given[key] ?? (typeof s.default === 'function' ? (s.default as (x: Record<string, unknown>) => unknown)(r) : s.default);
    r[key] = v;
  }
  for (const [key, s] of Object.entries(spec)) {
    const v = r[key];
    if (v === null) continue;
    const kind = checkKind(s, v);
    if (kind !== null) throw new LeafError(`${flagName(s)} must be ${kind}, got ${String(v)}`);
    if (s.rule && (s.when?.(r) ?? true) && !s.rule.ok(v, r)) {
      const what = typeof s.rule.what === 'function' ? s.rule.what(r) : s.rule.what;
      throw new LeafError(`${flagName(s)} must be ${what}, got ${String(v)}`);
    }
  }
  return r as ResolvedOf<S>;
}

/** The keys of the options that were given (not undefined or null). */
export function givenKeys<S extends Spec>(spec: S, given: Partial<Record<keyof S, unknown>>): Set<keyof S> {
  return new Set(Object.keys(spec).filter((k) => given[k] !== undefined && given[k] !== null) as (keyof S)[]);
}
