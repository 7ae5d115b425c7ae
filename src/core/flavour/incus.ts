// Incus (the LXD fork, 6.0.x). Incus also applies security.idmap.size to non-isolated
// containers; nestctl does not model that (it sets the key only on isolated ones).

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
  paths: { bin: '/usr/libexec/incus/incusd', containers: '/var/lib/incus/containers', logs: '/var/log/incus' },
};
