// A remote server's own machine as the simulated server (remote.ts) acts on it: its root
// containers moved between members, and images relayed into its store.

import { moveInstance, placeNew } from './cluster.js';
import { receiveRelayed } from './images.js';
import type { SimMachine } from './remote.js';
import type { SimulatedWorld } from './sim-world.js';
import type { World } from './state.js';
import { record, tick } from './world.js';

/** The remote machine's root containers as the simulated server acts on them: moves between members, placement, membership. */
export function serverMachine(sim: SimulatedWorld): SimMachine {
  const world = (): World => sim.state();
  return {
    has: (name) => world().host.lxd?.instances.some((i) => i.name === name) ?? false,
    move: (name, member) => {
      const lxd = world().host.lxd!;
      const inst = lxd.instances.find((i) => i.name === name)!;
      moveInstance(world(), lxd, inst, member ?? '', ['lxc', 'move', name, '--target', member ?? '']);
      tick(world());
      record(world(), '', 'move', `${name} to ${member ?? ''}`);
    },
    members: () => (world().cluster?.members ?? []).map((m) => ({ server_name: m.name, status: m.status, groups: [...m.groups] })),
    place: () => (world().host.lxd ? (placeNew(world(), world().host.lxd!, undefined, ['lxc', 'init'])?.name ?? null) : null),
  };
}

/** `lxc image copy FP REMOTE: --mode relay`: the image as `from`'s host holds it, into `to`'s host store. */
export function relayedInto(from: SimulatedWorld, to: SimulatedWorld, fingerprint: string, aliases: readonly string[]): void {
  receiveRelayed(from.state(), to.state(), fingerprint, aliases);
}
