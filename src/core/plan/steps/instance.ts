// The container steps the planners build (create, update-config, move, rename, start, restart, delete):
// one factory each, so every step of a kind has the same id, field set and field order.

import type { Precondition, Step } from '../model.js';

/** What every container step carries: the level it runs at, the container, what it waits for, why, and what it was planned from. */
export interface InstanceStepAt {
  level: string;
  name: string;
  path: string;
  dependsOn: string[];
  reason: string;
  precondition: Precondition;
}

type InstanceKind =
  | 'create-instance'
  | 'update-config'
  | 'move-instance'
  | 'rename-instance'
  | 'copy-instance'
  | 'start-instance'
  | 'restart-instance'
  | 'delete-instance';

/** The fields of a step of `kind` besides those every container step has. */
type Own<K extends InstanceKind> = Omit<Extract<Step, { kind: K }>, keyof InstanceStepAt | 'id' | 'kind' | 'host'>;

export const instanceStepId = (path: string, kind: InstanceKind): string => `${path}:${kind}`;

const head = <K extends InstanceKind>(kind: K, at: InstanceStepAt) => ({
  id: instanceStepId(at.path, kind),
  level: at.level,
  kind,
  dependsOn: at.dependsOn,
  reason: at.reason,
  name: at.name,
  path: at.path,
});

export const createInstanceStep = (at: InstanceStepAt, own: Own<'create-instance'>): Step => ({
  ...head('create-instance', at),
  ...own,
  precondition: at.precondition,
});
export const updateConfigStep = (at: InstanceStepAt, own: Own<'update-config'>): Step => ({
  ...head('update-config', at),
  ...own,
  precondition: at.precondition,
});
export const moveInstanceStep = (at: InstanceStepAt, own: Own<'move-instance'>): Step => ({
  ...head('move-instance', at),
  ...own,
  precondition: at.precondition,
});
export const renameInstanceStep = (at: InstanceStepAt, own: Own<'rename-instance'>): Step => ({
  ...head('rename-instance', at),
  ...own,
  precondition: at.precondition,
});
export const copyInstanceStep = (at: InstanceStepAt, own: Own<'copy-instance'>): Step => ({
  ...head('copy-instance', at),
  ...own,
  precondition: at.precondition,
});
export const startInstanceStep = (at: InstanceStepAt, own: Own<'start-instance'>): Step => ({
  ...head('start-instance', at),
  ...own,
  precondition: at.precondition,
});
export const restartInstanceStep = (at: InstanceStepAt, own: Own<'restart-instance'>): Step => ({
  ...head('restart-instance', at),
  ...own,
  precondition: at.precondition,
});
export const deleteInstanceStep = (at: InstanceStepAt, own: Own<'delete-instance'>): Step => ({
  ...head('delete-instance', at),
  ...own,
  precondition: at.precondition,
});
