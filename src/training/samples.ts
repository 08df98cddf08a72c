/**
 * Records → tokenized training samples.
 *
 * A record is rendered with the model's chat template as a two-turn conversation: user = prompt,
 * assistant = response_prefix + response (add_generation_prompt false; the plain format when the
 * tokenizer has no template). The response is located through the character span of the assistant
 * content (no template offsets are hard-coded):
 *
 * - responseStart = the first token that holds a character of the response (a token straddling the
 *   prefix/response boundary is supervised);
 * - supervised tokens = the response's tokens plus what the template writes after the assistant
 *   content up to and including its first end-of-turn token (a special token or an EOS id, e.g.
 *   `<|im_end|>`, `<|eot_id|>`); the tokens after it (a trailing newline) are dropped. With no
 *   end-of-turn token after the content, the template's trailing tokens are all supervised; when
 *   nothing at all follows the content (the plain format), the tokenizer's EOS is appended, if it has one;
 * - the prompt and the response prefix are context only.
 *
 * `maxLength` truncates on the right (as the reference's cutoff_len); a sample whose context alone
 * reaches maxLength has nothing left to supervise and is dropped. Both are counted and reported.
 *
 * The teacher renders the record with its own chat template (its system prompt may differ); its
 * supervised tokens must be the student's, position for position, else the record is rejected.
 */
import { LeafError } from '../errors.js';
import type { Pretrained } from '../model/pretrained.js';
import type { LeafTokenizer } from '../tokenizer/index.js';
import type { TokenizedSample } from './batch.js';
import type { DistillRecord } from './records.js';

/** A tokenizer and the ids that end an assistant turn. */
export interface TokenizerSide {
  tokenizer: LeafTokenizer;
  /** Special tokens and EOS ids: the first one after the assistant content closes the supervised region. */
  endIds: ReadonlySet<number>;
  /** Appended (supervised) in the plain format, when there is no chat template. */
  eosId: number | null;
}

export function tokenizerSide(p: Pretrained): TokenizerSide {
  const t = p.tokenizer;
  const endIds = new Set<number>([...t.specialIds, ...p.eosTokenIds]);
  if (t.eosToken) endIds.add(t.eosToken.id);
  return { tokenizer: t, endIds, eosId: t.eosToken?.id ?? p.eosTokenIds[0] ?? null };
}

/** One training sample: student ids, and the teacher's own ids when its template renders differently. */
export interface TrainSample extends TokenizedSample {
  id: string;
  kind: 'original' | 'counterfactual';
  /** The teacher's input when it differs from `ids` (other chat template); same supervised tokens. */
  teacherIds?: number[];
  teacherResponseStart?: number;
  truncated: boolean;
  /** A counterfactual's source_id (see DistillRecord), used by pairCounterfactuals. */
  sourceId?: string;
}

export interface SampleStats {
  records: number;
  samples: number;
  originals: number;
  counterfactuals: number;
  /** Samples cut at maxLength (still trained on). */
  truncated: number;
  /** Records left out (too long for any supervision, template problems), each in `issues`. */
  dropped: number;
  /** `where: reason` per dropped record. */
  issues: string[];
  /** Records left out because an earlier record of the same kind has their id (`where: id`), as eval and mine do. */
  duplicates: string[];
  /** Samples left out because they are longer than the model's max_position_embeddings (`where: N tokens`). */
  overContext: string[];
  /** Supervised (response) tokens over all samples. */
  responseTokens: number;
  /** Input tokens over all samples. */
  tokens: number;
}

/** Encoded conversation: ids up to the end-of-turn token, and where supervision starts. */
export interface EncodedTurn {
  ids: number[];
  responseStart: number;
}

class Rejected extends Error {}

/** Renders and encodes one record; throws Rejected (with a reason) when the response cannot be located. */
export function encodeRecord(side: TokenizerSide, rec: Pick<DistillRecord, 'prompt' | 'responsePrefix' | 'response'>): EncodedTurn {
  const tok = side.tokenizer;
  const full = rec.responsePrefix + rec.response;
  const enc = tok.encodeChat([{ role: 'user', content: rec.prompt }, { role: 'assistant', content: full }], { addGenerationPrompt: false });
  const [a, b] = enc.contentSpans[1];
  const content = enc.text.slice(a, b);
  let respChar: number;
  if (content === full) respChar = a + rec.responsePrefix.length;
  else if (content === full.trim()) {
    const lead = full.length - full.trimStart().length;
    respChar = a + Math.max(0, rec.responsePrefix.length - lead);
  } else {
    throw new Rejected('the chat template rewrites the assistant content, so the response cannot be located in it');
  }
  const off = enc.offsets;
  const n = enc.ids.length;
  let start = 0;
  while (start < n && !(off[start][1] > respChar || off[start][0] >= respChar)) start++;
  // Post-processor tokens after the text have empty spans at text.length; content tokens end ≤ b.
  let contentEnd = start;
  while (contentEnd < n && off[contentEnd][0] < b) contentEnd++;
  let end = -1;
  for (let j = contentEnd; j < n; j++) {
    if (side.endIds.has(enc.ids[j])) {
      end = j + 1;
      break;
    }
  }
  const ids = enc.ids.slice(0, end >= 0 ? end : n);
  if (end < 0 && contentEnd === n && side.eosId !== null) ids.push(side.eosId);
  if (start < 1) throw new Rejected('the response starts at the first token (nothing to condition on)');
  if (start >= ids.length) throw new Rejected('the response has no tokens');
  return { ids, responseStart: start };
}

