// One apply at a time per host: a lock file holding the owner's pid, created exclusively.
// A lock whose process is gone is stale and taken over.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnvironmentError } from '../core/errors.js';

export const HOST_LOCK = '/run/lock/nestctl.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock or throw; returns the release function. */
export function lockHost(path = HOST_LOCK): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new EnvironmentError(`cannot create ${path}: ${(e as Error).message}`, 'run nestctl as root');
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new EnvironmentError(`another nestctl (pid ${owner}) is applying on this host`, `wait for it to finish; ${path} holds its pid`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new EnvironmentError(`cannot take ${path}`);
}
