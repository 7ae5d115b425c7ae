// The id arithmetic of a container tree, pure and deterministic.
//
// Bottom-up: a container's need is what its own root filesystem uses (65536 ids) plus the range
// its LXD must hand to its children, plus, with docker.userns_remap, the range Docker's dockremap
// user runs its containers on (laid out after the children's range). A level's daemon range must cover every non-isolated child
// (each gets the whole range) and the isolated slices, which LXD places from 65536 into the
// range onwards with a strict fit test (offset + size < range end), so slices need one block
// of headroom. Top-down, a Debian/Incus level's own range sits at 65536 in its id space; a snap
// level's range is what its namespace has from 100000 up (the snap ignores /etc/subuid), at
// least 65537 ids (kernelDefaultMap in lxd/idmap/idmapset_linux.go).

import { type Diagnostic, nodeAt } from '../diagnostics.js';
import { nestedOwnNeed } from '../flavour/index.js';
import type { ContainerSpec, HostSpec, LxcSpec, Manifest } from '../manifest/model.js';
import { type LevelLxcNeed, type LxcAllocation, levelLxcNeed, visitLxc } from './lxc-need.js';
import { BLOCK, FIRST_SUBORDINATE_ID, type IdRange, LAST_ID, roundUpToBlock } from './range.js';

export interface NodeAllocation {
  path: string;
  name: string;
  isolated: boolean;
  /** Ids this container's own map must hold: itself plus its LXD's range. */
  need: number;
  /** Ids its LXD hands to its children (0 for a leaf). */
  daemonNeed: number;
  /** docker.userns_remap: dockremap's range in the container's own id space, after root's own ids and its children's range. */
  dockremap: IdRange | null;
  /** For isolated containers: the slice size (security.idmap.size) and its offset into the parent's range. */
  slice: { size: number; offset: number } | null;
  children: NodeAllocation[];
  /** The classic LXC containers run inside it, and what they need of its ids beside its LXD's range. */
  lxc: LxcAllocation[];
  lxcNeed: LevelLxcNeed;
}

export interface Allocation {
  /** Ids the first host's LXD must hand out (its root entry's minimum size). */
  hostNeed: number;
  /** The same for every host, by name: root containers on different hosts share no daemon. */
  hostNeeds: Record<string, number>;
  nodes: NodeAllocation[];
  /** By path; paths are unique only within one host (the planner works on one host so far). */
  byPath: Record<string, NodeAllocation>;
  /** The first host's own LXC containers and what they need of its ids (the planner works on one host). */
  hostLxc: LxcAllocation[];
  hostLxcNeed: LevelLxcNeed;
  lxcByPath: Record<string, LxcAllocation>;
}

export type AllocationResult = { ok: true; allocation: Allocation } | { ok: false; problems: Diagnostic[] }; // the user's, at the container's node or the host section

/** Range a level's daemon needs for the given child allocations (0 without children). */
export function levelNeed(children: NodeAllocation[]): number {
  let shared = 0;
  let isolatedEnd = 0;
  for (const c of children) {
    if (c.slice) isolatedEnd = Math.max(isolatedEnd, c.slice.offset + c.slice.size);
    else shared = Math.max(shared, c.need);
  }
  // Strict fit: the last slice must end strictly before the range does.
  const forIsolated = isolatedEnd > 0 ? roundUpToBlock(isolatedEnd + 1) : 0;
  return Math.max(shared, forIsolated);
}

