import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { distill } from '../../src/training/trainer.js';
import { TRAIN_RECORDS, writeTinyModel } from '../helpers/tiny-distill.js';

const dir = mkdtempSync(join(tmpdir(), 'leaf-distill-left-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('distill leaves out duplicated ids and samples longer than max_position_embeddings: counted, one warning each, listed in summary.json', async () => {
  const student = writeTinyModel(join(dir, 'student'));
  const cfgFile = join(student, 'config.json');
  writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), max_position_embeddings: 100 }));
  const data = [...TRAIN_RECORDS, { ...TRAIN_RECORDS[0], prompt: 'What is 3 + 2?' }, { id: 'long', prompt: 'Add these: ' + '1 + '.repeat(80) + '1.', response: 'It is 81.' }];
  const warnings: string[] = [];
  const s = await distill({ student, data, loss: 'ce', out: join(dir, 'out'), epochs: 1, batchSize: 4, microBatchSize: 2, onWarning: (w) => warnings.push(w) });
  assert.equal(s.data.samples.samples, TRAIN_RECORDS.length);
  assert.deepEqual(s.data.samples.duplicates, ['data[6]: id "p1" seen before (a duplicate original is left out)']);
  assert.equal(s.data.samples.overContext.length, 1);
  assert.match(s.data.samples.overContext[0], /^data\[7\]: \d+ tokens, longer than max_position_embeddings 100$/);
  assert.deepEqual(warnings.filter((w) => /seen before|max_position_embeddings/.test(w)), [
    '1 record(s) left out: their id was seen before (first: data[6]: id "p1" seen before (a duplicate original is left out)); listed in summary.json data.samples.duplicates',
    `1 sample(s) left out: longer than max_position_embeddings (first: ${s.data.samples.overContext[0]}); listed in summary.json data.samples.overContext`,
  ]);
  const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8'));
  assert.deepEqual(summary.data.samples.duplicates, s.data.samples.duplicates);
  assert.deepEqual(summary.data.samples.overContext, s.data.samples.overContext);
});
