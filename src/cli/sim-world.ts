// A simulated world under the real client: the host's LxdLevel is ExecLevel over the simulated
// machine, as it is ExecLevel over this machine's processes in a real run, so a simulation runs
// exactly the commands a real run would (and -v shows them). Every nested level is reached the
// same way, through `lxc exec` and `lxc-attach` answered by the machine inside.

import type { Flavour } from '../core/flavour/index.js';
import { ExecLevel } from '../adapters/lxd/level.js';
import type { LxdLevel } from '../ports/lxd.js';
import { type SimulatedWorld, simulatedWorldOf, simulateWorld, type World, type WorldDescription } from '../sim/index.js';

/** Sees every command the client runs: the level it runs at, and its argv there. */
export type SimTrace = (path: string, argv: readonly string[]) => void;

export interface SimWorld extends SimulatedWorld {
  /** The host's daemon through the client; `flavour` chooses it where LXD and Incus are both installed (host.flavour). */
  host(flavour?: Flavour | null, trace?: SimTrace): LxdLevel;
  /** The daemon at a level path ("" host, "c1/c2"), as host().child(...).child(...) with each daemon's flavour. */
  level(path: string, trace?: SimTrace): LxdLevel;
}

export function connectedWorld(world: SimulatedWorld): SimWorld {
  const host = (flavour: Flavour | null = null, trace?: SimTrace): LxdLevel =>
    new ExecLevel(world.machine(), '', trace ? { trace } : {}, flavour);
  return {
    ...world,
    host,
    level: (path, trace) => {
      const steps = world.route(path);
      if (!steps) throw new Error(`the simulated world has no level ${path}`);
      let level = host(world.hostFlavour(), trace);
      for (const step of steps) level = step.via === 'lxd' ? level.child(step.name, step.flavour) : level.lxcChild(step.name, step.user);
      return level;
    },
  };
}

export const createSimWorld = (desc: WorldDescription): SimWorld => connectedWorld(simulateWorld(desc));
export const simWorldOf = (world: World): SimWorld => connectedWorld(simulatedWorldOf(world));
