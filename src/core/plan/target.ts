// --target PATH: keep the steps about that subtree plus every step they depend on (which is
// exactly what the ancestors must do for it), drop the rest.

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
    for (const d of byId.get(id)?.dependsOn ?? []) add(d);
  };
  for (const s of plan.steps) if (within(subject(s), target)) add(s.id);
  return {
    ...plan,
    target,
    steps: plan.steps.filter((s) => keep.has(s.id)),
    warnings: [
      ...plan.warnings,
      `targeting ${target}: this plan covers only ${target}, its subtree and what its ancestors must do for it; the rest of the tree may not match the manifest`,
    ],
  };
}
