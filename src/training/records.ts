/**
 * The distillation inputs, as agreed with the mining stage:
 *
 * - train.jsonl (leaf's mining format): `{ id, prompt, response, … }` — the user turn is `prompt`, the
 *   supervised assistant turn is `response` (a record without a response cannot be distilled on and is
 *   reported as a skipped line); or the conversational records `leaf export` writes (`messages`, `kind`);
 * - counterfactuals.jsonl (written by `leaf mine`): `{ id, source_id, prompt, response_prefix, response,
 *   verified, level, … }` — the user turn is the (pruned) `prompt`, the assistant turn is
 *   `response_prefix` (unsupervised context, null/empty at instruction level) followed by `response`
 *   (supervised). Records with `verified: false` are left out (counted, not errors).
 *
 * Malformed lines are skipped with `FILE:LINE: reason` (or stop the run in strict mode), never dropped
 * silently; see data/jsonl.ts.
 */
import { InvalidRecord, readJsonl, type JsonlIssue, type JsonObject } from '../data/jsonl.js';

/** One training conversation before tokenization. */
export interface DistillRecord {
  id: string;
  kind: 'original' | 'counterfactual';
  /** The user turn. */
  prompt: string;
  /** Unsupervised start of the assistant turn ('' when none). */
  responsePrefix: string;
  /** The supervised assistant text. */
  response: string;
  /** Where it came from, for messages (`file:line`), when read from a file. */
  where?: string;
  /** A counterfactual's `source_id` (the id of the original it was mined from), when it has one. */
  sourceId?: string;
}

/** What reading one input file produced. */
export interface RecordsRead {
  records: DistillRecord[];
  issues: JsonlIssue[];
  /** Counterfactuals with verified === false (left out by design). */
  unverified: number;
  lines: number;
}

function reqText(r: JsonObject, key: string, allowEmpty = false): string {
  const v = r[key];
  if (typeof v !== 'string') throw new InvalidRecord(`field '${key}' must be a string${v === undefined ? ' (missing)' : ''}`);
  if (!allowEmpty && v.trim() === '') throw new InvalidRecord(`field '${key}' is empty`);
  return v;
}

function reqId(r: JsonObject): string {
  const v = r.id;
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new InvalidRecord("field 'id' must be a non-empty string or a number");
}

/**
 * A conversational record (`leaf export --format chat-jsonl`): `messages` = user then assistant turn;
 * `kind` (original / counterfactual) and `source_id` kept, so a counterfactual keeps its weight λ.
 */
function parseChatRecord(r: JsonObject, id: string): DistillRecord {
  const m = r.messages;
  const ok = Array.isArray(m) && m.length === 2 && m.every((x) => x && typeof x === 'object' && typeof (x as JsonObject).content === 'string');
  const turns = ok ? (m as JsonObject[]) : [];
  if (!ok || turns[0]!.role !== 'user' || turns[1]!.role !== 'assistant') {
    throw new InvalidRecord("field 'messages' must be [{role: 'user', content}, {role: 'assistant', content}] (leaf renders the chat template's own system prompt; a system turn is not read)");
  }
  const kind = r.kind === 'counterfactual' ? 'counterfactual' : 'original';
  const src = r.source_id;
  const sourceId = typeof src === 'string' && src !== '' ? src : undefined;
  return { id, kind, prompt: turns[0]!.content as string, responsePrefix: '', response: turns[1]!.content as string, ...(kind === 'counterfactual' && sourceId ? { sourceId } : {}) };
}

/** Validates one train.jsonl record (prompt + response, or a conversational `messages` record). */
export function parseTrainRecord(r: JsonObject): DistillRecord {
  const id = reqId(r);
  if (r.messages !== undefined) return parseChatRecord(r, id);
  const prompt = reqText(r, 'prompt');
  if (r.response === undefined || r.response === null) throw new InvalidRecord("no 'response': distillation needs the reference response to train on");
  const response = reqText(r, 'response');
  return { id, kind: 'original', prompt, responsePrefix: '', response };
}

/** Validates one counterfactuals.jsonl record; returns null for verified === false. */
export function parseCounterfactualRecord(r: JsonObject): DistillRecord | null {
  const id = reqId(r);
  const v = r.verified;
  if (v !== undefined && v !== null && typeof v !== 'boolean') throw new InvalidRecord("field 'verified' must be true, false or null");
  const prompt = reqText(r, 'prompt');
  const response = reqText(r, 'response');
  let responsePrefix = '';
  if (r.response_prefix !== undefined && r.response_prefix !== null) responsePrefix = reqText(r, 'response_prefix', true);
  if (v === false) return null;
  // source_id is only used to pair a counterfactual with its original (pairCounterfactuals); a missing or
  // unusable one is not an error here — the paired trainer counts and reports it.
  const src = r.source_id;
  const sourceId = typeof src === 'string' && src !== '' ? src : typeof src === 'number' && Number.isFinite(src) ? String(src) : undefined;
  return { id, kind: 'counterfactual', prompt, responsePrefix, response, ...(sourceId !== undefined ? { sourceId } : {}) };
}

/** Reads train.jsonl-format records (also used for --eval-data). */
export function readTrainRecords(file: string, strict: boolean): RecordsRead {
  const res = readJsonl(file, { strict, validate: (r) => parseTrainRecord(r) });
  res.records.forEach((rec, i) => (rec.where = `${file}:${res.lineNumbers[i]}`));
  return { records: res.records, issues: res.issues, unverified: 0, lines: res.lines };
}

/** Reads counterfactuals.jsonl records, leaving out those with verified === false. */
export function readCounterfactualRecords(file: string, strict: boolean): RecordsRead {
  const res = readJsonl(file, { strict, validate: (r) => parseCounterfactualRecord(r) });
  const records: DistillRecord[] = [];
  let unverified = 0;
  res.records.forEach((rec, i) => {
    if (rec === null) unverified++;
    else records.push({ ...rec, where: `${file}:${res.lineNumbers[i]}` });
  });
  return { records, issues: res.issues, unverified, lines: res.lines };
}
