// delete-instance steps from a deletion verdict (core/plan/deletion.ts), top-down: the step of the
// outermost container deletes it with everything inside (`delete --force`, once apply has proved
// the whole subtree deletable again); the steps of what it held follow it and only confirm that
// they went with it, so the plan still lists every container that goes.

import { MARKER_PATH } from '../desired-config.js';
import type { Deletion } from '../deletion.js';
import type { Step } from '../model.js';
import { deleteInstanceStep, instanceStepId } from './instance.js';

/** Steps for `d` and everything inside it; the first one deletes `d` itself. */
export function deleteSteps(d: Deletion & { verdict: 'delete' }, reason: string, dependsOn: string[]): Step[] {
  const own = deleteInstanceStep(
    {
      level: d.level,
      name: d.name,
      path: d.path,
      dependsOn: [...dependsOn],
      reason: d.lxc.length > 0 ? `${reason}; its ${d.lxc.join(', ')} ${d.lxc.length > 1 ? 'go' : 'goes'} with it` : reason,
      precondition: { kind: 'instance-config', config: { [MARKER_PATH]: d.path }, profiles: d.profiles },
    },
    d.lxc.length > 0 ? { lxc: [...d.lxc] } : {},
  );
  const inner = d.inner.flatMap((i) =>
    deleteSteps(i, `${i.path} was created by nestctl and is inside ${d.path}, which is deleted with everything in it`, [own.id]),
  );
  return [own, ...inner];
}

export const deleteStepId = (path: string): string => instanceStepId(path, 'delete-instance');
