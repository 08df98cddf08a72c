/**
 * `leaf export --format chat-jsonl`: the distillation set of a mining run — the originals (train.jsonl
 * records with a response) followed by the counterfactuals that distillation uses (verified !== false),
 * read by the same functions `leaf distill` reads them with (records.ts), in the same order — as
 * conversational records that TRL's trainers and LLaMA-Factory read:
 *
 *   { "messages": [{ "role": "system", … }?, { "role": "user", "content": prompt },
 *                  { "role": "assistant", "content": response }],
 *     "id", "kind": "original" | "counterfactual", "source_id", "removed": [{ start, end, text }, …] }
 *
 * `source_id` is the original's id (an original's own id); `removed` the character ranges cut from the
 * original prompt (empty for originals). A system turn is written only when asked for: leaf renders
 * conversations with the chat template's default system prompt, so an exported file without one
 * trains on exactly the tokens leaf distils on. Response-level counterfactuals (an unsupervised
 * response prefix) have no conversational form and are refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { fileDigest } from '../data/run-folder.js';
import { readJsonl, writeJsonlAtomic, type JsonObject } from '../data/jsonl.js';
import { readCounterfactualRecords, readTrainRecords, type DistillRecord } from './records.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRecord {
  messages: ChatMessage[];
  id: string;
  kind: 'original' | 'counterfactual';
  source_id: string;
  removed: unknown[];
}

export interface ExportOptions {
  mined: string;
  out: string;
  /** The originals (default: the mining run's input, from its run.json, checked against its digest). */
  data?: string;
  system?: string;
  strict?: boolean;
  onWarning?: (message: string) => void;
}

/** The mining run's input file, as its run.json records it (path and digest). */
function minedInput(mined: string): string {
  const f = join(mined, 'run.json');
  if (!existsSync(f)) throw new LeafError(`${f}: missing (is ${mined} a leaf mine output folder?); give the originals with --data`);
  const id = (JSON.parse(readFileSync(f, 'utf8')) as { identity?: { data?: unknown; data_sha256?: unknown } }).identity;
  if (typeof id?.data !== 'string') throw new LeafError(`${f}: no input file recorded; give the originals with --data`);
  if (!existsSync(id.data)) throw new LeafError(`${id.data}: the mined input is not there any more; give the originals with --data`);
  if (fileDigest(id.data) !== id.data_sha256) throw new LeafError(`${id.data}: changed since it was mined (sha256 differs from ${f}); give the originals with --data`);
  return id.data;
}

function chatRecord(r: DistillRecord, removed: unknown[], system: string | undefined): ChatRecord {
  if (r.responsePrefix !== '') throw new LeafError(`${r.where ?? r.id}: a response-level counterfactual (its response prefix is context, not trained on) has no conversational form; export instruction-level mining`);
  const messages: ChatMessage[] = [
    ...(system !== undefined ? [{ role: 'system' as const, content: system }] : []),
    { role: 'user', content: r.prompt },
    { role: 'assistant', content: r.response },
  ];
  return { messages, id: r.id, kind: r.kind, source_id: r.sourceId ?? r.id, removed };
}

/** Writes the export; returns how many originals and counterfactuals it holds. */
export function exportChat(o: ExportOptions): { originals: number; counterfactuals: number; unverified: number } {
  const strict = o.strict === true;
  const data = o.data ?? minedInput(o.mined);
  const cfFile = join(o.mined, 'counterfactuals.jsonl');
  if (!existsSync(cfFile)) throw new LeafError(`${cfFile}: missing (is ${o.mined} a leaf mine output folder?)`);
  const train = readTrainRecords(data, strict);
  const cf = readCounterfactualRecords(cfFile, strict);
  for (const i of [...train.issues, ...cf.issues]) o.onWarning?.(`skipped ${i.file}:${i.line}: ${i.reason}`);
  // The removed ranges, by counterfactual id (records.ts keeps only what distillation needs).
  const removed = new Map(readJsonl<JsonObject>(cfFile).records.map((r) => [String(r.id), Array.isArray(r.removed) ? r.removed : []]));
  const records = [
    ...train.records.map((r) => chatRecord(r, [], o.system)),
    ...cf.records.map((r) => chatRecord(r, removed.get(r.id) ?? [], o.system)),
  ];
  writeJsonlAtomic(o.out, records);
  return { originals: train.records.length, counterfactuals: cf.records.length, unverified: cf.unverified };
}
