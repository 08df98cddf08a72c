/**
 * Stamps: "does this output already hold what a run with these inputs would make?" for outputs that are
 * reused whole rather than resumed (RunFolder's run.json is for those): a finished demo distillation run
 * (runs/<run>/demo-result.json), a trained demo model (leaf-recipe.json).
 *
 *   removeStamp(file);                               // before (re)writing the output
 *   …                                                // write the output
 *   writeStamp(file, key, payload);                  // after the output is complete; atomic
 *   const s = readStamp(file, key, { requires });    // { payload } when the key matches, else null
 *
 * The file is `{ "stamp": STAMP_FORMAT, "key": …, "payload": … }`. The key is any JSON value (settings,
 * input digests, a code digest), compared canonically: object fields in any order, JSON's own rules for
 * the rest (undefined fields dropped); or, where a short key is wanted, its keyDigest. A stamp is trusted only when its key matches and the files it
 * vouches for (`requires`, relative to the stamp's folder) exist; a missing, torn or unreadable stamp, or
 * one of another format, matches nothing, so the output is made again — it is never an error.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';

/** The stamp file's format: files without it (or with another) match no key. */
export const STAMP_FORMAT = 1;

/** `value` as JSON with every object's fields sorted: equal for values that differ only in field order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v) ?? 'undefined';
}

/** sha256 (hex) of `value`'s canonical JSON: a compact key for a stamp, equal exactly when canonicalJson is. */
export function keyDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** Writes the stamp of a complete output: `key` and an optional `payload` (atomically; the folder must exist). */
export function writeStamp(file: string, key: unknown, payload?: unknown): void {
  writeFileAtomicSync(file, JSON.stringify({ stamp: STAMP_FORMAT, key, payload }, null, 2) + '\n');
}

/** Removes a stamp (if any) before its output is rewritten, so that a run killed half-way leaves no stamp vouching for a mix. */
export function removeStamp(file: string): void {
  rmSync(file, { force: true });
}

export interface ReadStampOptions<P> {
  /** Files the stamp vouches for (relative to its folder), or a function of the payload naming them: all must exist. */
  requires?: readonly string[] | ((payload: P) => readonly string[]);
}

/** The stamp in `file` when its key equals `key` canonically and its required files exist; null otherwise (never throws for a bad file). */
export function readStamp<P = unknown>(file: string, key: unknown, o: ReadStampOptions<P> = {}): { payload: P } | null {
  let saved: { stamp?: unknown; key?: unknown; payload?: P };
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as typeof saved;
  } catch {
    return null; // missing, torn or unreadable: make the output again
  }
  if (saved === null || typeof saved !== 'object' || saved.stamp !== STAMP_FORMAT) return null;
  if (canonicalJson(saved.key) !== canonicalJson(key)) return null;
  const payload = saved.payload as P;
  let required: readonly string[];
  try {
    required = typeof o.requires === 'function' ? o.requires(payload) : o.requires ?? [];
  } catch {
    return null; // a payload without what the caller reads from it
  }
  const dir = dirname(file);
  return required.every((f) => typeof f === 'string' && existsSync(resolve(dir, f))) ? { payload } : null;
}
