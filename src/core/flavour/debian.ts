// Debian's lxd package (LXD 5.0.x from the distribution).

import type { FlavourInfo } from './model.js';

export const debian: FlavourInfo = {
  flavour: 'debian',
  daemonName: 'LXD',
  title: 'LXD, Debian package',
  client: 'lxc',
  initArgv: ['lxd', 'init', '--preseed'],
  waitReadyArgv: ['lxd', 'waitready', '--timeout'],
  socket: '/var/lib/lxd/unix.socket',
  adminGroup: 'lxd',
  unit: 'lxd',
  restartArgv: ['systemctl', 'restart', 'lxd'],
  restartNeedsSystemd: true,
  bridge: 'lxdbr0',
  readsSubid: 'with-files',
  idmapFit: 'strict',
  nonIsolatedSize: 'ignored',
  unallocatedNeighbour: 'at-zero',
  paths: { bin: '/usr/bin/lxd', containers: '/var/lib/lxd/containers', logs: '/var/log/lxd' },
};
