// Whether a level's daemon still has to read its subid files: LXD reads them once, at start
// (LXD lxd/sys/os.go: the idmap set is computed once, when the daemon initialises).

import type { ObservedLevel } from '../observed.js';

/** Files newer than the running daemon: it has not read them yet. */
export function restartPending(level: ObservedLevel): boolean {
  if (level.daemon.kind !== 'up' || level.daemon.startedAt === null) return false;
  const started = level.daemon.startedAt;
  return [level.subuid.mtime, level.subgid.mtime].some((m) => m !== null && m > started);
}
