import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { CF_RECORDS, LLAMA_TOKENIZER, TRAIN_RECORDS, writeJsonl, writeTinyModel } from '../helpers/tiny-distill.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
function leaf(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('leaf distill', () => {
  let dir = '';
  let teacher = '', student = '', data = '', cfs = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-cli-distill-'));
    teacher = writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 3, std: 0.4 });
    student = writeTinyModel(join(dir, 'student'), { hidden: 16, layers: 1, seed: 4, std: 0.2 });
    data = writeJsonl(join(dir, 'train.jsonl'), TRAIN_RECORDS);
    cfs = writeJsonl(join(dir, 'cf.jsonl'), CF_RECORDS);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const common = (out: string) => ['distill', '--student', student, '--teacher', teacher, '--data', data, '--counterfactuals', cfs, '--out', join(dir, out),
    '--batch-size', '2', '--micro-batch-size', '1', '--lr', '5e-3', '--warmup', '2'];

  it('flags that the other choices make meaningless are warned about, not silently ignored', () => {
    const r = leaf(...common('ignored'), '--epochs', '1', '--top-k', '8', '--jsd-beta', '0.3', '--warmup', '10');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^leaf: warning: --top-k only applies with --teacher-logits cache; ignored$/m);
    assert.match(r.err, /^leaf: warning: --jsd-beta only applies with --loss jsd \(not fkl\); ignored$/m);
    assert.match(r.err, /^leaf: warning: --warmup 10 is not below the run's 4 steps: the learning rate never reaches --lr 0\.005$/m);
    const quiet = leaf(...common('not-ignored'), '--epochs', '2', '--loss', 'jsd', '--jsd-beta', '0.3');
    assert.equal(quiet.code, 0, quiet.err);
    assert.doesNotMatch(quiet.err, /warning: --(top-k|jsd-beta|warmup)/);
  });

  it('trains on originals and verified counterfactuals and writes a model leaf generate runs', () => {
    const r = leaf(...common('run'), '--epochs', '2', '--teacher-logits', 'cache', '--top-k', '16', '--eval-every', '2', '--eval-data', data);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^distilled 8 samples \(6 original, 2 counterfactual\) for 8 steps; final loss \d+\.\d+, val loss \d+\.\d+; \d+ tokens\/s; model .*run\/model\n$/);
    const m = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(m.length, 8);
    assert.deepEqual(m.filter((x) => x.val_loss !== null).map((x) => x.step), [2, 4, 6, 8]);
    const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
    assert.equal(summary.teacherCache, 'built');
    assert.equal(summary.data.unverifiedCounterfactuals, 1);
    const g = leaf('generate', '--model', join(dir, 'run', 'model'), '--chat', '--prompt', 'What is 2 + 3?', '--max-new-tokens', '4');
    assert.equal(g.code, 0, g.err);
    const c = leaf('generate', '--model', join(dir, 'run', 'best'), '--prompt', 'x', '--max-new-tokens', '2');
    assert.equal(c.code, 0, c.err);
    // A checkpoint folder (with the optimizer and trainer state beside the weights) is a model leaf generate runs,
    // and it generates what the final model does (the last checkpoint holds the final weights).
    const latest = JSON.parse(readFileSync(join(dir, 'run', 'checkpoints', 'latest.json'), 'utf8')) as { step: number; dir: string };
    assert.equal(latest.step, 8);
    const k = leaf('generate', '--model', join(dir, 'run', 'checkpoints', latest.dir), '--chat', '--prompt', 'What is 2 + 3?', '--max-new-tokens', '4');
    assert.equal(k.code, 0, k.err);
    assert.equal(k.out, g.out);
  });

  it('AdamW flags reach the run settings; bad values and a file as --out are one-line errors', () => {
    const r = leaf(...common('adam'), '--epochs', '1', '--adam-beta1', '0.8', '--adam-beta2', '0.99', '--adam-eps', '1e-6', '--weight-decay', '0.1', '--max-grad-norm', '0.5');
    assert.equal(r.code, 0, r.err);
    const { settings } = JSON.parse(readFileSync(join(dir, 'adam', 'run.json'), 'utf8'));
    assert.deepEqual([settings.adamBeta1, settings.adamBeta2, settings.adamEps, settings.weightDecay, settings.maxGradNorm], [0.8, 0.99, 1e-6, 0.1, 0.5]);
    const b = leaf(...common('adam-bad'), '--adam-beta2', '1');
    assert.equal(b.code, 1);
    assert.equal(b.err, 'leaf: --adam-beta2 must be in [0, 1), got 1\n');
    const f = leaf(...common('x'), '--out', data);
    assert.equal(f.code, 1);
    assert.match(f.err, /^leaf: --out .*train\.jsonl: cannot create the output folder \(EEXIST\)\n$/);
  });

  it('a process killed mid-run and resumed ends with the weights of an uninterrupted run', async () => {
    const args = [...common('killed'), '--epochs', '40', '--save-every', '7'];
    const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
    const latest = join(dir, 'killed', 'checkpoints', 'latest.json');
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        if (existsSync(latest) || child.exitCode !== null) {
          clearInterval(poll);
          child.kill('SIGKILL');
          res();
        }
      }, 5);
    });
    await exited;
    const resumed = leaf(...args, '--resume');
    assert.equal(resumed.code, 0, resumed.err);
    const full = leaf(...common('straight'), '--epochs', '40', '--save-every', '7');
    assert.equal(full.code, 0, full.err);
    assert.ok(readFileSync(join(dir, 'killed', 'model', 'model.safetensors')).equals(readFileSync(join(dir, 'straight', 'model', 'model.safetensors'))));
    const { resumedFrom, totalSteps } = JSON.parse(readFileSync(join(dir, 'killed', 'summary.json'), 'utf8'));
    assert.ok(resumedFrom !== null && resumedFrom < totalSteps, `the run was not interrupted (resumed from ${resumedFrom})`);
    const steps = readFileSync(join(dir, 'killed', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, Array.from({ length: 160 }, (_, i) => i + 1));
  });

  it('bad input: one-line errors (exit 1) and per-line warnings', () => {
    const other = writeTinyModel(join(dir, 'llama'), { tokenizer: LLAMA_TOKENIZER });
    const t = leaf('distill', '--student', student, '--teacher', other, '--data', data, '--out', join(dir, 'x'));
    assert.equal(t.code, 1);
    assert.match(t.err, /^leaf: the teacher \(.*\) and the student \(.*\) have different tokenizers; .*\n$/);
    const n = leaf('distill', '--student', student, '--data', data, '--out', join(dir, 'y'));
    assert.equal(n.code, 1);
    assert.equal(n.err, 'leaf: --teacher is required for --loss fkl (or use --loss ce)\n');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify(TRAIN_RECORDS[0])}\nnot json\n${JSON.stringify(TRAIN_RECORDS[1])}\n`);
    const w = leaf('distill', '--student', student, '--loss', 'ce', '--data', bad, '--out', join(dir, 'z'), '--epochs', '1');
    assert.equal(w.code, 0, w.err);
    assert.match(w.err, new RegExp(`leaf: warning: skipped ${bad}:2: invalid JSON`));
    const s = leaf('distill', '--student', student, '--loss', 'ce', '--data', bad, '--out', join(dir, 'zz'), '--strict');
    assert.equal(s.code, 1);
    assert.match(s.err, new RegExp(`^leaf: ${bad}:2: invalid JSON`));
  });
});
