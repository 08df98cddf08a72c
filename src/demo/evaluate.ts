/**
 * Accuracy of a model on benchmark records: greedy decoding of the prompt (the chat user turn, as in
 * mining and distillation), decoded text re-spaced with arithDetokenize, judged by the math judge.
 * Also counts how often a wrong answer folded a distractor's number into the computation.
 */
import type { Pretrained } from '../model/pretrained.js';
import { generate } from '../model/generate.js';
import { judgeMath } from '../eval/math/index.js';
import { arithDetokenize } from './arith/detokenize.js';
import type { ArithRecord } from './arith/dataset.js';

export interface ArithEval {
  n: number;
  correct: number;
  accuracy: number;
  /** Wrong answers whose equations use a distractor's number where the reference uses another operand. */
  folded: number;
  responses: string[];
  verdicts: boolean[];
}

const STEP = /(\d+) ([+-]) (\d+) =/g;

/** Whether `response` uses one of the distractors' numbers as an operand where the reference solution does not. */
export function foldsDistractor(response: string, record: ArithRecord): boolean {
  const numbers = new Set(record.distractors.flatMap((d) => d.text.match(/\d+/g) ?? []));
  if (numbers.size === 0) return false;
  const ref = [...record.response.matchAll(STEP)].map((m) => m[3]);
  return [...response.matchAll(STEP)].some((m, i) => numbers.has(m[3]) && ref[i] !== m[3]);
}

export function evaluateArith(model: Pretrained, records: readonly ArithRecord[], which: 'prompt' | 'clean' = 'prompt', batchSize = 64, maxNewTokens = 48): ArithEval {
  const tok = model.tokenizer;
  const responses: string[] = [];
  for (let i = 0; i < records.length; i += batchSize) {
    const batch = records.slice(i, i + batchSize);
    const prompts = batch.map((r) => tok.encodeChat([{ role: 'user', content: which === 'prompt' ? r.prompt : r.metadata.clean_prompt }], { addGenerationPrompt: true }).ids);
    const out = generate(model.model, prompts, { maxNewTokens, eosTokenIds: model.eosTokenIds });
    for (const t of out.tokens) responses.push(arithDetokenize(tok.decode(t, { skipSpecialTokens: true })));
  }
  const verdicts = responses.map((r, i) => judgeMath(r, records[i].answer).correct);
  const correct = verdicts.filter(Boolean).length;
  const folded = which === 'prompt' ? responses.filter((r, i) => !verdicts[i] && foldsDistractor(r, records[i])).length : 0;
  return { n: records.length, correct, accuracy: records.length ? correct / records.length : 0, folded, responses, verdicts };
}
