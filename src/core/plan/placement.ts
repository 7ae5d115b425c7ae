// Where a root container of a clustered remote lives: `target:` names a member, or `@group` any
// member of that group. Resolved against the members and the instance's `location` the remote's
// probe read (`/1.0/cluster/members`, the instances' `location`): a new container is created with
// `--target`, an existing one on another member (or, for a group, on a member outside it) is moved.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import type { ContainerSpec, HostSpec } from '../manifest/model.js';
import { clientOf } from '../flavour/index.js';
import { type ClusterMember, managedInstance, ONLINE, type ObservedInstance, type ObservedLevel } from '../observed.js';

export type Placement =
  /** No `target:`: the server chooses, and nothing is moved. */
  | { kind: 'anywhere' }
  /**
   * `target` as written; `member`: where it is or will be (for a new container on a group, the
   * member LXD is expected to choose); `candidates`: the members its tree must fit on (every
   * member of the group for a create there); `move`: from where to where, when it must move.
   */
  | { kind: 'placed'; target: string; member: string; candidates: string[]; move: { from: string; to: string } | null }
  /**
   * It is on a member of its target that is not online: nothing of it or inside it can be
   * reached (`lxc exec` goes through that member), so it is left as it is; `note` says so.
   */
  | { kind: 'unreachable'; member: string; status: string; note: string }
  | { kind: 'refused'; problem: Diagnostic };

const GROUP = '@';
/** A member `cluster evacuate` emptied: `cluster restore` brings it back. */
const EVACUATED = 'Evacuated';

/** The members a container may land on for `target` (null: no such member or group). */
function membersFor(target: string, members: readonly ClusterMember[]): ClusterMember[] | null {
  if (!target.startsWith(GROUP)) {
    const m = members.find((x) => x.name === target);
    return m ? [m] : null;
  }
  const group = target.slice(GROUP.length);
  const inGroup = members.filter((m) => m.groups.includes(group));
  return inGroup.length > 0 ? inGroup : null;
}

/** The member `inst` is on when that member is not online: nothing can reach into it there. */
export function offlineMember(level: Pick<ObservedLevel, 'cluster'>, inst: Pick<ObservedInstance, 'location'>): ClusterMember | null {
  const m = level.cluster?.members.find((x) => x.name === inst.location);
  return m && m.status !== ONLINE ? m : null;
}

/** The member LXD's placement picks among `candidates`: the online one holding the fewest instances (first in the list on a tie). */
export function leastLoaded(candidates: readonly ClusterMember[], obs: Pick<ObservedLevel, 'instances'>): ClusterMember {
  const online = candidates.filter((m) => m.status === ONLINE);
  const pool = online.length > 0 ? online : candidates;
  const load = (m: ClusterMember): number => obs.instances.filter((i) => i.location === m.name).length;
  return pool.reduce((best, m) => (load(m) < load(best) ? m : best));
}

export function placementOf(file: string, host: HostSpec, spec: ContainerSpec, obs: ObservedLevel | null): Placement {
  const target = spec.target;
  if (!target) return { kind: 'anywhere' };
  const refused = (message: string, hint: string): Placement => ({
    kind: 'refused',
    problem: { severity: 'error', fault: 'user', where: sourceAt(file, target.pos), message, hint },
  });
  const remote = host.place.kind === 'remote' ? `remote ${host.place.remote}` : 'this machine';
  const members = obs?.cluster?.members;
  if (!members) {
    return refused(
      `${spec.path} has target: ${target.value}, but ${remote} (host ${host.name}) is not a cluster (its /1.0 says server_clustered: false)`,
      `remove target: from ${spec.path}, or put it on a host whose remote is a cluster`,
    );
  }
  const fit = membersFor(target.value, members);
  if (!fit) {
    const groups = [...new Set(members.flatMap((m) => m.groups))].sort();
    const what = target.value.startsWith(GROUP)
      ? `no member of ${remote} is in group ${target.value.slice(GROUP.length)}`
      : `${remote} has no member ${target.value}`;
    return refused(
      `${spec.path} has target: ${target.value}, but ${what}`,
      `its members: ${members.map((m) => m.name).join(', ')}${groups.length > 0 ? `; its groups: ${groups.map((g) => GROUP + g).join(', ')}` : ''}`,
    );
  }
  const found = obs ? managedInstance(obs, spec.name) : undefined;
  const at = found?.location;
  const down = found ? offlineMember(obs!, found) : null;
  if (down && fit.includes(down)) {
    const note = `${spec.path} is on member ${down.name} of ${remote}, which is ${down.status}: ${spec.path} and the containers inside it were not seen and are left as they are; plan again once ${down.name} is online`;
    return { kind: 'unreachable', member: down.name, status: down.status, note };
  }
  if (at !== undefined && fit.some((m) => m.name === at))
    return { kind: 'placed', target: target.value, member: at, candidates: [at], move: null };
  const cli = (host.place.kind === 'remote' ? host.place.cli : null) ?? clientOf(host.flavour);
  const restore = (m: ClusterMember): string =>
    `${cli} cluster restore ${host.place.kind === 'remote' ? `${host.place.remote}:` : ''}${m.name}`;
  const online = fit.filter((m) => m.status === ONLINE);
  if (online.length === 0) {
    const state = fit.map((m) => `${m.name} is ${m.status}`).join(', ');
    const what = target.value.startsWith(GROUP)
      ? `no member of group ${target.value.slice(GROUP.length)} on ${remote} is online (${state})`
      : `member ${target.value} of ${remote} is not online (${state})`;
    const evacuated = fit.filter((m) => m.status === EVACUATED).map(restore);
    const up = members.filter((m) => m.status === ONLINE).map((m) => m.name);
    return refused(
      `${spec.path} has target: ${target.value}, but ${what}; ${found ? 'a move' : 'a create'} there would fail`,
      `${evacuated.length > 0 ? `bring it back (${evacuated.join('; ')}) or ` : ''}wait until it is online, ${up.length > 0 ? `or target an online member: ${up.join(', ')}` : `as no member of ${remote} is online now`}`,
    );
  }
  if (down) {
    return refused(
      `${spec.path} has target: ${target.value}, but it is on member ${down.name} of ${remote}, which is ${down.status}: it cannot be stopped and moved from there`,
      `wait until ${down.name} is online${down.status === EVACUATED ? ` (${restore(down)})` : ''}, or set target: ${down.name} to leave it there for now`,
    );
  }
  const member = leastLoaded(online, obs!).name;
  if (found) return { kind: 'placed', target: target.value, member, candidates: [member], move: { from: at ?? 'none', to: member } };
  return { kind: 'placed', target: target.value, member, candidates: online.map((m) => m.name), move: null };
}

/** Every member the root containers of this host are placed on, or may be: the ranges a plan must read there. */
export function placedMembers(file: string, host: HostSpec, specs: readonly ContainerSpec[], obs: ObservedLevel | null): string[] {
  const all = specs.flatMap((s) => {
    const p = placementOf(file, host, s, obs);
    return p.kind === 'placed' ? p.candidates : [];
  });
  return [...new Set(all)].sort();
}

/** What a move costs: the containers that stop while it moves. */
export function moveCost(path: string, running: boolean, nested: number): string {
  if (!running) return `${path} is stopped: moved with its files, nothing stops`;
  const inner = nested === 0 ? '' : ` and its ${nested} nested container${nested === 1 ? '' : 's'}`;
  return `stops ${path}${inner} while it moves; ${nested === 0 ? 'its' : 'their'} files move with ${path}'s rootfs`;
}
