/**
 * One run per output folder, on every command that writes one (data/run-folder.ts): while another run holds
 * the folder, `leaf mine`, `leaf eval`, `leaf distill` and `leaf demo` end with one line naming the folder and
 * the holder's pid, and touch nothing; a lock left by a run killed with SIGKILL is recovered by the next run;
 * two real runs started together on one folder: exactly one proceeds. And --resume / --overwrite on each.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCK_FILE } from '../../src/io/folder-lock.js';
import { holdLock } from '../helpers/lock-holder.js';
import { dataLines, makeMiningFixture, PROBLEMS, type MiningFixture } from '../helpers/mining-fixture.js';
import { repoRoot } from '../helpers/paths.js';
import { TRAIN_RECORDS, writeJsonl, writeTinyModel } from '../helpers/tiny-distill.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
function leaf(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function leafAsync(...args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => res({ code, err }));
  });
}
const lockLine = (out: string, pid: number) =>
  new RegExp(`^leaf: --out ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: another run is using this folder \\(leaf mine, pid ${pid}, since [^)]+\\); wait for it to end or use another --out\\n$`);

describe('one run per folder: mine, eval, distill, demo', () => {
  let dir = '';
  let fx: MiningFixture;
  let student = '', teacher = '', train = '', problems = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-run-lock-'));
    fx = makeMiningFixture(dir);
    teacher = writeTinyModel(join(dir, 'd-teacher'), { hidden: 16, layers: 1, seed: 3 });
    student = writeTinyModel(join(dir, 'd-student'), { hidden: 16, layers: 1, seed: 4 });
    train = writeJsonl(join(dir, 'd-train.jsonl'), TRAIN_RECORDS);
    problems = writeJsonl(join(dir, 'problems.jsonl'), PROBLEMS); // without the fixture's malformed lines (no warnings)
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const commands: Record<string, (out: string, ...extra: string[]) => string[]> = {
    mine: (out, ...extra) => ['mine', '--teacher', fx.teacher, '--student', fx.student, '--data', fx.data, '--out', out, '--max-new-tokens', '12', ...extra],
    eval: (out, ...extra) => ['eval', '--model', fx.student, '--data', problems, '--out', out, '--max-new-tokens', '12', ...extra],
    distill: (out, ...extra) => ['distill', '--student', student, '--teacher', teacher, '--data', train, '--out', out, '--epochs', '1', '--batch-size', '2', ...extra],
    demo: (out, ...extra) => ['demo', '--quick', '--seeds', '1', '--jobs', '1', '--out', out, ...extra],
  };

  for (const [name, args] of Object.entries(commands)) {
    it(`leaf ${name}: refused in one line while another run holds --out; runs once the holder is killed with SIGKILL`, async () => {
      const out = join(dir, `held-${name}`);
      mkdirSync(out);
      const holder = await holdLock(out, 'mine');
      let r;
      try {
        r = leaf(...args(out));
      } finally {
        await holder.kill('SIGKILL');
      }
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, lockLine(out, holder.pid));
      assert.deepEqual(readdirSync(out), [LOCK_FILE], 'the refused run wrote nothing');
      const ok = leaf(...args(out));
      assert.equal(ok.code, 0, ok.err);
      assert.equal(existsSync(join(out, LOCK_FILE)), false, 'the run released the lock it recovered');
    });
  }

  it('two real runs started together on one --out: exactly one proceeds, the other ends with the one-line error', async () => {
    const many = [];
    for (let r = 0; r < 6; r++) for (const p of PROBLEMS) many.push({ ...p, id: `r${r}-${p.id}` });
    const data = join(dir, 'many.jsonl');
    writeFileSync(data, dataLines(many).join('\n') + '\n');
    const out = join(dir, 'together');
    const run = () => leafAsync('mine', '--teacher', fx.teacher, '--student', fx.student, '--data', data, '--out', out, '--max-new-tokens', '12');
    const [a, b] = await Promise.all([run(), run()]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], `${a.err}\n${b.err}`);
    const loser = a.code === 1 ? a : b;
    assert.match(loser.err, /^leaf: --out .*together: another run is using this folder \(leaf mine, pid \d+, since [^)]+\); wait for it to end or use another --out\n$/);
    const lines = readFileSync(join(out, 'scores.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    assert.equal(new Set(lines.map((l) => l.id)).size, lines.length, 'no record written twice');
  });

  it('leaf eval: refuses an --out with records; --overwrite starts over; --resume keeps; not both', () => {
    const out = join(dir, 'eval-policy');
    assert.equal(leaf(...commands.eval(out)).code, 0);
    const first = readFileSync(join(out, 'results.jsonl'), 'utf8');
    const refused = leaf(...commands.eval(out));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^leaf: .*results\.jsonl: output file already exists and is not empty; pass --resume to continue or --overwrite to start over\n$/);
    writeFileSync(join(out, 'results.jsonl'), first.split('\n')[0] + '\n{"id":"not-a-problem","torn');
    const over = leaf(...commands.eval(out, '--overwrite'));
    assert.equal(over.code, 0, over.err);
    assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8'), first);
    const resumed = leaf(...commands.eval(out, '--resume'));
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8'), first);
    const both = leaf(...commands.eval(out, '--resume', '--overwrite'));
    assert.equal(both.code, 1);
    assert.match(both.err, /^leaf: give --resume or --overwrite, not both\n$/);
  });

  it('leaf distill: --overwrite starts a run over and ends with the bytes of a fresh run', () => {
    const ref = join(dir, 'distill-ref'), out = join(dir, 'distill-over');
    assert.equal(leaf(...commands.distill(ref)).code, 0);
    assert.equal(leaf(...commands.distill(out, '--lr', '1e-3', '--epochs', '2')).code, 0);
    const refused = leaf(...commands.distill(out));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /run\.json: output file already exists and is not empty; pass --resume to continue or --overwrite to start over \(the folder already holds a distillation run\)\n$/);
    const over = leaf(...commands.distill(out, '--overwrite'));
    assert.equal(over.code, 0, over.err);
    for (const f of ['model/model.safetensors', 'run.json']) assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(ref, f)), f);
    const steps = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(steps(out), steps(ref));
    assert.deepEqual(readdirSync(join(out, 'checkpoints')), readdirSync(join(ref, 'checkpoints')), 'the longer run\'s checkpoints are gone');
  });

  it('leaf demo: reuses by default (and with --resume); --overwrite starts over', () => {
    const out = join(dir, 'held-demo'); // finished by the locking test above
    const summary = () => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { models: { teacher: { reused: boolean } } };
    const marker = join(out, 'runs', 'stray.txt');
    writeFileSync(marker, 'x');
    assert.equal(leaf(...commands.demo(out, '--resume')).code, 0);
    assert.equal(summary().models.teacher.reused, true);
    assert.ok(existsSync(marker));
    assert.equal(leaf(...commands.demo(out, '--overwrite')).code, 0);
    assert.equal(summary().models.teacher.reused, false);
    assert.equal(existsSync(marker), false);
  });
});
