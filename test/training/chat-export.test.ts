/**
 * leaf export --format chat-jsonl: the schema TRL / LLaMA-Factory read, and the round trip — distilling
 * in leaf over the exported file gives what `leaf distill` gives on the mined folder (same per-step
 * losses, same weights), since the export holds the same conversations in the same order.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileDigest } from '../../src/data/run-folder.js';
import { exportChat } from '../../src/training/chat-export.js';
import { distill, type DistillOptions } from '../../src/training/trainer.js';
import { CF_RECORDS, TRAIN_RECORDS, writeTinyModel } from '../helpers/tiny-distill.js';

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
const jsonl = (f: string, rs: object[]) => writeFileSync(f, rs.map((r) => JSON.stringify(r)).join('\n') + '\n');

describe('leaf export --format chat-jsonl', () => {
  let dir = '', teacher = '', student = '', mined = '', train = '';
  // Instruction-level counterfactuals of p2 and p6 (one rejected by verification, left out as distill leaves it out).
  const CFS = [
    CF_RECORDS[0]!,
    { ...CF_RECORDS[0]!, id: 'p6/instruction/gradient/span-0', source_id: 'p6', prompt: 'Compute 9.', original_prompt: TRAIN_RECORDS[5]!.prompt, response: TRAIN_RECORDS[5]!.response, removed: [{ text: ' 4 +', start: 7, end: 11 }] },
    CF_RECORDS[2]!,
  ];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-export-'));
    teacher = writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 3, std: 0.4 });
    student = writeTinyModel(join(dir, 'student'), { hidden: 16, layers: 1, seed: 4, std: 0.2 });
    train = join(dir, 'train.jsonl');
    jsonl(train, TRAIN_RECORDS);
    mined = join(dir, 'mined');
    mkdirSync(mined);
    jsonl(join(mined, 'counterfactuals.jsonl'), CFS);
    writeFileSync(join(mined, 'run.json'), JSON.stringify({ identity: { data: train, data_sha256: fileDigest(train) } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes originals then used counterfactuals as user/assistant conversations with id, kind, source_id, removed', () => {
    const out = join(dir, 'chat.jsonl');
    const n = exportChat({ mined, out });
    assert.deepEqual(n, { originals: TRAIN_RECORDS.length, counterfactuals: 2, unverified: 1 });
    const rs = lines(out);
    assert.equal(rs.length, TRAIN_RECORDS.length + 2);
    rs.forEach((r) => {
      assert.deepEqual(Object.keys(r).sort(), ['id', 'kind', 'messages', 'removed', 'source_id']);
      assert.deepEqual(r.messages.map((m: any) => m.role), ['user', 'assistant']);
      assert.ok(r.messages.every((m: any) => typeof m.content === 'string' && Object.keys(m).length === 2));
    });
    assert.deepEqual(rs[0], { messages: [{ role: 'user', content: TRAIN_RECORDS[0]!.prompt }, { role: 'assistant', content: TRAIN_RECORDS[0]!.response }], id: 'p1', kind: 'original', source_id: 'p1', removed: [] });
    const cf = rs[TRAIN_RECORDS.length + 1]!;
    assert.deepEqual([cf.id, cf.kind, cf.source_id, cf.messages[0].content, cf.messages[1].content], ['p6/instruction/gradient/span-0', 'counterfactual', 'p6', 'Compute 9.', TRAIN_RECORDS[5]!.response]);
    assert.deepEqual(cf.removed, [{ text: ' 4 +', start: 7, end: 11 }]);
    const sys = lines((exportChat({ mined, out: join(dir, 'sys.jsonl'), system: 'Be brief.' }), join(dir, 'sys.jsonl')));
    assert.deepEqual(sys[0]!.messages[0], { role: 'system', content: 'Be brief.' });
  });

  it('refuses response-level counterfactuals and a changed input, in one line', () => {
    const other = join(dir, 'mined-response');
    mkdirSync(other);
    jsonl(join(other, 'counterfactuals.jsonl'), [CF_RECORDS[1]!]);
    assert.throws(() => exportChat({ mined: other, data: train, out: join(dir, 'x.jsonl') }), /response-level counterfactual .* has no conversational form/);
    const moved = join(dir, 'mined-moved');
    mkdirSync(moved);
    jsonl(join(moved, 'counterfactuals.jsonl'), [CFS[0]!]);
    writeFileSync(join(moved, 'run.json'), JSON.stringify({ identity: { data: train, data_sha256: '0000' } }));
    assert.throws(() => exportChat({ mined: moved, out: join(dir, 'y.jsonl') }), /changed since it was mined/);
  });

  it('λ = 1: leaf distill over the exported file = leaf distill on train.jsonl + the mined counterfactuals (losses and weights)', async () => {
    const out = join(dir, 'chat-rt.jsonl');
    exportChat({ mined, out });
    const base = (o: string, extra: Partial<DistillOptions>): DistillOptions => ({
      student, teacher, out: join(dir, o), data: train, epochs: 2, batchSize: 3, microBatchSize: 1, lr: 5e-3, warmup: 1, seed: 11, cfWeight: 1, onWarning: () => {}, ...extra,
    });
    const a = await distill(base('from-mined', { counterfactuals: join(mined, 'counterfactuals.jsonl') }));
    const b = await distill(base('from-export', { data: out, counterfactuals: null }));
    assert.ok(a.steps >= 4, `${a.steps} steps`);
    const metrics = (o: string) => lines(join(dir, o, 'metrics.jsonl')).map((m) => [m.step, m.loss, m.kd_original, m.kd_counterfactual]);
    assert.deepEqual(metrics('from-export'), metrics('from-mined'));
    assert.ok(readFileSync(join(dir, 'from-export', 'model', 'model.safetensors')).equals(readFileSync(join(dir, 'from-mined', 'model', 'model.safetensors'))));
    assert.equal(b.steps, a.steps);
  });
});
