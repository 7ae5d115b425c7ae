// --target PATH: keep the steps about that subtree plus every step they depend on (which is
// exactly what the ancestors must do for it), drop the rest. One exception: a container inside
// the subtree whose delete follows its parent's (core/plan/steps/delete.ts) does not bring in the
// delete of a container outside it; without it, its step deletes it itself. The rename of a
// container around the subtree (moved:) is kept: the subtree has its path only once it is done.
// The same closure picks the part of a plan made after the rest (copies waiting for their source).

import type { DeferredCopy, Plan, Step } from './model.js';

/** The node or level a step is about. */
export function subject(step: Step): string {
  return 'path' in step ? step.path : step.level;
}

export const within = (path: string, target: string): boolean => path === target || path.startsWith(`${target}/`);

export function targetPlan(plan: Plan, target: string): Plan {
  const part = withDependencies(plan, (s) => within(subject(s), target) || (s.kind === 'rename-instance' && within(target, s.path)), [
    target,
  ]);
  return {
    ...part,
    target,
    ...(plan.deferred ? { deferred: plan.deferred.filter((d) => within(d.path, target)) } : {}),
    warnings: [
      ...plan.warnings,
      `targeting ${target}: this plan covers only ${target}, its subtree and what its ancestors must do for it; the rest of the tree may not match the manifest`,
    ],
  };
}

/**
 * The part of a plan made after the rest (Plan.deferred): the steps about the deferred copies
 * and what they depend on, planned once their sources run.
 */
export function deferredPart(plan: Plan, deferred: readonly DeferredCopy[]): Plan {
  const about = (s: Step, d: DeferredCopy): boolean => s.host === d.host && within(subject(s), d.path);
  return withDependencies(
    plan,
    (s) => deferred.some((d) => about(s, d)),
    deferred.map((d) => d.path),
  );
}

/** The steps `keep` picks and every step they depend on; `targets`: the subtrees they are about. */
function withDependencies(plan: Plan, pick: (s: Step) => boolean, targets: readonly string[]): Plan {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const keep = new Set<string>();
  const inside = (path: string): boolean => targets.some((t) => within(path, t));
  const add = (id: string): void => {
    if (keep.has(id)) return;
    keep.add(id);
    const step = byId.get(id);
    for (const d of step?.dependsOn ?? []) {
      const dep = byId.get(d);
      if (step?.kind === 'delete-instance' && dep?.kind === 'delete-instance' && !inside(dep.path)) continue;
      add(d);
    }
  };
  for (const s of plan.steps) if (pick(s)) add(s.id);
  return {
    ...plan,
    steps: plan.steps.filter((s) => keep.has(s.id)).map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => keep.has(d)) })),
  };
}