export interface BuildSamplesOptions {
  /** Right truncation of every sample (tokens). */
  maxLength: number;
  /** Weight of a counterfactual sample (λ); originals weigh 1. λ = 0 leaves counterfactuals out. */
  cfWeight: number;
  /** Stop at the first rejected record instead of reporting it. */
  strict?: boolean;
  /** The models' context (the smallest max_position_embeddings): longer samples are left out. */
  maxPositions?: number;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Tokenizes records for the student (and the teacher, when given). */
export function buildSamples(
  records: readonly DistillRecord[], student: TokenizerSide, teacher: TokenizerSide | null, options: BuildSamplesOptions,
): { samples: TrainSample[]; stats: SampleStats } {
  const L = options.maxLength;
  if (!(Number.isInteger(L) && L >= 2)) throw new LeafError(`max length must be an integer ≥ 2, got ${L}`);
  const stats: SampleStats = { records: records.length, samples: 0, originals: 0, counterfactuals: 0, truncated: 0, dropped: 0, issues: [], duplicates: [], overContext: [], responseTokens: 0, tokens: 0 };
  const samples: TrainSample[] = [];
  const where = (rec: DistillRecord) => rec.where ?? `record ${rec.id}`;
  const reject = (rec: DistillRecord, reason: string, list = stats.issues) => {
    const msg = `${where(rec)}: ${reason}`;
    if (options.strict) throw new LeafError(msg);
    stats.dropped++;
    list.push(msg);
  };
  const seen = new Set<string>();
  for (const rec of records) {
    if (rec.kind === 'counterfactual' && options.cfWeight === 0) continue;
    const key = `${rec.kind}\u0000${rec.id}`;
    if (seen.has(key)) {
      reject(rec, `id ${JSON.stringify(rec.id)} seen before (a duplicate ${rec.kind} is left out)`, stats.duplicates);
      continue;
    }
    seen.add(key);
    let s: EncodedTurn, t: EncodedTurn | null = null;
    try {
      s = encodeRecord(student, rec);
      if (teacher) t = encodeRecord(teacher, rec);
    } catch (e) {
      // Rejected: the response cannot be located; LeafError: this record cannot be rendered or encoded.
      if (e instanceof Rejected || e instanceof LeafError) {
        reject(rec, e.message);
        continue;
      }
      throw e;
    }
    if (t && !sameIds(s.ids.slice(s.responseStart), t.ids.slice(t.responseStart))) {
      reject(rec, 'the teacher and student chat templates tokenise the response differently');
      continue;
    }
    let ids = s.ids;
    let truncated = false;
    if (ids.length > L) {
      if (s.responseStart >= L) {
        reject(rec, `the prompt has ${s.responseStart} tokens, at least --max-length ${L}: nothing left to supervise`);
        continue;
      }
      ids = ids.slice(0, L);
      truncated = true;
      stats.truncated++;
    }
    if (options.maxPositions !== undefined && ids.length > options.maxPositions) {
      reject(rec, `${ids.length} tokens, longer than max_position_embeddings ${options.maxPositions}`, stats.overContext);
      if (truncated) stats.truncated--;
      continue;
    }
    const sample: TrainSample = {
      id: rec.id, kind: rec.kind, ids, responseStart: s.responseStart,
      weight: rec.kind === 'counterfactual' ? options.cfWeight : 1, truncated,
      ...(rec.sourceId !== undefined ? { sourceId: rec.sourceId } : {}),
    };
    if (t) {
      const supervised = ids.length - s.responseStart;
      const tIds = t.ids.slice(0, t.responseStart + supervised);
      if (!(t.responseStart === s.responseStart && sameIds(tIds, ids))) {
        sample.teacherIds = tIds;
        sample.teacherResponseStart = t.responseStart;
      }
    }
    samples.push(sample);
    stats.samples++;
    if (rec.kind === 'original') stats.originals++;
    else stats.counterfactuals++;
    stats.responseTokens += ids.length - s.responseStart;
    stats.tokens += ids.length;
  }
  return { samples, stats };
}
