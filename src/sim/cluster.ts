// A simulated cluster: the server's machine holds every root container, each on a member
// (`location`) whose daemon hands out its own map. Placement at create (`--target MEMBER` or
// `@GROUP`, else the member with the fewest instances, as LXD's default placement does) and a
// stopped move (`lxc move --target`): the member receiving it computes its map again, applied
// (the rootfs shifted) at its next start; the levels inside keep their maps, which lie inside the
// container's own ids.

import { ONLINE } from '../core/observed.js';
import { entry, idmapToJson, type LxdIdmapEntry } from './idmap.js';
import { isTrue } from './find-idmap.js';
import { lxcFailure, TEXT } from './errors.js';
import type { InstanceState, LxdState, SimMember, World } from './state.js';

/** The daemon map of a member: its own range, or what the machine's daemon loaded. */
export function memberIdmap(lxd: LxdState, member: SimMember): LxdIdmapEntry[] | null {
  if (member.range) return [entry('u', 0, member.range.start, member.range.size), entry('g', 0, member.range.start, member.range.size)];
  return lxd.daemon.kind === 'up' ? lxd.daemon.idmap : null;
}

/** The member a new instance lands on, or LXD's refusal. */
export function placeNew(world: World, lxd: LxdState, target: string | undefined, argv: readonly string[]): SimMember | null {
  const members = world.cluster?.members;
  if (!members) {
    if (target !== undefined) throw lxcFailure('', argv, 'Target only allowed when clustered');
    return null;
  }
  const fit =
    target === undefined
      ? members
      : target.startsWith('@')
        ? members.filter((m) => m.groups.includes(target.slice(1)))
        : members.filter((m) => m.name === target);
  if (fit.length === 0)
    throw lxcFailure(
      '',
      argv,
      target?.startsWith('@')
        ? `No suitable cluster member could be found in group "${target.slice(1)}"`
        : `Failed to get cluster member "${target ?? ''}"`,
    );
  const online = fit.filter((m) => m.status === ONLINE);
  const pool = online.length > 0 ? online : fit;
  const load = (m: SimMember): number => lxd.instances.filter((i) => i.location === m.name).length;
  return pool.reduce((best, m) => (load(m) < load(best) ? m : best));
}

/** The member an instance is on (null off-cluster). */
export function memberOf(world: World, inst: Pick<InstanceState, 'location'>): SimMember | null {
  return world.cluster?.members.find((m) => m.name === inst.location) ?? null;
}

/** `lxc move NAME --target MEMBER` of a stopped instance: its next map is the new member's. */
export function moveInstance(world: World, lxd: LxdState, inst: InstanceState, target: string, argv: readonly string[]): void {
  const member = world.cluster?.members.find((m) => m.name === target);
  if (!member) throw lxcFailure('', argv, `Failed to get cluster member "${target}"`);
  if (inst.status === 'Running') throw lxcFailure('', argv, 'Instance is running; stop it first (this simulator has no live migration)');
  const map = memberIdmap(lxd, member);
  if (!map) throw lxcFailure('', argv, `${TEXT.invalidConfig}: member ${target} has no uid/gid allocation`);
  inst.location = member.name;
  // A shared (non-isolated) container takes the member's whole map, as findIdmap gives it.
  if (!isTrue(inst.config['security.privileged']) && !isTrue(inst.config['security.idmap.isolated']))
    inst.config['volatile.idmap.next'] = idmapToJson(map);
}
