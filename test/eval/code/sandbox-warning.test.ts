import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeIsolation, sandboxWarning, type IsolationInfo } from '../../../src/eval/code/index.js';
import { sandboxRecord } from '../../../src/eval/code/isolation.js';
import { repoRoot } from '../../helpers/paths.js';

const full: IsolationInfo = {
  tier: 'namespaces', network: true, pidNamespace: true, mountNamespace: true, readOnlyRoot: true, uidDrop: true,
  memoryCgroup: true, minimalRoot: true, python: '/usr/bin/python3', visible: [], notes: [],
};

test('sandboxWarning: silent for the full sandbox, one line naming what is missing otherwise', () => {
  assert.equal(sandboxWarning(full), null);
  const netOnly: IsolationInfo = { ...full, tier: 'net-only', pidNamespace: false, mountNamespace: false, readOnlyRoot: false, minimalRoot: false, notes: ['namespaces: unavailable (unshare: Operation not permitted)'] };
  const w = sandboxWarning(netOnly)!;
  assert.match(w, /^code sandbox: isolation tier 'net-only': no PID namespace, no mount namespace \(private \/tmp, no view of host files\), no read-only root filesystem \(namespaces: unavailable \(unshare: Operation not permitted\)\); /);
  assert.ok(!w.includes('\n'));
  assert.match(sandboxWarning({ ...full, tier: 'none', network: false })!, /no network namespace/);
  assert.match(sandboxWarning({ ...full, minimalRoot: false })!, /no minimal root \(host files visible\)/);
});

test('sandboxWarning: the namespaces tier of a user other than root (no uid drop, no memory cgroup) is warned about', () => {
  const user: IsolationInfo = { ...full, uidDrop: false, memoryCgroup: false };
  const w = sandboxWarning(user)!;
  assert.match(w, /^code sandbox: isolation tier 'namespaces': no per-run unprivileged uid \(.*\), no memory cgroup /);
  assert.ok(!w.includes('\n'));
  assert.match(sandboxWarning({ ...full, memoryCgroup: false })!, /no memory cgroup/);
  const rec = sandboxRecord(user);
  assert.deepEqual({ tier: rec.tier, uidDrop: rec.uidDrop, memoryCgroup: rec.memoryCgroup, warning: rec.warning }, { tier: 'namespaces', uidDrop: false, memoryCgroup: false, warning: w });
});

test('this machine: the probe and its warning agree', async () => {
  const iso = await probeIsolation();
  const w = sandboxWarning(iso);
  const complete = iso.network && iso.pidNamespace && iso.mountNamespace && iso.minimalRoot && iso.readOnlyRoot && iso.uidDrop && iso.memoryCgroup;
  assert.equal(w === null, complete, String(w));
});

test('run as nobody: the probe gives no uid drop and says so in one line', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to switch to nobody');
  const setpriv = spawnSync('setpriv', ['--version'], { encoding: 'utf8' });
  if (setpriv.status !== 0) return t.skip('setpriv not installed');
  const mod = join(repoRoot, 'dist', 'src', 'eval', 'code', 'index.js');
  const script = `import(${JSON.stringify(mod)}).then(async (m) => { const i = await m.probeIsolation(); console.log(JSON.stringify({ uid: process.getuid(), iso: i, warning: m.sandboxWarning(i) })); })`;
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], {
    encoding: 'utf8', cwd: '/', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/' }, timeout: 60_000,
  });
  if (/EACCES|permission denied/i.test(r.stderr) && r.status !== 0) return t.skip(`the checkout is not readable by nobody: ${r.stderr.trim().split('\n')[0]}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { uid: number; iso: IsolationInfo; warning: string | null };
  assert.equal(out.uid, 65534);
  assert.equal(out.iso.uidDrop, false);
  assert.ok(out.warning !== null && !out.warning.includes('\n'), String(out.warning));
  assert.match(out.warning!, /no per-run unprivileged uid \(leaf is not root/);
});
