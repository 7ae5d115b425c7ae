// apply --snapshot and --rollback-on-failure (core/plan/snapshots.ts): a container snapshotted
// before the plan changes it, and put back as its snapshot holds it after a failed apply, the
// containers that ran inside it started again (LXD leaves them stopped after a restore).

import { managedInstance } from '../../core/observed.js';
import { levelLabel } from '../../core/paths.js';
import { insideRunning } from './inside.js';
import { CHANGED, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function snapshotInstance(step: StepOf<'snapshot-instance'>, { level }: StepRun): Promise<StepResult> {
  if (!managedInstance({ instances: await level.instances() }, step.name))
    throw stale(step, `${step.path} is gone from ${levelLabel(step.level)}`);
  await level.snapshotInstance(step.name, step.snapshot);
  return CHANGED;
}

export async function restoreInstance(step: StepOf<'restore-instance'>, { level, levels }: StepRun): Promise<StepResult> {
  await level.restoreSnapshot(step.name, step.snapshot);
  await insideRunning(levels, step.path, 'restored', step.inside, true);
  return CHANGED;
}
