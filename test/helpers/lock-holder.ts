/**
 * A separate process that holds a run folder's lock (data/run-folder.ts) until it is killed — the stand-in
 * for "another leaf run is using this folder" in the locking tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

const runFolderModule = pathToFileURL(join(repoRoot, 'dist', 'src', 'data', 'run-folder.js')).href;

export interface LockHolder {
  pid: number;
  /** Kills the holder with `signal` (default SIGKILL: it cannot remove its lock) and waits until it is reaped. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a process that opens `dir` as a RunFolder for `command` and waits; resolves once it holds the lock. */
export async function holdLock(dir: string, command = 'mine'): Promise<LockHolder> {
  const script = `
    import { RunFolder } from ${JSON.stringify(runFolderModule)};
    RunFolder.open(${JSON.stringify(dir)}, { command: ${JSON.stringify(command)}, resume: true, records: [] });
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1 << 30);`;
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) res();
    });
    child.on('exit', (code) => rej(new Error(`the lock holder exited (${code}): ${err}`)));
  });
  return {
    pid: child.pid!,
    kill: async (signal = 'SIGKILL') => {
      child.kill(signal);
      await exited;
    },
  };
}