export function allocate(manifest: Manifest): AllocationResult {
  const problems: Diagnostic[] = [];
  const byPath: Record<string, NodeAllocation> = {};
  const lxcByPath: Record<string, LxcAllocation> = {};
  const lxcLevel = (specs: LxcSpec[]): LxcAllocation[] => specs.map((spec) => visitLxc(spec, lxcByPath));

  const visitLevel = (specs: ContainerSpec[]): NodeAllocation[] => {
    let offset = BLOCK;
    return specs.map((spec) => {
      const node = visit(spec, offset);
      if (node.slice) offset = node.slice.offset + node.slice.size;
      return node;
    });
  };

  const visit = (spec: ContainerSpec, sliceOffset: number): NodeAllocation => {
    const children = visitLevel(spec.containers);
    const lxc = lxcLevel(spec.lxc);
    // A container that runs only LXC containers still gets a range for the LXD its image brings,
    // so that LXD is planned as on any level (its init, its root entry) rather than left half set up.
    const daemonNeed = Math.max(levelNeed(children), children.length === 0 && lxc.length > 0 ? BLOCK : 0);
    const lxcNeed = levelLxcNeed(lxc);
    // Root's own ids, then its LXD's range, then dockremap's, then the LXC containers' ranges
    // (lxc-need.ts; placed clear of the others by plan/lxc-ranges.ts): parts of the map that never overlap.
    const ownAndDaemon = children.length === 0 && lxc.length === 0 ? BLOCK : nestedOwnNeed(spec.flavour, daemonNeed);
    const dockremap = spec.dockerRemap === null ? null : { start: ownAndDaemon, size: spec.dockerRemap };
    const need = ownAndDaemon + (dockremap?.size ?? 0) + lxcNeed.total;
    let slice: NodeAllocation['slice'] = null;
    if (spec.idmap?.isolated) {
      const size = spec.idmap.size ?? roundUpToBlock(need);
      if (size < need) {
        problems.push({
          severity: 'error',
          fault: 'user',
          where: nodeAt(manifest.file, spec.path, spec.pos),
          message: `${spec.path} is isolated with idmap.size ${size}, but it and its children need ${need} ids`,
          hint: `set idmap.size to at least ${roundUpToBlock(need)} (or leave it out and nestctl sizes the slice)`,
        });
      }
      slice = { size, offset: sliceOffset };
    }
    const node: NodeAllocation = {
      path: spec.path,
      name: spec.name,
      isolated: Boolean(spec.idmap?.isolated),
      need,
      daemonNeed,
      dockremap,
      slice,
      children,
      lxc,
      lxcNeed,
    };
    byPath[spec.path] = node;
    return node;
  };

  const hostNeeds: Record<string, number> = {};
  const nodeOf = new Map<ContainerSpec, NodeAllocation>();
  const lxcOf = new Map<string, { lxc: LxcAllocation[]; need: LevelLxcNeed }>();
  for (const host of manifest.hosts) {
    const specs = manifest.containers.filter((c) => c.host === host.name);
    const hostNodes = visitLevel(specs);
    for (const [i, spec] of specs.entries()) nodeOf.set(spec, hostNodes[i]!);
    const lxc = lxcLevel(manifest.lxc.filter((l) => l.host === host.name));
    const lxcNeed = levelLxcNeed(lxc);
    lxcOf.set(host.name, { lxc, need: lxcNeed });
    // A daemon range of 0 ids is no range: a host with only LXC containers still gives its LXD
    // one block, as a container that runs only LXC does.
    const need = Math.max(levelNeed(hostNodes), hostNodes.length === 0 && lxc.length > 0 ? BLOCK : 0);
    hostNeeds[host.name] = need;
    const hostProblem = hostRangeProblem(manifest.file, host, need + lxcNeed.total);
    if (hostProblem) problems.push(hostProblem);
  }
  problems.push(...lxcRangeProblems(manifest, Object.values(lxcByPath)));
  if (problems.length > 0) return { ok: false, problems };
  const nodes = manifest.containers.map((c) => nodeOf.get(c)!);
  const first = lxcOf.get(manifest.host.name)!;
  return {
    ok: true,
    allocation: {
      hostNeed: hostNeeds[manifest.host.name] ?? 0,
      hostNeeds,
      nodes,
      byPath,
      hostLxc: first.lxc,
      hostLxcNeed: first.need,
      lxcByPath,
    },
  };
}

/** An LXC container's map, like any, must end at LAST_ID at the latest. */
function lxcRangeProblems(manifest: Manifest, nodes: LxcAllocation[]): Diagnostic[] {
  return nodes
    .filter((n) => n.need - 1 + FIRST_SUBORDINATE_ID > LAST_ID)
    .map((n) => ({
      severity: 'error' as const,
      fault: 'user' as const,
      where: nodeAt(manifest.file, n.path, n.pos),
      message: `LXC container ${n.path} and the LXC containers inside it need ${n.need} ids, more than a map can hold`,
      hint: 'nest fewer LXC containers inside it',
    }));
}

/** The host range must end at LAST_ID at the latest, wherever it starts. */
function hostRangeProblem(file: string, host: HostSpec, hostNeed: number): Diagnostic | null {
  const start = host.base ?? FIRST_SUBORDINATE_ID;
  const last = start + hostNeed - 1;
  if (Number.isSafeInteger(last) && last <= LAST_ID) return null;
  const where = host.base === null ? `even from the lowest base ${FIRST_SUBORDINATE_ID}` : `from ${host.section}.base ${start}`;
  const room = LAST_ID + 1 - hostNeed;
  return {
    severity: 'error',
    fault: 'user',
    where: nodeAt(file, '', host.pos),
    message: `the tree${host.section === 'host' ? '' : ` on host ${host.name}`} needs ${hostNeed} host ids, which ${where} run past the last usable id ${LAST_ID}`,
    hint: room >= FIRST_SUBORDINATE_ID ? `choose ${host.section}.base at most ${room}` : 'make the isolated slices (idmap.size) smaller',
  };
}
