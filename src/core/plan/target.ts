// --target PATH: keep the steps about that subtree plus every step they depend on (which is
// exactly what the ancestors must do for it), drop the rest. One exception: a container inside
// the subtree whose delete follows its parent's (core/plan/steps/delete.ts) does not bring in the
// delete of a container outside it; without it, its step deletes it itself. The rename of a
// container around the subtree (moved:) is kept: the subtree has its path only once it is done.

import type { Plan, Step } from './model.js';

/** The node or level a step is about. */
function subject(step: Step): string {
  return 'path' in step ? step.path : step.level;
}

const within = (path: string, target: string): boolean => path === target || path.startsWith(`${target}/`);

export function targetPlan(plan: Plan, target: string): Plan {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const keep = new Set<string>();
  const add = (id: string): void => {
    if (keep.has(id)) return;
    keep.add(id);
    const step = byId.get(id);
    for (const d of step?.dependsOn ?? []) {
      const dep = byId.get(d);
      if (step?.kind === 'delete-instance' && dep?.kind === 'delete-instance' && !within(dep.path, target)) continue;
      add(d);
    }
  };
  // The target's path exists only once a container around it the plan renames is renamed.
  for (const s of plan.steps) if (within(subject(s), target) || (s.kind === 'rename-instance' && within(target, s.path))) add(s.id);
  return {
    ...plan,
    target,
    steps: plan.steps.filter((s) => keep.has(s.id)).map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => keep.has(d)) })),
    warnings: [
      ...plan.warnings,
      `targeting ${target}: this plan covers only ${target}, its subtree and what its ancestors must do for it; the rest of the tree may not match the manifest`,
    ],
  };
}
