// Restarting a level's daemon without stopping its containers (systemctl restart lxd with
// KillMode=process, snap restart --reload lxd, or the manifest's own argv), then waitready.

import { CommandError } from '../core/errors.js';
import { clientOf, flavourInfo } from '../core/flavour/index.js';
import { startDaemon } from './daemon.js';
import { commandNotFound } from './errors.js';
import { autostart } from './power.js';
import { reach } from './reach.js';
import type { World } from './state.js';
import { findLevel } from './world.js';

export function restartDaemon(world: World, path: string, command: readonly string[] | null): void {
  const found = findLevel(world, path)?.lxd;
  const info = flavourInfo(found?.flavour ?? 'debian');
  const scriptArgv = ['sh', '-c', '<restart>', 'restart', info.restartNeedsSystemd ? 'systemd' : 'any', ...info.restartArgv];
  const level = reach(world, path, command ?? scriptArgv);
  const lxd = level.lxd;
  if (!lxd) throw commandNotFound(path, command ?? [clientOf(null)]);
  // What the real adapter's restart script runs: the flavour's argv, where systemd is there if it needs it.
  const ours = flavourInfo(lxd.flavour);
  const argv = command ? [...command] : !ours.restartNeedsSystemd || level.systemd ? [...ours.restartArgv] : null;
  if (!argv) throw new CommandError(scriptArgv, 3, `cannot run ${ours.restartArgv.join(' ')} here: no systemd\n`, path);
  (world.restarts[path] ??= []).push(argv);
  // The new daemon re-reads /etc/subuid and /etc/subgid; containers keep running and keep
  // their maps (LXD never re-maps an existing container on start-up).
  startDaemon(world, level);
  autostart(world, level);
}
