// delete-instance steps from a deletion verdict (core/plan/deletion.ts), bottom-up: what a
// container holds is deleted before the container.

import { MARKER_PATH } from '../desired-config.js';
import type { Deletion } from '../deletion.js';
import type { Step } from '../model.js';

/** Steps for `d` and everything inside it; the last one deletes `d` itself. */
export function deleteSteps(d: Deletion & { verdict: 'delete' }, reason: string, dependsOn: string[]): Step[] {
  const inner = d.inner.flatMap((i) => deleteSteps(i, `${i.path} was created by nestctl and is inside ${d.path}, which is deleted`, dependsOn));
  const own: Step = {
    id: `${d.path}:delete-instance`,
    level: d.level,
    kind: 'delete-instance',
    dependsOn: [...dependsOn, ...d.inner.map((i) => `${i.path}:delete-instance`)],
    reason,
    name: d.name,
    path: d.path,
    precondition: { kind: 'instance-config', config: { [MARKER_PATH]: d.path }, profiles: d.profiles },
  };
  return [...inner, own];
}
