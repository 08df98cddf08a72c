import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { fileDigest, RunFolder, type RunFolderOptions } from '../../src/data/run-folder.js';
import { LeafError } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/io/folder-lock.js';
import { holdLock } from '../helpers/lock-holder.js';
import { repoRoot } from '../helpers/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-run-folder-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(tmp, `f${++n}`);
const opts = (extra: Partial<RunFolderOptions> = {}): RunFolderOptions => ({ command: 'eval', records: ['results.jsonl'], ...extra });
const busy = (dir: string, pid: number, command: string) => (e: unknown) =>
  e instanceof LeafError && !e.message.includes('\n') &&
  e.message.startsWith(`--out ${dir}: another run is using this folder (leaf ${command}, pid ${pid}`) && /wait for it to end or use another --out$/.test(e.message);

describe('RunFolder: one run per folder', () => {
  it('a second open of a held folder fails in one line naming the folder and the holder; after close it opens', () => {
    const dir = fresh();
    const a = RunFolder.open(dir, opts());
    assert.ok(existsSync(join(dir, LOCK_FILE)));
    assert.throws(() => RunFolder.open(dir, opts({ command: 'mine' })), busy(dir, process.pid, 'eval'));
    a.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'close removes the lock');
    RunFolder.open(dir, opts()).close();
  });

  it('a folder held by another process is refused; once that process is killed with SIGKILL, its lock is recovered', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const holder = await holdLock(dir, 'mine');
    try {
      assert.throws(() => RunFolder.open(dir, opts()), busy(dir, holder.pid, 'mine'));
    } finally {
      await holder.kill('SIGKILL');
    }
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, holder.pid, 'a killed run leaves its lock behind');
    const f = RunFolder.open(dir, opts());
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    f.close();
  });

  it('stale locks are recovered: a pid that is gone, a pid reused by another process, a file that is no lock', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const lock = (dir: string, content: string) => {
      mkdirSync(dir);
      writeFileSync(join(dir, LOCK_FILE), content);
    };
    const cases: Array<[string, string]> = [
      ['gone', JSON.stringify({ pid: gone, start: null, host: hostname(), command: 'mine', since: 'x', token: 'a' })],
      ['torn', '{"pid": 12'],
    ];
    // The pid of a live process (this one's parent) with another start time: a reused pid, not the holder.
    if (existsSync('/proc/self/stat')) cases.push(['reused', JSON.stringify({ pid: process.ppid, start: 1, host: hostname(), command: 'mine', since: 'x', token: 'b' })]);
    for (const [name, content] of cases) {
      const dir = join(fresh(), name);
      mkdirSync(join(dir, '..'), { recursive: true });
      lock(dir, content);
      const f = RunFolder.open(dir, opts());
      assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid, name);
      f.close();
    }
    // …but a live holder (the parent, with its real start time) is respected.
    const dir = fresh();
    lock(dir, JSON.stringify({ pid: process.ppid, start: null, host: hostname(), command: 'demo', since: 'x', token: 'c' }));
    assert.throws(() => RunFolder.open(dir, opts()), busy(dir, process.ppid, 'demo'));
  });

  it('runs started at the same moment: exactly one proceeds, also when they all recover the same stale lock', async () => {
    const mod = pathToFileURL(join(repoRoot, 'dist', 'src', 'data', 'run-folder.js')).href;
    const race = async (dir: string) => {
      const script = `
        import { RunFolder } from ${JSON.stringify(mod)};
        try { const f = RunFolder.open(${JSON.stringify(dir)}, { command: 'eval', records: [] }); process.stdout.write('ok'); setTimeout(() => f.close(), 1500); }
        catch (e) { process.stdout.write('refused: ' + e.message); }`;
      const runs = Array.from({ length: 4 }, () => new Promise<string>((res) => {
        const c = spawn(process.execPath, ['--input-type=module', '-e', script]);
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('exit', () => res(out));
      }));
      return Promise.all(runs);
    };
    const plain = fresh();
    mkdirSync(plain);
    const stale = fresh();
    mkdirSync(stale);
    writeFileSync(join(stale, LOCK_FILE), JSON.stringify({ pid: spawnSync(process.execPath, ['-e', '0']).pid, start: null, host: hostname(), command: 'mine', since: 'x', token: 'd' }));
    for (const dir of [plain, stale]) {
      const outs = await race(dir);
      assert.equal(outs.filter((o) => o === 'ok').length, 1, outs.join(' | '));
      for (const o of outs.filter((x) => x !== 'ok')) assert.match(o, /^refused: --out .*: another run is using this folder \(leaf eval, pid \d+/);
      assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'the winner released its lock');
    }
  });

  it('close removes only its own lock', () => {
    const dir = fresh();
    const f = RunFolder.open(dir, opts());
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, start: null, host: hostname(), command: 'x', since: 'x', token: 'other' }));
    f.close();
    assert.ok(existsSync(join(dir, LOCK_FILE)));
  });
});

