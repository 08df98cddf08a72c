import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeIsolation, sandboxWarning, type IsolationInfo } from '../../../src/eval/code/index.js';

const full: IsolationInfo = {
  tier: 'namespaces', network: true, pidNamespace: true, mountNamespace: true, readOnlyRoot: true, uidDrop: true,
  memoryCgroup: true, python: '/usr/bin/python3', hidden: [], notes: [],
};

test('sandboxWarning: silent for the full sandbox, one line naming what is missing otherwise', () => {
  assert.equal(sandboxWarning(full), null);
  const netOnly: IsolationInfo = { ...full, tier: 'net-only', pidNamespace: false, mountNamespace: false, readOnlyRoot: false, notes: ['namespaces: unavailable (unshare: Operation not permitted)'] };
  const w = sandboxWarning(netOnly)!;
  assert.match(w, /^code sandbox: isolation tier 'net-only': no PID namespace, no mount namespace \(private \/tmp, hidden home folders\), no read-only root filesystem \(namespaces: unavailable \(unshare: Operation not permitted\)\); /);
  assert.ok(!w.includes('\n'));
  assert.match(sandboxWarning({ ...full, tier: 'none', network: false })!, /no network namespace/);
});

test('this machine: the probe and its warning agree', async () => {
  const iso = await probeIsolation();
  const w = sandboxWarning(iso);
  const complete = iso.network && iso.pidNamespace && iso.mountNamespace && iso.readOnlyRoot && (process.getuid?.() !== 0 || iso.uidDrop);
  assert.equal(w === null, complete, String(w));
});
