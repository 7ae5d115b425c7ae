// The snap LXD: it ignores the machine's /etc/subuid and derives its range itself.

import type { FlavourInfo } from './model.js';

export const snap: FlavourInfo = {
  flavour: 'snap',
  daemonName: 'LXD',
  title: 'LXD, snap',
  client: 'lxc',
  initArgv: ['lxd', 'init', '--preseed'],
  waitReadyArgv: ['lxd', 'waitready', '--timeout'],
  socket: '/var/snap/lxd/common/lxd/unix.socket',
  adminGroup: 'lxd',
  unit: 'snap.lxd.daemon',
  restartArgv: ['snap', 'restart', '--reload', 'lxd'],
  restartNeedsSystemd: false,
  bridge: 'lxdbr0',
  readsSubid: 'never',
  idmapFit: 'strict',
  nonIsolatedSize: 'ignored',
  unallocatedNeighbour: 'at-zero',
  paths: { bin: '/snap/lxd/current/bin/lxd', containers: '/var/snap/lxd/common/lxd/containers', logs: '/var/snap/lxd/common/lxd/logs' },
};