describe('RunFolder: --resume / --overwrite', () => {
  const withRun = () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.jsonl'), '{"id":"a"}\n');
    writeFileSync(join(dir, 'summary.json'), '{}\n');
    writeFileSync(join(dir, 'cache.jsonl'), '{"k":1}\n');
    return dir;
  };

  it('neither flag: a folder with records is refused in one line (the lock released); empty records are not a run', () => {
    const dir = withRun();
    assert.throws(() => RunFolder.open(dir, opts({ note: 'cached answers are kept' })), (e: unknown) => e instanceof LeafError &&
      e.message === `${join(dir, 'results.jsonl')}: output file already exists and is not empty; pass --resume to continue or --overwrite to start over (cached answers are kept)`);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    writeFileSync(join(dir, 'results.jsonl'), '');
    RunFolder.open(dir, opts()).close();
    assert.throws(() => RunFolder.open(dir, opts({ resume: true, overwrite: true })), /give --resume or --overwrite, not both/);
  });

  it('--overwrite removes the records and outputs when the run starts, not before, and keeps what it was not given', () => {
    const dir = withRun();
    const f = RunFolder.open(dir, opts({ overwrite: true, outputs: ['summary.json'] }));
    assert.ok(existsSync(join(dir, 'results.jsonl')), 'a run that fails before it starts destroys nothing');
    f.start();
    assert.equal(existsSync(join(dir, 'results.jsonl')), false);
    assert.equal(existsSync(join(dir, 'summary.json')), false);
    assert.ok(existsSync(join(dir, 'cache.jsonl')));
    f.close();
  });

  it('--resume and a reusing default keep everything; logs resume with their torn line repaired and call the on-append hook', () => {
    for (const o of [{ resume: true }, { otherwise: 'resume' as const }]) {
      const dir = withRun();
      writeFileSync(join(dir, 'results.jsonl'), '{"id":"a"}\n{"id":"b', { flag: 'w' });
      const f = RunFolder.open(dir, opts(o));
      assert.equal(f.resume, true);
      const seen: string[] = [];
      const log = f.openLog<{ id: string }>('results.jsonl', { fsync: false, onAppend: (r) => seen.push(r.id) });
      assert.deepEqual(log.existing.map((r) => r.id), ['a']);
      log.append({ id: 'c' });
      log.close();
      f.close();
      assert.deepEqual(seen, ['c']);
      assert.equal(readFileSync(join(dir, 'results.jsonl'), 'utf8'), '{"id":"a"}\n{"id":"c"}\n');
      assert.ok(existsSync(join(dir, 'summary.json')));
    }
  });
});

describe('RunFolder: run.json and summary.json', () => {
  it('the identity is written for a fresh run, checked field by field on --resume', () => {
    const dir = fresh();
    const id = { model: 'm', data_sha256: 'abc' };
    const first = RunFolder.open(dir, opts());
    first.identity(id);
    first.close();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')), { identity: id });
    const f = RunFolder.open(dir, opts({ resume: true }));
    f.identity(id);
    assert.throws(() => f.identity({ ...id, model: 'n' }), (e: unknown) => e instanceof LeafError &&
      e.message === `${join(dir, 'run.json')}: --resume with a different model ("n", the run being resumed used "m"); use the same models, data and settings, or another --out`);
    assert.throws(() => f.identity({ ...id, extra: 1 }), /--resume with a different extra \(1, the run being resumed used none\)/);
    f.identity({ ...id, absent: undefined }); // a field neither run has
    f.close();
    // Nested fields are compared canonically: the same settings written in another field order match; another value does not.
    const n = RunFolder.open(fresh(), opts());
    n.identity({ settings: { lr: 1, seed: 2 } });
    n.close();
    const m = RunFolder.open(n.dir, opts({ resume: true }));
    m.identity({ settings: { seed: 2, lr: 1 } });
    assert.throws(() => m.identity({ settings: { seed: 3, lr: 1 } }), /--resume with a different settings \(\{"seed":3,"lr":1\}, the run being resumed used \{"lr":1,"seed":2\}\)/);
    m.close();
    rmSync(join(dir, 'run.json'));
    const g = RunFolder.open(dir, opts({ resume: true }));
    assert.throws(() => g.identity(id, { hasRecords: true }), /run\.json: missing, so the records already in this output cannot be checked/);
    g.identity(id, { hasRecords: true, legacy: true });
    g.close();
    // Another field, extra fields beside it, another message.
    const h = RunFolder.open(fresh(), opts());
    h.identity({ lr: 1 }, { field: 'settings', extra: { samples: 3 } });
    assert.deepEqual(JSON.parse(readFileSync(h.path('run.json'), 'utf8')), { settings: { lr: 1 }, samples: 3 });
    h.close();
  });

  it('summary.json is written atomically at most once per interval unless forced', () => {
    const f = RunFolder.open(fresh(), opts());
    const s = f.summary('summary.json', 60_000);
    assert.equal(s.write(() => ({ n: 1 })), true);
    assert.equal(s.write(() => ({ n: 2 })), false);
    assert.deepEqual(JSON.parse(readFileSync(f.path('summary.json'), 'utf8')), { n: 1 });
    assert.equal(s.write(() => ({ n: 3 }), true), true);
    assert.deepEqual(JSON.parse(readFileSync(f.path('summary.json'), 'utf8')), { n: 3 });
    f.close();
  });

  it('fileDigest is the first 16 hex digits of the sha256 of the bytes', () => {
    const file = join(tmp, 'digest.txt');
    writeFileSync(file, 'abc');
    assert.equal(fileDigest(file), 'ba7816bf8f01cfea');
  });
});
