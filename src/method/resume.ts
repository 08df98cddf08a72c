/**
 * Resuming a mining run. Problems are processed in input order and each problem's records are
 * appended whole — its scores records, then its counterfactual records — so the only problem that
 * can be incomplete is the last one in scores.jsonl. Its records are cut from the tails of
 * scores.jsonl and counterfactuals.jsonl (with any partially written last line) and it is mined
 * again; generations are cached, so nothing is decoded twice. The resumed files are then byte for
 * byte those of an uninterrupted run.
 */
import * as fs from 'node:fs';
import { LeafError } from '../errors.js';
import { readLines } from '../data/jsonl.js';

function sourceIdOf(text: string, file: string, line: number): string | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const id = v !== null && typeof v === 'object' ? (v as Record<string, unknown>).source_id : undefined;
  if (typeof id !== 'string') throw new LeafError(`${file}:${line}: not a mining record (no string source_id)`);
  return id;
}

interface LineInfo {
  sourceId: string | null;
  offset: number;
  line: number;
  complete: boolean;
}

function scan(file: string): LineInfo[] {
  if (!fs.existsSync(file)) return [];
  const out: LineInfo[] = [];
  let offset = 0;
  for (const raw of readLines(file)) {
    if (raw.badUtf8) throw new LeafError(`${file}:${raw.line}: invalid UTF-8 in a mining output`);
    if (raw.tooLong !== undefined) throw new LeafError(`${file}:${raw.line}: line too long (${raw.tooLong} bytes) in a mining output`);
    const id = raw.terminated || raw.text.trim() !== '' ? sourceIdOf(raw.text, file, raw.line) : null;
    const complete = raw.terminated && id !== null;
    if (raw.terminated && id === null && raw.text.trim() !== '') {
      // A complete line that does not parse is not a partial write: refuse to guess.
      throw new LeafError(`${file}:${raw.line}: invalid JSON in a complete line; cannot resume (remove the file to start over)`);
    }
    out.push({ sourceId: id, offset, line: raw.line, complete });
    offset += Buffer.byteLength(raw.text, 'utf8') + (raw.terminated ? 1 : 0);
  }
  return out;
}

function truncateFrom(file: string, lines: readonly LineInfo[], keep: (l: LineInfo) => boolean): void {
  let cut = lines.findIndex((l) => !keep(l));
  if (cut < 0) return;
  for (let i = cut; i < lines.length; i++) {
    if (keep(lines[i])) throw new LeafError(`${file}:${lines[i].line}: records of problems out of order; cannot resume`);
  }
  fs.truncateSync(file, lines[cut].offset);
}

/**
 * Prepares scores.jsonl and counterfactuals.jsonl for resuming: returns the ids of the problems
 * whose records are complete (every problem in scores.jsonl but the last), after cutting the last
 * one's records and any partial line from both files.
 */
export function prepareResume(scoresFile: string, cfFile: string): { done: Set<string>; redo: string | null } {
  const scores = scan(scoresFile);
  const complete = scores.filter((l) => l.complete);
  const redo = complete.length > 0 ? complete[complete.length - 1].sourceId : null;
  const done = new Set<string>();
  for (const l of complete) if (l.sourceId !== redo) done.add(l.sourceId!);
  truncateFrom(scoresFile, scores, (l) => l.complete && l.sourceId !== redo);
  const cfs = scan(cfFile);
  for (const l of cfs) {
    if (l.complete && l.sourceId !== redo && !done.has(l.sourceId!)) {
      throw new LeafError(`${cfFile}:${l.line}: a counterfactual of problem '${l.sourceId}', which has no scores record; cannot resume`);
    }
  }
  truncateFrom(cfFile, cfs, (l) => l.complete && l.sourceId !== redo);
  return { done, redo };
}
