// Restarting a level's daemon without stopping its containers (systemctl restart lxd with
// KillMode=process, snap restart --reload lxd, or the manifest's own argv), then waitready.

import { CommandError } from '../../core/errors.js';
import { startDaemon } from './daemon.js';
import { commandNotFound } from './errors.js';
import { autostart } from './power.js';
import { reach } from './reach.js';
import type { World } from './state.js';
import { findLevel } from './world.js';

/** The argv the real adapter's detection script would end up running, or null (no snap, no systemd). */
function detected(flavour: string, systemd: boolean): string[] | null {
  if (flavour === 'snap') return ['snap', 'restart', '--reload', 'lxd'];
  if (systemd) return ['systemctl', 'restart', flavour === 'incus' ? 'incus' : 'lxd'];
  return null;
}

export function restartDaemon(world: World, path: string, command: readonly string[] | null): void {
  const service = findLevel(world, path)?.lxd?.flavour === 'incus' ? 'incus' : 'lxd';
  const detectArgv = ['sh', '-c', '<detect restart command>', 'restart', service];
  const level = reach(world, path, command ?? detectArgv);
  const lxd = level.lxd;
  if (!lxd) throw commandNotFound(path, command ?? ['lxc']);
  const argv = command ? [...command] : detected(lxd.flavour, level.systemd);
  if (!argv) throw new CommandError(detectArgv, 3, `cannot restart ${service} here: neither snap nor systemd\n`, path);
  (world.restarts[path] ??= []).push(argv);
  // The new daemon re-reads /etc/subuid and /etc/subgid; containers keep running and keep
  // their maps (LXD never re-maps an existing container on start-up).
  startDaemon(world, level);
  autostart(world, level);
}
