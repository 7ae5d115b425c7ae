// delete-instance steps from a deletion verdict (core/plan/deletion.ts), top-down: the step of the
// outermost container deletes it with everything inside (`delete --force`, once apply has proved
// the whole subtree deletable again); the steps of what it held follow it and only confirm that
// they went with it, so the plan still lists every container that goes.

import { MARKER_PATH } from '../desired-config.js';
import type { Deletion } from '../deletion.js';
import type { Step } from '../model.js';

/** Steps for `d` and everything inside it; the first one deletes `d` itself. */
export function deleteSteps(d: Deletion & { verdict: 'delete' }, reason: string, dependsOn: string[]): Step[] {
  const own: Step = {
    id: deleteStepId(d.path),
    level: d.level,
    kind: 'delete-instance',
    dependsOn: [...dependsOn],
    reason: d.lxc.length > 0 ? `${reason}; its ${d.lxc.join(', ')} ${d.lxc.length > 1 ? 'go' : 'goes'} with it` : reason,
    name: d.name,
    path: d.path,
    ...(d.lxc.length > 0 ? { lxc: [...d.lxc] } : {}),
    precondition: { kind: 'instance-config', config: { [MARKER_PATH]: d.path }, profiles: d.profiles },
  };
  const inner = d.inner.flatMap((i) => deleteSteps(i, `${i.path} was created by nestctl and is inside ${d.path}, which is deleted with everything in it`, [own.id]));
  return [own, ...inner];
}

export const deleteStepId = (path: string): string => `${path}:delete-instance`;
