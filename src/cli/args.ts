import { InvalidArgumentError } from 'commander';

/** Commander parser for an integer option ≥ min. */
export function intArg(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

/** Commander parser for a number option in [min, max]. */
export function numArg(name: string, min = -Infinity, max = Infinity): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    return n;
  };
}

/** One warning line on stderr, in the CLI's format. */
export function warnLine(message: string): void {
  process.stderr.write(`leaf: warning: ${message}\n`);
}
