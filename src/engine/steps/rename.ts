// A container renamed in the manifest (core/plan/concerns/children/rename.ts): at its parent's
// level, only from the state it was planned in, stopped when it runs (LXD renames only a stopped
// container), renamed, its path marker set to the new path, started, and then, for as long as a
// boot may take, waited for until the containers that ran inside it run again (their daemon
// starts them by itself: LXD brings back what ran when it stopped); the markers of nestctl's
// containers inside it follow the new path.

import { managedInstance } from '../../core/observed.js';
import { MARKER_PATH } from '../../core/plan/desired-config.js';
import { levelLabel } from '../../core/paths.js';
import { insideRunning, markersFollow } from './inside.js';
import { CHANGED, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function renameInstance(step: StepOf<'rename-instance'>, { level, levels }: StepRun): Promise<StepResult> {
  const live = { instances: await level.instances() };
  if (managedInstance(live, step.name)) throw stale(step, `${step.path} appeared after the plan was made`);
  const from = managedInstance(live, step.from);
  if (!from) throw stale(step, `${step.fromPath} no longer exists in ${levelLabel(step.level)}`);
  if (from.config[MARKER_PATH] !== step.fromPath) throw stale(step, `${step.fromPath}'s ${MARKER_PATH} changed after the plan was made`);
  if ((from.status === 'Running') !== step.running) throw stale(step, `${step.fromPath} is ${from.status.toLowerCase()} now`);
  if (step.running) await level.stopInstance(step.from);
  await level.renameInstance(step.from, step.name);
  await level.updateInstance(step.name, { set: { [MARKER_PATH]: step.path } });
  if (!step.running) return CHANGED;
  await level.startInstance(step.name, step.waitBoot);
  await insideRunning(
    levels,
    step.path,
    'renamed',
    step.inside.map((path) => ({ path, waitBoot: false })),
    false,
  );
  await markersFollow(levels, step.markers, step.fromPath, step.path);
  return CHANGED;
}
