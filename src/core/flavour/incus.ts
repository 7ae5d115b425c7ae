// Incus (the LXD fork, 6.0.x). Its findIdmap differs from LXD's in three ways (fit, size on
// non-isolated containers, neighbours without a map), recorded below; nestctl sets
// security.idmap.size only on isolated containers, so the second never changes its maps.

import type { FlavourInfo } from './model.js';

export const incus: FlavourInfo = {
  flavour: 'incus',
  daemonName: 'Incus',
  title: 'Incus',
  client: 'incus',
  initArgv: ['incus', 'admin', 'init', '--preseed'],
  waitReadyArgv: ['incus', 'admin', 'waitready', '--timeout'],
  socket: '/var/lib/incus/unix.socket',
  adminGroup: 'incus-admin',
  unit: 'incus',
  restartArgv: ['systemctl', 'restart', 'incus'],
  restartNeedsSystemd: true,
  bridge: 'incusbr0',
  // Incus NewSetFromSystem reads the files only when newuidmap/newgidmap are installed.
  readsSubid: 'with-newuidmap',
  idmapFit: 'inclusive',
  nonIsolatedSize: 'shortens',
  unallocatedNeighbour: 'skipped',
  paths: { bin: '/usr/libexec/incus/incusd', containers: '/var/lib/incus/containers', logs: '/var/log/incus' },
};
