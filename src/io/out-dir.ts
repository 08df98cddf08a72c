/** Creating a command's output folder, with a one-line error naming it when that cannot be done. */
import { mkdirSync, statSync } from 'node:fs';
import { LeafError } from '../errors.js';

export function makeOutDir(dir: string, flag = '--out'): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new LeafError(`${flag} ${dir}: cannot create the output folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!statSync(dir).isDirectory()) throw new LeafError(`${flag} ${dir}: not a folder`);
}
