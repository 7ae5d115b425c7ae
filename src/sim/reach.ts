// Getting to a level the way the real client does: `lxc exec c1 -- lxc exec c2 -- …`, or
// `lxc-attach -n NAME -- …` into a classic LXC container. Every
// container on the way must exist and run, and every daemon on the way must answer.

import { lxcFailure, TEXT } from './errors.js';
import { activate } from './power.js';
import type { LevelState, World } from './state.js';
import { CommandError } from '../core/errors.js';
import { cliOf, lxcContainerAt } from './world.js';
import { memberOf } from './cluster.js';
import { ONLINE } from '../core/observed.js';

/** The level at `path`, reachable for running `argv` there; throws as the nested exec would. */
export function reach(world: World, path: string, argv: readonly string[]): LevelState {
  let level = world.host;
  if (path === '') return level;
  for (const name of path.split('/')) {
    const lxc = level.lxd?.instances.some((i) => i.name === name) ? null : lxcContainerAt(level, name);
    if (lxc) {
      // lxc-attach to a container that is not running (LXC src/lxc/tools/lxc_attach.c).
      if (lxc.state !== 'RUNNING')
        throw new CommandError(
          ['lxc-attach', '-n', name, '--', ...argv],
          1,
          `lxc-attach: ${name}: ../src/lxc/tools/lxc_attach.c: main: 321 Container is not running\n`,
          path,
        );
      level = lxc.inside!;
      continue;
    }
    const lxd = activate(world, level, [cliOf(level), 'exec', name, '--', ...argv]);
    const inst = lxd.instances.find((i) => i.name === name);
    if (!inst) throw lxcFailure(path, argv, TEXT.instanceNotFound);
    if (inst.status !== 'Running') throw lxcFailure(path, argv, TEXT.notRunning);
    // The server forwards an exec to the instance's member; one that is not online does not answer (the simulator's wording).
    const member = level === world.host ? memberOf(world, inst) : null;
    if (member && member.status !== ONLINE)
      throw lxcFailure(path, argv, `Failed to connect to cluster member ${member.name}: member is ${member.status}`);
    level = inst.inside;
  }
  return level;
}
