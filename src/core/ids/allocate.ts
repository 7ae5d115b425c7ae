// The id arithmetic of a container tree, pure and deterministic.
//
// Bottom-up: a container's need is what its own root filesystem uses (65536 ids) plus the range
// its LXD must hand to its children. A level's daemon range must cover every non-isolated child
// (each gets the whole range) and the isolated slices, which LXD places from 65536 into the
// range onwards with a strict fit test (offset + size < range end), so slices need one block
// of headroom. Top-down, a Debian/Incus level's own range sits at 65536 in its id space; a snap
// level's range is what its namespace has from 100000 up (the snap ignores /etc/subuid), at
// least 65537 ids (kernelDefaultMap in lxd/idmap/idmapset_linux.go).

import { type Diagnostic, nodeAt } from '../diagnostics.js';
import { nestedOwnNeed } from '../flavour/index.js';
import type { ContainerSpec, HostSpec, Manifest } from '../manifest/model.js';
import { BLOCK, FIRST_SUBORDINATE_ID, LAST_ID, roundUpToBlock } from './range.js';

export interface NodeAllocation {
  path: string;
  name: string;
  isolated: boolean;
  /** Ids this container's own map must hold: itself plus its LXD's range. */
  need: number;
  /** Ids its LXD hands to its children (0 for a leaf). */
  daemonNeed: number;
  /** For isolated containers: the slice size (security.idmap.size) and its offset into the parent's range. */
  slice: { size: number; offset: number } | null;
  children: NodeAllocation[];
}

export interface Allocation {
  /** Ids the first host's LXD must hand out (its root entry's minimum size). */
  hostNeed: number;
  /** The same for every host, by name: root containers on different hosts share no daemon. */
  hostNeeds: Record<string, number>;
  nodes: NodeAllocation[];
  /** By path; paths are unique only within one host (the planner works on one host so far). */
  byPath: Record<string, NodeAllocation>;
}

export type AllocationResult =
  | { ok: true; allocation: Allocation }
  | { ok: false; problems: Diagnostic[] }; // the user's, at the container's node or the host section

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
    const daemonNeed = levelNeed(children);
    const need = children.length === 0 ? BLOCK : nestedOwnNeed(spec.flavour, daemonNeed);
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
      slice,
      children,
    };
    byPath[spec.path] = node;
    return node;
  };

  const hostNeeds: Record<string, number> = {};
  const nodeOf = new Map<ContainerSpec, NodeAllocation>();
  for (const host of manifest.hosts) {
    const specs = manifest.containers.filter((c) => c.host === host.name);
    const hostNodes = visitLevel(specs);
    specs.forEach((spec, i) => nodeOf.set(spec, hostNodes[i]!));
    const need = levelNeed(hostNodes);
    hostNeeds[host.name] = need;
    const hostProblem = hostRangeProblem(manifest.file, host, need);
    if (hostProblem) problems.push(hostProblem);
  }
  if (problems.length > 0) return { ok: false, problems };
  const nodes = manifest.containers.map((c) => nodeOf.get(c)!);
  return { ok: true, allocation: { hostNeed: hostNeeds[manifest.host.name] ?? 0, hostNeeds, nodes, byPath } };
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
    message: `the tree${host.section === "host" ? "" : ` on host ${host.name}`} needs ${hostNeed} host ids, which ${where} run past the last usable id ${LAST_ID}`,
    hint: room >= FIRST_SUBORDINATE_ID ? `choose ${host.section}.base at most ${room}` : 'make the isolated slices (idmap.size) smaller',
  };
}
