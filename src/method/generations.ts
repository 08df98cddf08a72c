/**
 * Greedy answers of the teacher and the student under their chat templates, judged by the
 * evaluation checkers, cached in DIR/generations.jsonl (one record per answer, appended and
 * flushed as soon as a batch is decoded), so that a rerun or a resume never decodes the same
 * request twice; a complete run puts the file in input order (orderGenerationCache). A request is
 * (model, problem id, user turn, assistant prefix, max new tokens); at response level the prefix
 * is the (pruned) earlier response, the model continues it, and the judge reads prefix +
 * continuation. Each record also carries `asked`, a digest of the model's weights and of exactly
 * what it was given (token ids, end-of-sequence ids): a cached answer is used only by the same
 * model asked the same thing, so another checkpoint, chat template or rendering decodes anew.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { RecordLog } from '../data/record-log.js';
import type { CodePool } from '../eval/code/index.js';
import type { Problem } from '../eval/formats/index.js';
import { judgeResponse } from '../eval/judge-problem.js';
import { generate } from '../model/generate.js';
import { modelFingerprint } from '../model/fingerprint.js';
import type { Pretrained } from '../model/pretrained.js';
import { encodePrompt } from '../model/text-generation.js';
import { PLAIN_SEPARATOR } from '../tokenizer/index.js';

export type Role = 'student' | 'teacher';

/** One line of generations.jsonl. */
export interface GenerationRecord {
  model: Role;
  stage: 'select' | 'verify';
  source_id: string;
  prompt: string;
  prefix: string | null;
  max_new_tokens: number;
  response: string;
  finish: 'eos' | 'stop' | 'length' | 'given';
  answer: string | null;
  correct: boolean;
  detail: string;
  reason: string;
  /** Digest of the model's weights and of the token ids it was asked to continue (askedDigest). */
  asked: string;
}

export interface GenerationRequest {
  problem: Problem;
  stage: 'select' | 'verify';
  prompt: string;
  prefix: string | null;
}

export interface Answer {
  response: string;
  answer: string | null;
  correct: boolean;
}

export function cacheKey(model: Role, sourceId: string, prompt: string, prefix: string | null, maxNewTokens: number): string {
  return JSON.stringify([model, sourceId, prompt, prefix, maxNewTokens]);
}

/**
 * What a model is asked to continue for a request: the user turn (+ the assistant prefix) rendered
 * exactly as the scoring (units.ts) and the distillation render the conversation up to the
 * assistant's text, its token ids, and the ids of the assistant prefix's tokens (to decode the
 * continuation in context; in the plain format they start with the separator's).
 *  - With a chat template: the template with the generation prompt, then the prefix.
 *  - Without one (the plain format): the conversation renders as prompt + PLAIN_SEPARATOR +
 *    response, so the model is asked prompt + PLAIN_SEPARATOR + prefix — not the bare prompt —
 *    with the tokenizer's leading special tokens (a trailing one, which the plain conversation
 *    carries after the response, is left off: the answer follows).
 */
export function answerPrompt(p: Pretrained, prompt: string, prefix: string | null): { text: string; ids: number[]; prefixIds: number[] } {
  const tok = p.tokenizer;
  const messages = [{ role: 'user' as const, content: prompt }];
  if (tok.hasChatTemplate && (prefix === null || prefix === '')) {
    const r = tok.renderChat(messages, { addGenerationPrompt: true });
    return { text: r.text, ids: encodePrompt(p, prompt, true), prefixIds: [] };
  }
  const plain = !tok.hasChatTemplate;
  const enc = tok.encodePromptWithAssistantPrefix(messages, (plain ? PLAIN_SEPARATOR : '') + (prefix ?? ''));
  const ids = plain && tok.specialSuffixIds.length > 0 ? enc.ids.slice(0, enc.ids.length - tok.specialSuffixIds.length) : enc.ids;
  const pre = enc.prefixTokens.overlapping;
  const prefixIds = prefix === null || prefix === '' ? [] : ids.slice(pre.start, Math.min(pre.end, ids.length));
  return { text: enc.text, ids, prefixIds };
}

