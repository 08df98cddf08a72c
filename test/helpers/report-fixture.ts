/**
 * A small mining output in the agreed formats (scores.jsonl, counterfactuals.jsonl, summary.json), the
 * benchmark file it came from (with ground-truth distractors), two tiny random Llama models with the
 * benchmark tokenizer (for attention maps) and a metrics.jsonl per fake run — everything the report reads.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonlAtomic } from '../../src/data/jsonl.js';
import { generateSplit, type ArithRecord } from '../../src/demo/arith/index.js';
import { createTinyLlama, writeArithTokenizer } from '../../src/demo/tiny-models.js';
import { writeFileAtomicSync } from '../../src/io/atomic.js';
import { saveModel } from '../../src/model/save.js';
import { Rng } from '../../src/util/rng.js';

export interface ReportFixture {
  mined: string;
  data: string;
  records: ArithRecord[];
  models: { before: string; after: string };
  runs: string[];
}

export function writeReportFixture(dir: string, n = 4): ReportFixture {
  mkdirSync(dir, { recursive: true });
  const records = generateSplit('train', n, 5, { minDistractors: 1, maxDistractors: 2 });
  const data = join(dir, 'train.jsonl');
  writeJsonlAtomic(data, records);
  const tokDir = join(dir, 'tok');
  const tok = writeArithTokenizer(tokDir);
  const models = { before: join(dir, 'before'), after: join(dir, 'after') };
  for (const [i, d] of [models.before, models.after].entries()) {
    const m = createTinyLlama(tok, { hidden: 16, layers: 2, heads: 2, kvHeads: 1, intermediate: 32 }, 11 + i);
    for (const [name, p] of m.params) if (name.includes('proj')) for (let j = 0; j < p.length; j++) p[j] *= 40; // sharper attention than init
    saveModel(m, d, { companionsFrom: tokDir });
  }
  const rng = new Rng(3);
  const scores: unknown[] = [], cfs: unknown[] = [];
  for (const r of records) {
    const enc = tok.encode(r.prompt, { addSpecialTokens: false });
    const tokens = enc.offsets.map(([a, b]) => ({ text: r.prompt.slice(a, b), start: a, end: b }));
    for (const method of ['gradient', 'random']) {
      const student = tokens.map(() => rng.next()), teacher = tokens.map(() => rng.next());
      // Low D on the first distractor's tokens, so the flagged tokens overlap the ground truth.
      const d0 = r.distractors[0];
      const diff = tokens.map((t) => (t.start >= d0.start && t.end <= d0.end ? 0.05 * rng.next() : 0.3 + 0.7 * rng.next()));
      const candidates = diff.flatMap((d, i) => (d <= 0.1 ? [i] : []));
      const a = candidates[0], b = candidates[candidates.length - 1] + 1;
      const span = { start: tokens[a].start, end: tokens[b - 1].end, text: r.prompt.slice(tokens[a].start, tokens[b - 1].end), tokens: [a, b] };
      scores.push({
        id: `${r.id}/instruction/${method}`, source_id: r.id, level: 'instruction', segment: null, method, text: r.prompt, tokens,
        student: method === 'random' ? null : student, teacher: method === 'random' ? null : teacher, diff, threshold: 0.1, candidates, spans: [span],
        loss: { student: 1.5, teacher: 0.2 },
      });
      cfs.push({
        id: `${r.id}/instruction/${method}/span-0`, source_id: r.id, level: 'instruction', method, pruning: 'span', segment: null,
        prompt: r.prompt.slice(0, span.start) + r.prompt.slice(span.end + 1), original_prompt: r.prompt, response_prefix: null, response: r.response,
        removed: [{ text: span.text, start: span.start, end: span.end + 1 }], verified: method === 'gradient',
        teacher: { response: r.response, answer: r.answer, correct: true }, student: { response: '', answer: method === 'gradient' ? r.answer : '0', correct: method === 'gradient' },
        answer: r.answer,
      });
    }
  }
  const mined = join(dir, 'mined');
  mkdirSync(mined, { recursive: true });
  writeJsonlAtomic(join(mined, 'scores.jsonl'), scores);
  writeJsonlAtomic(join(mined, 'counterfactuals.jsonl'), cfs);
  writeFileAtomicSync(join(mined, 'summary.json'), JSON.stringify({ complete: true, data, student: models.before, teacher: models.after }));
  const runs = ['kd-seed1', 'leaf-seed1'].map((name, k) => {
    const run = join(dir, 'runs', name);
    mkdirSync(run, { recursive: true });
    writeJsonlAtomic(join(run, 'metrics.jsonl'), Array.from({ length: 20 }, (_, s) => ({ step: s + 1, loss: 2 / (s + 1 + k), kd_original: 2 / (s + 2), val_loss: null })));
    return run;
  });
  return { mined, data, records, models, runs };
}
