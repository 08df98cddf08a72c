import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mine, type MineOptions, type MineProgress } from '../../src/method/mine.js';
import { loadPretrained, type Pretrained } from '../../src/model/pretrained.js';
import { repoRoot } from '../helpers/paths.js';
import { assertProgress } from '../helpers/progress.js';
import { dataLines, makeMiningFixture, PROBLEMS, type MiningFixture } from '../helpers/mining-fixture.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const FILES = ['scores.jsonl', 'counterfactuals.jsonl', 'generations.jsonl'];
const bytes = (dir: string) => FILES.map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : ''));
class Interrupt extends Error {}

describe('leaf mine: an interrupted run resumes to the files of an uninterrupted run', () => {
  let dir = '';
  let fx: MiningFixture;
  let student: Pretrained, teacher: Pretrained;
  const opts = (out: string, extra: Partial<MineOptions> = {}): MineOptions => ({
    teacher, student, data: fx.data, out: join(dir, out), maxNewTokens: 12, batchSize: 3, fsync: false, ...extra,
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-mine-resume-'));
    fx = makeMiningFixture(dir);
    student = loadPretrained(fx.student);
    teacher = loadPretrained(fx.teacher);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const level of ['instruction', 'response'] as const) {
    it(`${level} level: interrupted after every record (and with a torn last line), then resumed`, async () => {
      const extra: Partial<MineOptions> = level === 'response' ? { level, segments: 2 } : {};
      let total = 0;
      const events: MineProgress[] = [];
      const ref = await mine({ ...opts(`ref-${level}`, extra), onRecord: () => total++, onProgress: (p) => events.push({ ...p }) });
      const want = bytes(join(dir, `ref-${level}`));
      assert.ok(total >= 20, `only ${total} records`);
      const last = assertProgress(events, 'mine').at(-1)!;
      assert.equal(last.total, ref.counts.problems);
      assert.deepEqual([last.selected, last.counterfactuals, last.verified], [ref.counts.selected, ref.counts.counterfactuals, ref.counts.verified]);
      for (let n = 1; n < total; n++) {
        const out = `cut-${level}-${n}`;
        let seen = 0;
        await assert.rejects(
          mine({ ...opts(out, extra), onRecord: () => {
            if (++seen === n) throw new Interrupt(`stop after record ${n}`);
          } }),
          Interrupt,
        );
        // What a kill in the middle of a write leaves: a partial line.
        if (n % 2 === 0) for (const f of FILES) appendFileSync(join(dir, out, f), '{"source_id":"p9","te');
        const s = await mine({ ...opts(out, extra), resume: true });
        assert.deepEqual(bytes(join(dir, out)), want, `interrupted after record ${n}`);
        assert.deepEqual({ ...s.counts, resumedProblems: 0 }, { ...ref.counts, resumedProblems: 0 });
        assert.equal(s.complete, true);
      }
    });
  }

  it('--limit, then --resume on the whole file: the same scores and counterfactuals as one run', async () => {
    await mine(opts('limited', { limit: 2 }));
    const s = await mine(opts('limited', { resume: true }));
    // Byte for byte, the generation cache included: the answers were decoded in other batches
    // (--limit cut the first one), and the finished cache is put in input order.
    assert.deepEqual(bytes(join(dir, 'limited')), bytes(join(dir, 'ref-instruction')));
    assert.equal(s.counts.resumedProblems, 1); // p1 done; p2, the last problem with records, mined again
  });

  it('a complete line that is not JSON is not silently dropped: resuming refuses', async () => {
    await mine(opts('corrupt', { limit: 2 }));
    const f = join(dir, 'corrupt', 'scores.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8') + 'garbage\n');
    await assert.rejects(mine(opts('corrupt', { resume: true })), /scores\.jsonl:3: invalid JSON in a complete line; cannot resume/);
  });

  it('runs of several methods can share one generation cache', async () => {
    const cache = join(dir, 'shared-generations.jsonl');
    const a = await mine(opts('share-a', { generations: cache, verify: false }));
    const b = await mine(opts('share-b', { generations: cache, verify: false, method: 'random' }));
    assert.deepEqual(a.generated, { student: 5, teacher: 5 });
    assert.deepEqual(b.generated, { student: 0, teacher: 0 });
    assert.equal(existsSync(join(dir, 'share-b', 'generations.jsonl')), false);
    assert.equal(b.counts.selected, 3);
  });

  it('resuming with other settings is refused before anything is touched', async () => {
    await mine(opts('other', { limit: 2 }));
    const before = bytes(join(dir, 'other'));
    await assert.rejects(mine(opts('other', { resume: true, method: 'random' })), /summary\.json: --resume with a different method \("random", the run being resumed used "gradient"\)/);
    await assert.rejects(mine(opts('other', { resume: true, threshold: 0.2 })), /--resume with a different threshold/);
    assert.deepEqual(bytes(join(dir, 'other')), before);
  });

  it('resuming with another student, teacher or data file is refused (run.json, written before the first record)', async () => {
    await mine(opts('models', { limit: 2 }));
    const out = join(dir, 'models');
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { identity: Record<string, unknown> };
    assert.match(String(run.identity.student_weights), /^[0-9a-f]{16}$/);
    const before = bytes(out);
    await assert.rejects(mine(opts('models', { resume: true, student: teacher })), /run\.json: --resume with a different student /);
    await assert.rejects(mine(opts('models', { resume: true, teacher: student })), /run\.json: --resume with a different teacher /);
    const otherData = join(dir, 'other-data.jsonl');
    writeFileSync(otherData, readFileSync(fx.data, 'utf8'));
    await assert.rejects(mine(opts('models', { resume: true, data: otherData })), /run\.json: --resume with a different data /);
    writeFileSync(otherData, readFileSync(fx.data, 'utf8').replace('"p1"', '"p1x"'));
    await assert.rejects(mine({ ...opts('models', { resume: true }), data: otherData }), /--resume with a different data/);
    assert.deepEqual(bytes(out), before);
    // Records without a run.json or a summary.json to check them against are not resumed.
    rmSync(join(out, 'run.json'));
    rmSync(join(out, 'summary.json'));
    await assert.rejects(mine(opts('models', { resume: true })), /run\.json: missing, so the records already in this output cannot be checked/);
    assert.deepEqual(bytes(out), before);
  });

  it('a process killed with SIGKILL mid-run resumes to the same files', async () => {
    // Many problems (the fixture's, repeated under new ids) so that the run is long enough to be killed.
    const many = [];
    for (let r = 0; r < 12; r++) for (const p of PROBLEMS) many.push({ ...p, id: `r${r}-${p.id}` });
    const data = join(dir, 'many.jsonl');
    writeFileSync(data, dataLines(many).join('\n') + '\n');
    const args = (out: string, ...extra: string[]) => [cli, 'mine', '--teacher', fx.teacher, '--student', fx.student, '--data', data, '--out', join(dir, out), '--max-new-tokens', '12', '--batch-size', '4', ...extra];
    const full = spawnSync(process.execPath, args('kill-ref'), { encoding: 'utf8' });
    assert.equal(full.status, 0, full.stderr);

    const child = spawn(process.execPath, args('killed'), { stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    const scores = join(dir, 'killed', 'scores.jsonl');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(scores) && readFileSync(scores, 'utf8').split('\n').length > 3) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill('SIGKILL');
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL', 'the run ended before it could be killed');
    assert.notDeepEqual(bytes(join(dir, 'killed')), bytes(join(dir, 'kill-ref')));
    const resumed = spawnSync(process.execPath, args('killed', '--resume'), { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(bytes(join(dir, 'killed')), bytes(join(dir, 'kill-ref')));
    const s = JSON.parse(readFileSync(join(dir, 'killed', 'summary.json'), 'utf8'));
    const ref = JSON.parse(readFileSync(join(dir, 'kill-ref', 'summary.json'), 'utf8'));
    assert.ok(s.counts.resumedProblems > 0);
    assert.deepEqual({ ...s.counts, resumedProblems: 0 }, { ...ref.counts, resumedProblems: 0 });
  });
});
