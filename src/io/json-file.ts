/** Reading a JSON file that leaf wrote (state, settings), with a one-line error naming it when it is damaged. */
import { readFileSync } from 'node:fs';
import { LeafError } from '../errors.js';

export function readJsonFile<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LeafError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LeafError(`${file}: damaged, not valid JSON (${(e as Error).message})`);
  }
}
