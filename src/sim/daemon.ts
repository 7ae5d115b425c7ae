// The LXD daemon of a level starting (or restarting): what it reads and the id range it settles
// on. It reads /etc/subuid and /etc/subgid only here, once per start (lxd/sys/os.go → GetIdmapSet).

import { flavourInfo } from '../core/flavour/index.js';
import { getIdmapSet, kernelSetOf, type ShadowFiles } from './idmap.js';
import type { LevelState, World } from './state.js';
import { record, tick } from './world.js';

/**
 * The shadow files LXD consults, or null when it derives its range from its own namespace:
 * - Debian/LXD (DefaultIdmapSet): both files exist;
 * - Incus (NewSetFromSystem): both files exist and newuidmap/newgidmap are installed;
 * - snap: never — the snap sees its own /etc, not the machine's.
 */
export function shadowFilesFor(level: LevelState): ShadowFiles | null {
  const flavour = level.lxd?.flavour;
  const reads = flavour ? flavourInfo(flavour).readsSubid : 'never';
  if (reads === 'never') return null;
  const subuid = level.files['/etc/subuid'];
  const subgid = level.files['/etc/subgid'];
  if (!subuid || !subgid) return null;
  if (reads === 'with-newuidmap' && !level.uidmapTools) return null;
  return { subuid: subuid.text, subgid: subgid.text };
}

/** Start (or restart) the daemon: it re-reads the files now; running containers are untouched. */
export function startDaemon(world: World, level: LevelState): void {
  const lxd = level.lxd;
  if (!lxd) return;
  const loaded = getIdmapSet(shadowFilesFor(level), kernelSetOf(level.kernel));
  lxd.daemon = { kind: 'up', startedAt: tick(world), idmap: loaded.set, log: loaded.log };
  const range = loaded.set?.[0];
  record(world, level.path, 'daemon-start', range ? `${range.Hostid}:${range.Maprange}` : 'privileged only');
}