/**
 * The text of new tokens that continue `prefixIds`: decoded after the prefix and cut after the
 * prefix's own text, so that a space the tokenizer only writes between tokens is kept.
 */
export function decodeContinuation(p: Pretrained, prefixIds: readonly number[], tokens: readonly number[]): string {
  const alone = p.tokenizer.decode(tokens, { skipSpecialTokens: true });
  if (prefixIds.length === 0) return alone;
  const pre = p.tokenizer.decode(prefixIds, { skipSpecialTokens: true });
  const both = p.tokenizer.decode([...prefixIds, ...tokens], { skipSpecialTokens: true });
  return both.startsWith(pre) ? both.slice(pre.length) : alone;
}

/** What an answer depends on beyond the request: the model (its weights' fingerprint) and the exact input ids and EOS ids. */
export function askedDigest(fingerprint: string, ids: readonly number[], eosTokenIds: readonly number[]): string {
  return createHash('sha256').update(JSON.stringify([fingerprint, ids, eosTokenIds])).digest('hex').slice(0, 16);
}

export class GenerationCache {
  /** Every cached record by request (several when other models or renderings answered the same request). */
  private readonly byKey = new Map<string, GenerationRecord[]>();
  /** Requests looked up in this run: the record valid for this run's model and input, or null. */
  private readonly valid = new Map<string, GenerationRecord | null>();
  private readonly fingerprints = new Map<Role, string>();
  /** Answers decoded by this process (not found in the cache). */
  generated = 0;
  /** Requests this run looked up whose cached answers all came from another model or another input (decoded anew). */
  stale = 0;

  /**
   * `models`: the models of this run by role. A cached record is used for a request only when its `asked`
   * digest matches what that model is asked now; the check is made when a request is first looked up, so
   * records no request of this run needs cost nothing. `fingerprints`: the models' modelFingerprint when the
   * caller has them already (computed here otherwise, once per role).
   */
  constructor(
    private readonly log: RecordLog<GenerationRecord>, readonly maxNewTokens: number, private readonly models: Partial<Record<Role, Pretrained>>,
    fingerprints: Partial<Record<Role, string>> = {},
  ) {
    for (const [role, f] of Object.entries(fingerprints) as [Role, string][]) this.fingerprints.set(role, f);
    for (const r of log.existing) {
      const k = cacheKey(r.model, r.source_id, r.prompt, r.prefix, r.max_new_tokens);
      const list = this.byKey.get(k);
      if (list) list.push(r);
      else this.byKey.set(k, [r]);
    }
  }

  private digest(role: Role, p: Pretrained, ids: readonly number[]): string {
    let f = this.fingerprints.get(role);
    if (f === undefined) this.fingerprints.set(role, (f = modelFingerprint(p.model)));
    return askedDigest(f, ids, p.eosTokenIds);
  }

  private model(role: Role): Pretrained {
    const p = this.models[role];
    if (!p) throw new LeafError(`internal: the generation cache has no ${role} model`);
    return p;
  }

  private lookup(model: Role, sourceId: string, prompt: string, prefix: string | null): GenerationRecord | undefined {
    const k = cacheKey(model, sourceId, prompt, prefix, this.maxNewTokens);
    const known = this.valid.get(k);
    if (known !== undefined) return known ?? undefined;
    const candidates = this.byKey.get(k) ?? [];
    let found: GenerationRecord | null = null;
    if (candidates.length > 0) {
      const p = this.model(model);
      const d = this.digest(model, p, answerPrompt(p, prompt, prefix).ids);
      found = candidates.find((r) => r.asked === d) ?? null;
      if (found === null) this.stale++;
    }
    this.valid.set(k, found);
    return found ?? undefined;
  }

  get(model: Role, sourceId: string, prompt: string, prefix: string | null): GenerationRecord | undefined {
    return this.lookup(model, sourceId, prompt, prefix);
  }

