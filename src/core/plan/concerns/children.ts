// One child of a level: created (after deleting a half-made create of nestctl's own, or the
// container it replaces), or brought to the manifest's config and cluster member and started; a
// running child is restarted when its daemon applies what changed only at start; a child renamed
// in the manifest (`moved:`) is renamed first. The parts are
// in children/.

import { type ObservedInstance, managedInstance } from '../../observed.js';
import { MARKER_MANAGED } from '../desired-config.js';
import { halfMade } from '../half-made.js';
import type { LevelChild, LevelContext } from '../level-context.js';
import { adoptionProblem } from './children/adopt.js';
import { type ChildInput, type ChildResult, childInput, childResult } from './children/child.js';
import { copySteps } from './children/copy.js';
import { createSteps } from './children/create.js';
import { placementProblems } from './children/placement.js';
import { afterRename, renameStep } from './children/rename.js';
import { replacement } from './children/replace.js';
import { startSteps } from './children/restart.js';
import { configUpdate, moveStep } from './children/update.js';
import type { ResolvedImages } from './images.js';

export type { ChildResult } from './children/child.js';

/** `deps`: what the child's first step waits for (daemon ready, its image, an earlier isolated sibling). */
export function childSteps(ctx: LevelContext, child: LevelChild, images: ResolvedImages, deps: string[]): ChildResult {
  if (child.placement.kind === 'unreachable') return childResult({ warnings: [child.placement.note], unplaced: true });
  const placed = placementProblems(ctx, child);
  if (placed.length > 0) return childResult({ problems: placed, unplaced: true });
  const c = childInput(ctx, child, images, deps);
  const rename = ctx.input.renames?.get(child.spec.path);
  if (!rename) return foundSteps(c);
  const step = renameStep(c, rename);
  return afterRename(step, rename, foundSteps({ ...c, deps: [step.id] }));
}

/** The child as found (in a renamed container's case, as it is once renamed). */
function foundSteps(c: ChildInput): ChildResult {
  const { ctx, child, images } = c;
  const found = (ctx.obs && managedInstance(ctx.obs, child.spec.name)) ?? null;
  if (found === null) return child.spec.copyOf ? copySteps(c) : createSteps(c, { kind: 'nothing' });
  if (halfMade(found, child.spec.path)) return createSteps(c, { kind: 'half-made', found });
  const replacing = replacement(ctx, child, found, images);
  if (replacing === null) return existingSteps(c, found);
  return replacing.ok ? createSteps(c, { kind: 'replaced', replacing }) : childResult({ problems: [replacing.problem] });
}

/** A child that exists and is kept: adopted if it is not nestctl's yet, updated, moved, started or restarted. */
function existingSteps(c: ChildInput, existing: ObservedInstance): ChildResult {
  const adopting = existing.config[MARKER_MANAGED] !== 'true';
  const refused = adopting ? adoptionProblem(c.ctx, c.child.spec, existing, c.config, c.images) : null;
  if (refused) return childResult({ problems: [refused] });
  const update = configUpdate(c, existing, adopting);
  const updated = update.step ? [update.step] : [];
  const move = moveStep(
    c,
    existing,
    updated.map((s) => s.id),
  );
  // The move's start applies whatever map waits (the new member's); a stopped one is started next.
  if (move && existing.status === 'Running') return childResult({ steps: [...updated, move], running: move.id });
  const moved = move ? [move] : [];
  const start = startSteps(
    c,
    existing,
    update.changes,
    move !== null,
    (move ? moved : updated).map((s) => s.id),
  );
  return childResult({
    steps: [...updated, ...moved, ...(start.step ? [start.step] : [])],
    running: start.step?.id ?? null,
    grows: start.grows,
    restarted: start.restarted,
  });
}
