/**
 * Commander options from an option spec (util/option-spec.ts): each option's flag and help (with its
 * default) as declared; values are parsed by kind only and passed straight through — defaults and rules
 * are the library's (resolveSpec), so a flag left out reaches it as undefined.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { flagName, type OptionSpec, type Spec } from '../util/option-spec.js';

const camel = (flag: string) => flagName({ flag } as OptionSpec<unknown>).slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function parser(s: OptionSpec<unknown>): (v: string) => unknown {
  const name = flagName(s);
  if (s.kind === 'choice') {
    return (v) => {
      if (!s.choices!.includes(v)) throw new InvalidArgumentError(`${name} must be one of ${s.choices!.join(', ')}`);
      return v;
    };
  }
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${s.kind === 'int' ? 'an integer' : 'a number'}`);
    }
    return n;
  };
}

/** Adds every option of `spec` to `cmd` (the attribute commander derives from each flag must be its key). */
export function addSpecOptions(cmd: Command, spec: Spec): Command {
  for (const [key, s] of Object.entries(spec)) {
    if (camel(s.flag) !== key) throw new Error(`option spec: ${s.flag} does not name ${key}`);
    if (s.kind === 'boolean') {
      cmd.option(s.flag, s.help);
      continue;
    }
    const shown = defaultText(s);
    cmd.option(s.flag, shown === undefined ? s.help : `${s.help} (default: ${shown})`, parser(s));
  }
  return cmd;
}

function defaultText(s: OptionSpec<unknown>): string | undefined {
  return s.defaultHelp ?? (typeof s.default === 'function' ? undefined : String(s.default));
}

/** The spec as a markdown table (flag, default, meaning): the flag tables of docs/*.md are this text. */
export function specTable(spec: Spec): string {
  const cell = (x: string) => x.replace(/\|/g, '\\|');
  const rows = Object.values(spec).map((s) => `| \`${s.flag}\` | ${cell(s.kind === 'boolean' ? 'off' : defaultText(s) ?? '')} | ${cell(s.help)} |`);
  return ['| flag | default | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}