  /**
   * Makes sure every request has a cached answer of `p` (role `model`): the missing ones are
   * decoded greedily in batches of `batchSize` (in request order), judged, and appended.
   */
  async ensure(model: Role, p: Pretrained, requests: readonly GenerationRequest[], batchSize: number, pool: CodePool | null): Promise<void> {
    if (this.models[model] !== p) throw new LeafError(`internal: the generation cache was opened for another ${model} model`);
    const seen = new Set<string>();
    const missing = requests.filter((r) => {
      const k = cacheKey(model, r.problem.id, r.prompt, r.prefix, this.maxNewTokens);
      if (seen.has(k) || this.lookup(model, r.problem.id, r.prompt, r.prefix)) return false;
      seen.add(k);
      return true;
    });
    for (let i = 0; i < missing.length; i += batchSize) {
      const batch = missing.slice(i, i + batchSize);
      const asks = batch.map((r) => answerPrompt(p, r.prompt, r.prefix));
      const res = generate(p.model, asks.map((a) => a.ids), { maxNewTokens: this.maxNewTokens, temperature: 0, eosTokenIds: p.eosTokenIds });
      const texts = res.tokens.map((t, j) => decodeContinuation(p, asks[j].prefixIds, t));
      const verdicts = await Promise.all(batch.map((r, j) => judgeResponse(r.problem, (r.prefix ?? '') + texts[j], pool)));
      batch.forEach((r, j) => {
        const v = verdicts[j];
        const rec: GenerationRecord = {
          model, stage: r.stage, source_id: r.problem.id, prompt: r.prompt, prefix: r.prefix, max_new_tokens: this.maxNewTokens,
          response: texts[j], finish: res.finish[j], answer: r.problem.task === 'math' ? v.extracted : null,
          correct: v.correct, detail: v.detail, reason: v.reason, asked: this.digest(model, p, asks[j].ids),
        };
        this.log.append(rec);
        this.valid.set(cacheKey(model, r.problem.id, r.prompt, r.prefix, this.maxNewTokens), rec);
        this.generated++;
      });
    }
  }

  /** The cached answer of a request (after ensure). */
  answer(model: Role, problem: Problem, prompt: string, prefix: string | null): Answer {
    const r = this.get(model, problem.id, prompt, prefix);
    if (!r) throw new LeafError(`internal: no ${model} answer cached for ${problem.id}`);
    return { response: r.response, answer: r.answer, correct: r.correct };
  }
}

/** Judges a given (not generated) teacher answer. */
export async function judgeGiven(problem: Problem, response: string, pool: CodePool | null): Promise<Answer> {
  const v = await judgeResponse(problem, response, pool);
  return { response, answer: problem.task === 'math' ? v.extracted : null, correct: v.correct };
}

/**
 * Puts a complete generation cache in a canonical order — the problems in `order` (input order),
 * each with its answers in the order they were asked (selection: student, teacher; then
 * verification), then the records of other problems as they were — rewritten atomically when
 * that changes anything. The order in which answers are appended follows the decoding batches,
 * which --limit and interruptions change; after this the file does not depend on them (given the
 * same answers). Returns whether the file was rewritten.
 */
export function orderGenerationCache(file: string, order: ReadonlyMap<string, number>): boolean {
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  if (text === '' || !text.endsWith('\n')) return false;
  const lines = text.slice(0, -1).split('\n');
  const keyed: Array<{ line: string; rank: number; at: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    let id: unknown;
    try {
      id = (JSON.parse(lines[i]) as { source_id?: unknown }).source_id;
    } catch {
      return false; // not ours to reorder
    }
    const rank = typeof id === 'string' ? order.get(id) : undefined;
    keyed.push({ line: lines[i], rank: rank ?? order.size, at: i });
  }
  keyed.sort((a, b) => a.rank - b.rank || a.at - b.at);
  if (keyed.every((k, i) => k.at === i)) return false;
  writeFileAtomicSync(file, keyed.map((k) => k.line + '\n').join(''));
  return true;
}
