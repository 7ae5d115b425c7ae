// An existing child made to run: started when it is stopped, restarted when its daemon applies
// what changed only at start (a new id map, security.nesting turned on: core/flavour/start-keys.ts)
// or its map must grow to the level's range.

import { daemonName, IDMAP_KEYS, startOnlyChanges } from '../../../flavour/index.js';
import { parseLxdIdmap } from '../../../ids/idmap.js';
import type { IdRange } from '../../../ids/range.js';
import { lxdTrue } from '../../../manifest/config-keys.js';
import type { ObservedInstance, ObservedTree } from '../../../observed.js';
import { joinPath } from '../../../paths.js';
import type { ConfigChanges } from '../../config-drift.js';
import type { LevelChild } from '../../level-context.js';
import { pre } from '../../level-context.js';
import type { Step } from '../../model.js';
import { restartInstanceStep, startInstanceStep } from '../../steps/instance.js';
import { type ChildInput, stepAt } from './child.js';

type Growth = { from: IdRange; to: IdRange };

/** The start or restart of an existing child after `after` (its update or move), if it needs one. */
export function startSteps(
  c: ChildInput,
  existing: ObservedInstance,
  changes: ConfigChanges,
  moved: boolean,
  after: string[],
): { step: Step | null; grows: boolean; restarted: boolean } {
  const startKeys = startOnlyChanges(changes.before, changes.set, changes.unset);
  const remapKeys = startKeys.filter((k) => IDMAP_KEYS.includes(k));
  const grow = remapKeys.length > 0 || moved ? null : growth(c.child, existing.config);
  const running = existing.status === 'Running';
  const at = (reason: string) => stepAt(c, [...c.deps, ...after], reason, pre(c.ctx, { kind: 'instance-status', status: existing.status }));
  if (grow || (running && (startKeys.length > 0 || remapPending(existing.config)))) {
    const step = restartInstanceStep(at(restartReason(c, grow, startKeys)), {
      hosting: c.hosting,
      waitBoot: c.waitBoot,
      keys: startKeys,
      grow,
      inside: running ? runningInside(c.ctx.input.tree, c.child.spec.path) : 0,
    });
    return { step, grows: grow !== null, restarted: running };
  }
  const step = running
    ? null
    : startInstanceStep(at(`${c.child.spec.path} is ${existing.status.toLowerCase()}`), { hosting: c.hosting, waitBoot: c.waitBoot });
  return { step, grows: false, restarted: false };
}

function restartReason(c: ChildInput, grow: Growth | null, startKeys: string[]): string {
  const { path } = c.child.spec;
  const daemon = daemonName(c.ctx.flavour);
  const remapKeys = startKeys.filter((k) => IDMAP_KEYS.includes(k));
  const otherKeys = startKeys.filter((k) => !IDMAP_KEYS.includes(k));
  const why = [
    ...(grow
      ? [
          `${c.ctx.label}'s ${daemon} hands out ${grow.to.size} ids from ${grow.to.start}; ${path} maps ${grow.from.size}, and ${daemon} computes a map again only when an idmap key changes`,
        ]
      : []),
    ...(remapKeys.length > 0 ? [`${daemon} applies the new id map (${remapKeys.join(', ')}) only when ${path} starts again`] : []),
    ...(otherKeys.length > 0
      ? [
          `${otherKeys.join(', ')} ${otherKeys.length === 1 ? 'is' : 'are'} set while ${path} runs, and ${daemon} applies ${otherKeys.length === 1 ? 'it' : 'them'} only at a start`,
        ]
      : []),
  ];
  return why.length > 0 ? why.join('; ') : `${path} has a new id map waiting for its next start`;
}

/** Containers seen running inside container `path`, at every depth (LXD's and classic LXC's): they stop when it does. */
export function runningInside(tree: ObservedTree, path: string): number {
  const seen = tree.levels[path];
  if (seen?.kind !== 'observed') return 0;
  const lxc = Object.values(seen.level.lxc?.owners ?? {}).flatMap((o) => o.containers.filter((c) => c.state === 'RUNNING'));
  return (
    lxc.length +
    seen.level.instances.filter((i) => i.status === 'Running').reduce((n, i) => n + 1 + runningInside(tree, joinPath(path, i.name)), 0)
  );
}

/** LXD computed a new map (volatile.idmap.next) that the running container does not use yet. */
export function remapPending(config: Record<string, string>): boolean {
  const next = config['volatile.idmap.next'];
  const current = config['volatile.idmap.current'];
  if (!next || !current) return false;
  return JSON.stringify(parseLxdIdmap(next)) !== JSON.stringify(parseLxdIdmap(current));
}

/**
 * A non-isolated container's map is a copy of its daemon's whole range (findIdmap in LXD's and
 * Incus's driver_lxc.go), taken when it is created or an idmap key changes. When the level's
 * range grew from the same start, the container must take the larger map. Other differences (a
 * moved start, a shrink, raw.idmap, a size of its own) are not planned here.
 */
export function growth(child: LevelChild, config: Record<string, string>): Growth | null {
  if (child.alloc.slice || lxdTrue(config['security.privileged'] ?? '') || config['raw.idmap'] || config['security.idmap.size'])
    return null;
  const stored = config['volatile.idmap.next'] ?? config['volatile.idmap.current'];
  const uid = parseLxdIdmap(stored).filter((e) => e.isuid);
  if (uid.length !== 1) return null;
  const from = { start: uid[0]!.hostid, size: uid[0]!.maprange };
  const to = child.map;
  return from.start === to.start && from.size < to.size ? { from, to } : null;
}
