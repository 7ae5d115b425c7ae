// An existing child brought to the manifest: its config and profiles, then its cluster member.

import type { ContainerSpec, LxcSpec } from '../../../manifest/model.js';
import type { ObservedInstance } from '../../../observed.js';
import { type ConfigChanges, configChanges } from '../../config-drift.js';
import { impliedReasons, markers } from '../../desired-config.js';
import { pre } from '../../level-context.js';
import type { Step } from '../../model.js';
import { runningInside } from '../../moves.js';
import { moveCost } from '../../placement.js';
import { moveInstanceStep, updateConfigStep } from '../../steps/instance.js';
import { type ChildInput, stepAt, withImplied } from './child.js';

/** The changes that bring the child's config to the manifest, and the update-config step that makes them, if any. */
export function configUpdate(c: ChildInput, existing: ObservedInstance, adopting: boolean): { changes: ConfigChanges; step: Step | null } {
  const { spec, alloc } = c.child;
  // An adopted container is nestctl's from now on: its markers are set and its config owned.
  const changes = configChanges(existing.config, adopting ? { ...c.config, ...markers(spec) } : c.config, spec.ignoreChanges, true);
  const { set, unset, before } = changes;
  const profilesDiffer = existing.profiles.join('\n') !== spec.profiles.join('\n');
  if (Object.keys(set).length === 0 && unset.length === 0 && !profilesDiffer) return { changes, step: null };
  const reason =
    unset.length > 0
      ? `${spec.path} carries config the manifest does not name (set by hand?): removed${Object.keys(set).length > 0 || profilesDiffer ? ', and the rest brought to the manifest' : ''}`
      : `${spec.path}'s config differs from the manifest`;
  // After the level's daemon restart: idmap keys are checked against the range it loads.
  const at = stepAt(c, c.deps, reason, pre(c.ctx, { kind: 'instance-config', config: existing.config, profiles: existing.profiles }));
  const step = updateConfigStep(at, {
    set,
    unset,
    before,
    ...withImplied(impliedReasons(spec, alloc, Object.keys(set))),
    profiles: profilesDiffer ? { before: existing.profiles, after: spec.profiles } : null,
  });
  return { changes, step };
}

/** The move of a root container to the cluster member its `target:` names, after `after`; null when it is there. */
export function moveStep(c: ChildInput, existing: ObservedInstance, after: string[]): Step | null {
  const { placement, spec } = c.child;
  const move = placement.kind === 'placed' ? placement.move : null;
  if (!move) return null;
  const running = existing.status === 'Running';
  const stops = running ? [spec.path, ...inside(spec)] : [];
  const reason = `${spec.path} is on member ${move.from}, not on its target ${c.target}: ${moveCost(spec.path, running, stops.length - 1)}`;
  return moveInstanceStep(stepAt(c, [...c.deps, ...after], reason, pre(c.ctx, { kind: 'instance-status', status: existing.status })), {
    from: move.from,
    to: move.to,
    running,
    stops,
    inside: running ? runningInside(c.ctx.input.tree.levels, spec.path) : [],
  });
}

/** The manifest's containers inside `spec`, LXD and LXC, at every depth. */
function inside(spec: ContainerSpec | LxcSpec): string[] {
  const kids: Array<ContainerSpec | LxcSpec> = 'runtime' in spec ? spec.containers : [...spec.containers, ...spec.lxc];
  return kids.flatMap((k) => [k.path, ...inside(k)]);
}
