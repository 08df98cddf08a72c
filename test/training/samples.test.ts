import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LeafTokenizer, type TokenizerFiles } from '../../src/tokenizer/index.js';
import { readTokenizerFiles } from '../../src/tokenizer/index.js';
import { parseCounterfactualRecord, parseTrainRecord, readCounterfactualRecords, readTrainRecords } from '../../src/training/records.js';
import { buildSamples, encodeRecord, type TokenizerSide } from '../../src/training/samples.js';
import { LLAMA_TOKENIZER, QWEN_TOKENIZER } from '../helpers/tiny-distill.js';

function side(files: TokenizerFiles): TokenizerSide {
  const t = new LeafTokenizer(files);
  return { tokenizer: t, endIds: new Set([...t.specialIds, ...(t.eosToken ? [t.eosToken.id] : [])]), eosId: t.eosToken?.id ?? null };
}
const qwen = side(readTokenizerFiles(QWEN_TOKENIZER));
const dec = (s: TokenizerSide, ids: readonly number[]) => s.tokenizer.decode([...ids]);
const rec = (prompt: string, response: string, responsePrefix = '') => ({ id: 'x', kind: 'original' as const, prompt, response, responsePrefix });

describe('records → training samples', () => {
  it('ChatML: the prompt is context; the response and <|im_end|> are supervised; the trailing newline is dropped', () => {
    const e = encodeRecord(qwen, rec('What is 2 + 3?', 'It is 5.'));
    assert.equal(dec(qwen, e.ids.slice(0, e.responseStart)), '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(dec(qwen, e.ids.slice(e.responseStart)), 'It is 5.<|im_end|>');
    assert.equal(e.ids[e.ids.length - 1], qwen.tokenizer.tokenToId('<|im_end|>'));
  });

  it('a response prefix is unsupervised context at the start of the assistant turn', () => {
    const e = encodeRecord(qwen, rec('Add 3 and 4.', ' so the sum is 7.', 'First, 3 + 4 = 7,'));
    const ctx = dec(qwen, e.ids.slice(0, e.responseStart));
    assert.ok(ctx.endsWith('<|im_start|>assistant\nFirst, 3 + 4 = 7,'), ctx);
    assert.equal(dec(qwen, e.ids.slice(e.responseStart)), ' so the sum is 7.<|im_end|>');
  });

  it('Llama 3 (the template trims contents, writes <|eot_id|>)', () => {
    const llama = side(readTokenizerFiles(LLAMA_TOKENIZER));
    const e = encodeRecord(llama, rec('  What is 2 + 3?  ', 'It is 5.\n'));
    assert.equal(dec(llama, e.ids.slice(e.responseStart)), 'It is 5.<|eot_id|>');
    const ctx = dec(llama, e.ids.slice(0, e.responseStart));
    assert.ok(ctx.endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n'), ctx);
  });

  it('no chat template: the plain format, with EOS appended and supervised', () => {
    const files = readTokenizerFiles(QWEN_TOKENIZER);
    const plain = side({ ...files, chatTemplates: { default: null, named: {} } });
    const e = encodeRecord(plain, rec('Q: 2+3?', 'A: 5'));
    assert.equal(dec(plain, e.ids.slice(0, e.responseStart)), 'Q: 2+3?\n\n');
    assert.equal(dec(plain, e.ids.slice(e.responseStart)), 'A: 5<|im_end|>');
  });

  it('truncation at --max-length is counted; a prompt that fills it is left out with its reason', () => {
    const long = rec('What is 2 + 3?', 'It is five, since two plus three makes five.');
    const full = encodeRecord(qwen, long);
    const L = full.responseStart + 3;
    const { samples, stats } = buildSamples([long, { ...rec('Tell me a number.', 'Seven.'), id: 'y', where: 'train.jsonl:9', prompt: 'x '.repeat(L) }], qwen, null, { maxLength: L, cfWeight: 1 });
    assert.equal(samples.length, 1);
    assert.equal(samples[0].ids.length, L);
    assert.deepEqual(samples[0].ids, full.ids.slice(0, L));
    assert.equal(stats.truncated, 1);
    assert.equal(stats.dropped, 1);
    assert.match(stats.issues[0], /^train\.jsonl:9: the prompt has \d+ tokens, at least --max-length \d+: nothing left to supervise$/);
    assert.throws(() => buildSamples([{ ...long, prompt: 'x '.repeat(L), where: 'f:2' }], qwen, null, { maxLength: L, cfWeight: 1, strict: true }), /^LeafError: f:2: the prompt has/);
  });

  it('a duplicated id and a sample longer than max_position_embeddings are left out, counted and listed (strict: an error)', () => {
    const a = { ...rec('What is 2 + 3?', 'It is 5.'), id: 'p1', where: 'train.jsonl:1' };
    const again = { ...rec('What is 7 + 1?', 'It is 8.'), id: 'p1', where: 'train.jsonl:4' };
    const long = { ...rec('x '.repeat(40), 'It is 5.'), id: 'p2', where: 'train.jsonl:5' };
    const cf = { ...rec('What is 2 3?', 'It is 5.'), id: 'p1', kind: 'counterfactual' as const, where: 'cf.jsonl:1' }; // another kind: kept
    const ctx = encodeRecord(qwen, a).ids.length + 5;
    const { samples, stats } = buildSamples([a, again, long, cf], qwen, null, { maxLength: 4096, cfWeight: 1, maxPositions: ctx });
    assert.deepEqual(samples.map((x) => `${x.kind}:${x.id}`), ['original:p1', 'counterfactual:p1']);
    assert.deepEqual(stats.duplicates, ['train.jsonl:4: id "p1" seen before (a duplicate original is left out)']);
    assert.match(stats.overContext[0], new RegExp(`^train\\.jsonl:5: \\d+ tokens, longer than max_position_embeddings ${ctx}$`));
    assert.equal(stats.overContext.length, 1);
    assert.equal(stats.dropped, 2);
    assert.deepEqual(stats.issues, []);
    assert.throws(() => buildSamples([a, again], qwen, null, { maxLength: 4096, cfWeight: 1, strict: true }), /^LeafError: train\.jsonl:4: id "p1" seen before/);
    assert.throws(() => buildSamples([long], qwen, null, { maxLength: 4096, cfWeight: 1, strict: true, maxPositions: ctx }), /longer than max_position_embeddings/);
  });

  it('weights: originals 1, counterfactuals λ; λ = 0 leaves counterfactuals out', () => {
    const cf = { ...rec('What is 2 3?', 'It is 5.'), kind: 'counterfactual' as const };
    const a = buildSamples([rec('What is 2 + 3?', 'It is 5.'), cf], qwen, null, { maxLength: 100, cfWeight: 0.25 });
    assert.deepEqual(a.samples.map((s) => [s.kind, s.weight]), [['original', 1], ['counterfactual', 0.25]]);
    const b = buildSamples([rec('What is 2 + 3?', 'It is 5.'), cf], qwen, null, { maxLength: 100, cfWeight: 0 });
    assert.equal(b.samples.length, 1);
  });

  it('a teacher whose template renders another system prompt gets its own ids, aligned on the same supervised tokens', () => {
    const files = readTokenizerFiles(QWEN_TOKENIZER);
    const other = files.chatTemplates.default!.replace('You are a helpful assistant.', 'You are a teacher who checks every step.');
    const teacher = side({ ...files, chatTemplates: { default: other, named: {} } });
    const { samples } = buildSamples([rec('What is 2 + 3?', 'It is 5.')], qwen, teacher, { maxLength: 100, cfWeight: 1 });
    const s = samples[0];
    assert.ok(s.teacherIds && s.teacherResponseStart !== undefined);
    assert.ok(s.teacherResponseStart! > s.responseStart);
    assert.deepEqual(s.teacherIds!.slice(s.teacherResponseStart), s.ids.slice(s.responseStart));
    const same = buildSamples([rec('What is 2 + 3?', 'It is 5.')], qwen, qwen, { maxLength: 100, cfWeight: 1 }).samples[0];
    assert.equal(same.teacherIds, undefined, 'an identical render shares the student ids');
  });
});

describe('distillation input files', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'leaf-records-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('malformed lines are reported with their line numbers, good ones kept', () => {
    const f = join(dir, 'train.jsonl');
    writeFileSync(f, [
      JSON.stringify({ id: 'a', prompt: 'p', response: 'r' }),
      '{"id": "b", "prompt": ',
      JSON.stringify({ id: 'c', prompt: 'p' }),
      '',
      JSON.stringify({ id: 'd', prompt: 7, response: 'r' }),
      JSON.stringify([1, 2]),
      JSON.stringify({ id: 7, prompt: 'p', response: 'r' }),
    ].join('\n') + '\n');
    const r = readTrainRecords(f, false);
    assert.deepEqual(r.records.map((x) => [x.id, x.where]), [['a', `${f}:1`], ['7', `${f}:7`]]);
    assert.deepEqual(r.issues.map((i) => i.line), [2, 3, 5, 6]);
    assert.match(r.issues[0].reason, /invalid JSON/);
    assert.match(r.issues[1].reason, /no 'response'/);
    assert.match(r.issues[2].reason, /field 'prompt' must be a string/);
    assert.throws(() => readTrainRecords(f, true), new RegExp(`^LeafError: ${f}:2: invalid JSON`));
  });

  it('counterfactuals: verified false left out and counted, null kept, prefix read', () => {
    const f = join(dir, 'cf.jsonl');
    const base = { source_id: 's', prompt: 'p', response: 'r', level: 'instruction' };
    writeFileSync(f, [
      JSON.stringify({ ...base, id: 'a', verified: true, response_prefix: null }),
      JSON.stringify({ ...base, id: 'b', verified: false }),
      JSON.stringify({ ...base, id: 'c', verified: null, response_prefix: 'so far' }),
      JSON.stringify({ ...base, id: 'd', verified: 'yes' }),
    ].join('\n') + '\n');
    const r = readCounterfactualRecords(f, false);
    assert.deepEqual(r.records.map((x) => [x.id, x.kind, x.responsePrefix]), [['a', 'counterfactual', ''], ['c', 'counterfactual', 'so far']]);
    assert.equal(r.unverified, 1);
    assert.deepEqual(r.issues.map((i) => [i.line, i.reason]), [[4, "field 'verified' must be true, false or null"]]);
    assert.equal(parseCounterfactualRecord({ ...base, id: 'e', verified: false }), null);
    assert.equal(parseTrainRecord({ id: 'x', prompt: 'p', response: 'r', answer: '1' }).kind, 'original');
  });
});
