// The deletion rule (core/plan/deletion.ts) on a container as it is at the moment apply deletes
// it: its whole inside is probed again, level by level, its classic LXC containers of every
// owner included, because `delete --force` takes everything in it along. Nothing the plan did not
// list may go with it.

import { markedPath } from '../core/lxc/paths.js';
import type { LevelObservation, ObservedInstance, ObservedLevel, ObservedTree } from '../core/observed.js';
import { MANAGED_PROJECT } from '../core/observed.js';
import { type Deletion, deletionVerdict, holdsLxc } from '../core/plan/deletion.js';
import { MARKER_PATH } from '../core/plan/desired-config.js';
import { joinPath } from '../core/paths.js';
import type { LxdLevel } from '../ports/lxd.js';
import { probeInside, withLxc } from './observe.js';

/**
 * The verdict on `live` (an instance of the level at `levelPath`, reached through `level`) from
 * a fresh look at everything inside it. `planned`: the paths the plan deletes and the LXC
 * containers (lxcLabel) its steps take along; a deletable container inside that is not among
 * them keeps the whole subtree.
 */
export async function deletionNow(
  level: LxdLevel,
  levelPath: string,
  live: ObservedInstance,
  planned: ReadonlySet<string>,
): Promise<Deletion> {
  const levels: Record<string, LevelObservation> = {};
  await observeSubtree(level, levelPath, live, levels);
  const d = deletionVerdict({ levels } satisfies ObservedTree, levelPath, live);
  if (d.verdict === 'keep') return d;
  const unlisted = (lxc: string[]): string[] => lxc.filter((l) => !planned.has(l));
  const unplanned = [
    ...unlisted(d.lxc),
    ...d.inner.flatMap(function all(i): string[] {
      return [...(planned.has(i.path) ? [] : [i.path]), ...unlisted(i.lxc), ...i.inner.flatMap(all)];
    }),
  ];
  if (unplanned.length === 0) return d;
  return { verdict: 'keep', level: d.level, name: d.name, path: d.path, reason: { kind: 'holds', kept: unplanned } };
}

/** Probes the inside of `inst` and of every running container of nestctl's in it, siblings in parallel. */
async function observeSubtree(
  level: LxdLevel,
  levelPath: string,
  inst: ObservedInstance,
  levels: Record<string, LevelObservation>,
): Promise<void> {
  const path = joinPath(levelPath, inst.name);
  if (inst.project !== MANAGED_PROJECT || inst.config[MARKER_PATH] !== path || inst.status !== 'Running') return;
  const child = level.child(inst.name, null);
  const inside = await probeInside(child);
  levels[path] = inside;
  if (inside.kind !== 'observed') return;
  const seen = inside.level;
  // Its LXC facts are read beside the levels below it, which need only its instances.
  await Promise.all([
    withLxc(child, seen, [], true).then((level) => {
      inside.level = level;
      return observeLxcSubtree(child, path, level, levels);
    }),
    ...(seen.daemon.kind === 'up' ? seen.instances.map((i) => observeSubtree(child, path, i, levels)) : []),
  ]);
}

/** Probes the inside of each running LXC container of nestctl's at `level` that may hold LXC containers (the rule looks in those). */
async function observeLxcSubtree(
  api: LxdLevel,
  path: string,
  level: ObservedLevel,
  levels: Record<string, LevelObservation>,
): Promise<void> {
  const owners = Object.entries(level.lxc?.owners ?? {});
  await Promise.all(
    owners.flatMap(([owner, o]) =>
      o.containers
        .filter((c) => c.state === 'RUNNING' && markedPath(c.config.text) === joinPath(path, c.name) && holdsLxc(c.config.text))
        .map(async (c) => {
          const at = joinPath(path, c.name);
          const child = api.lxcChild(c.name, owner === 'root' ? null : owner);
          const inside = await probeInside(child);
          levels[at] = inside;
          if (inside.kind !== 'observed') return;
          inside.level = await withLxc(child, inside.level, [], true);
          await observeLxcSubtree(child, at, inside.level, levels);
        }),
    ),
  );
}
