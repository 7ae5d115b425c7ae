// A child renamed in the manifest (`moved:`, core/plan/moves.ts): one step at its parent's level
// that stops it when it runs, renames it and starts it again. What else it needs (its config, a
// start, its files) is planned as for the renamed container, after that step.

import { levelLabel } from '../../../paths.js';
import { pre } from '../../level-context.js';
import type { Step } from '../../model.js';
import type { Rename } from '../../moves.js';
import { renameInstanceStep } from '../../steps/instance.js';
import { type ChildInput, type ChildResult, stepAt } from './child.js';

export function renameStep(c: ChildInput, rename: Rename): Step {
  const running = rename.status === 'Running';
  const reason = `moved: ${rename.from} is now ${rename.to} in the manifest: renamed${rename.level ? ` in ${levelLabel(rename.level)}` : ''} with everything inside it, nothing deleted or created`;
  return renameInstanceStep(stepAt(c, c.deps, reason, pre(c.ctx, { kind: 'instance-status', status: rename.status })), {
    from: rename.from.slice(rename.from.lastIndexOf('/') + 1),
    fromPath: rename.from,
    running,
    hosting: c.hosting,
    waitBoot: c.waitBoot,
    inside: rename.inside,
    markers: rename.markers,
  });
}

/** The rename first, then the rest of the child's plan (made to wait for it); a running child runs again once renamed. */
export function afterRename(step: Step, rename: Rename, rest: ChildResult): ChildResult {
  const running = rename.status === 'Running';
  return {
    ...rest,
    steps: [step, ...rest.steps],
    running: rest.running ?? (running ? step.id : null),
    restarted: rest.restarted || running,
  };
}
