// What classic LXC containers need of their level's ids. LXC maps a container with lxc.idmap
// lines; nestctl writes one map per container:
//
// - a user's containers at a level share the user's subuid/subgid range (the map
//   ~USER/.config/lxc/default.conf gives every container lxc-create makes), so the range is the
//   largest need among them, as an LXD level's range covers its non-isolated children;
// - each root-owned container gets a slice of its own, like an isolated LXD container, but
//   outside the level daemon's range: LXD hands its whole range to every non-isolated container,
//   so any slice inside it would share ids with them. The slices follow each other;
// - a container's need is 65536 ids for itself plus, for LXC containers inside it (always
//   root-owned there), their slices, laid out in its own id space from 65536 on.
//
// Where the ranges go in a level's id space is decided at plan time against the observed subid
// files (core/plan/lxc-ranges.ts); this file only sizes them, so `validate` needs no host.

import type { LxcSpec, SourcePos } from '../manifest/model.js';
import { BLOCK } from './range.js';

export interface LxcAllocation {
  path: string;
  name: string;
  /** The account that runs it; null: root. */
  user: string | null;
  /** Ids its map holds: itself plus the slices of the LXC containers inside. */
  need: number;
  /** Its slice in its parent LXC container's id space; null at an LXD level or the host (placed at plan time). */
  slice: { start: number; size: number } | null;
  children: LxcAllocation[];
  pos: SourcePos;
}

/** What one level's LXC containers need beside its daemon's range. */
export interface LevelLxcNeed {
  /** Each user's range, in manifest order of the user's first container. */
  users: Array<{ user: string; size: number }>;
  /** Root-owned containers' slices, in manifest order. */
  root: Array<{ path: string; size: number }>;
  /** Every range above, summed: what the level's own ids must hold for them. */
  total: number;
}

export function visitLxc(spec: LxcSpec, byPath: Record<string, LxcAllocation>): LxcAllocation {
  let offset = BLOCK;
  const children = spec.containers.map((child) => {
    const inner = visitLxc(child, byPath);
    inner.slice = { start: offset, size: inner.need };
    offset += inner.need;
    return inner;
  });
  const node: LxcAllocation = { path: spec.path, name: spec.name, user: spec.user, need: offset, slice: null, children, pos: spec.pos };
  byPath[spec.path] = node;
  return node;
}

export function levelLxcNeed(nodes: LxcAllocation[]): LevelLxcNeed {
  const users: LevelLxcNeed['users'] = [];
  const root: LevelLxcNeed['root'] = [];
  for (const n of nodes) {
    if (n.user === null) {
      root.push({ path: n.path, size: n.need });
      continue;
    }
    const had = users.find((u) => u.user === n.user);
    if (had) had.size = Math.max(had.size, n.need);
    else users.push({ user: n.user, size: n.need });
  }
  const total = [...users, ...root].reduce((sum, r) => sum + r.size, 0);
  return { users, root, total };
}
