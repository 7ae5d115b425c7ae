// Getting to a level the way the real client does: `lxc exec c1 -- lxc exec c2 -- …`. Every
// container on the way must exist and run, and every daemon on the way must answer.

import { lxcFailure, TEXT } from './errors.js';
import { activate } from './power.js';
import type { LevelState, World } from './state.js';
import { cliOf } from './world.js';

/** The level at `path`, reachable for running `argv` there; throws as the nested exec would. */
export function reach(world: World, path: string, argv: readonly string[]): LevelState {
  let level = world.host;
  if (path === '') return level;
  for (const name of path.split('/')) {
    const lxd = activate(world, level, [cliOf(level), 'exec', name, '--', ...argv]);
    const inst = lxd.instances.find((i) => i.name === name);
    if (!inst) throw lxcFailure(path, argv, TEXT.instanceNotFound);
    if (inst.status !== 'Running') throw lxcFailure(path, argv, TEXT.notRunning);
    level = inst.inside;
  }
  return level;
}
