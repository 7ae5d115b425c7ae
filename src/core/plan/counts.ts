// The plan's summary line, Terraform's numbers: containers added, changed and destroyed, and the
// steps it takes. The rule, for every step kind:
//   create-instance, copy-instance
//                            the container is added; its start in the same plan is part of the add
//   start-instance           of a container this plan does not create: changed (stopped → running)
//   update-config, restart-instance, move-instance, rename-instance, restore-instance, push-file, run-setup
//                            changed (a container counts once, whatever number of its steps),
//                            unless this plan adds it
//   delete-instance          destroyed; a half-made container deleted and created again is counted
//                            in both, as Terraform counts a replace
//   create-lxc, start-lxc, configure-lxc, delete-lxc
//                            as their LXD kin: an LXC container is a container
//   write-subid, restart-daemon, restart-service, init-daemon, copy-image, fetch-image,
//   write-lxc-file, create-profile, update-profile, delete-profile, snapshot-instance
//                            steps only: they change a level's daemon, files or profiles, or
//                            restart a service, not a container (the summary counts containers; a
//                            profile change shows as its own +/~/- line above it)
// Every step counts in `steps`.

import type { Plan } from './model.js';

export interface PlanCounts {
  add: number;
  change: number;
  destroy: number;
  steps: number;
}

export function planCounts(plan: Pick<Plan, 'steps'>): PlanCounts {
  const added = new Set<string>();
  const changed = new Set<string>();
  const destroyed = new Set<string>();
  for (const s of plan.steps) {
    if (s.kind === 'create-instance' || s.kind === 'copy-instance' || s.kind === 'create-lxc') added.add(s.path);
    else if (s.kind === 'delete-instance' || s.kind === 'delete-lxc') destroyed.add(s.path);
  }
  for (const s of plan.steps) {
    const partOfAdd =
      s.kind === 'push-file' ||
      s.kind === 'run-setup' ||
      s.kind === 'start-instance' ||
      s.kind === 'start-lxc' ||
      s.kind === 'configure-lxc';
    if (
      (partOfAdd && !added.has(s.path)) ||
      s.kind === 'update-config' ||
      s.kind === 'restart-instance' ||
      s.kind === 'move-instance' ||
      s.kind === 'rename-instance' ||
      s.kind === 'restore-instance'
    )
      changed.add(s.path);
  }
  return { add: added.size, change: changed.size, destroy: destroyed.size, steps: plan.steps.length };
}
