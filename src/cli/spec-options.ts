/**
 * Commander options from an option spec (util/option-spec.ts): each option's flag and help (with its
 * default) as declared; values are passed straight through — numbers converted from their text, nothing
 * checked here: defaults, kinds, choices and rules are the library's (resolveSpec, one error style for
 * every command), so a flag left out reaches it as undefined and a bad value fails there in one line.
 */
import type { Command } from 'commander';
import { flagName, type OptionSpec, type Spec } from '../util/option-spec.js';

const camel = (flag: string) => flagName({ flag } as OptionSpec<unknown>).slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A number option's text as a number; text that is not one is passed on as it is (resolveSpec names it). */
function parser(s: OptionSpec<unknown>): ((v: string) => unknown) | undefined {
  if (s.kind === 'choice') return undefined;
  return (v) => {
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : v;
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
    const help = shown === undefined ? s.help : `${s.help} (default: ${shown})`;
    const parse = parser(s);
    if (parse) cmd.option(s.flag, help, parse);
    else cmd.option(s.flag, help);
  }
  return cmd;
}

function defaultText(s: OptionSpec<unknown>): string | undefined {
  return s.defaultHelp ?? (typeof s.default === 'function' || s.default === null ? undefined : String(s.default));
}

/** The spec as a markdown table (flag, default, meaning): the flag tables of docs/*.md are this text. */
export function specTable(spec: Spec): string {
  const cell = (x: string) => x.replace(/\|/g, '\\|');
  const rows = Object.values(spec).map((s) => `| \`${s.flag}\` | ${cell(s.kind === 'boolean' ? 'off' : defaultText(s) ?? '')} | ${cell(s.help)} |`);
  return ['| flag | default | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}
