// A container renamed in the manifest (core/plan/concerns/children/rename.ts): at its parent's
// level, only from the state it was planned in, stopped when it runs (LXD renames only a stopped
// container), renamed, its path marker set to the new path, started, and then, for as long as a
// boot may take, waited for until the containers that ran inside it run again (their daemon
// starts them by itself: LXD brings back what ran when it stopped); the markers of nestctl's
// containers inside it follow the new path.

import { EnvironmentError } from '../../core/errors.js';
import { managedInstance } from '../../core/observed.js';
import { MARKER_PATH } from '../../core/plan/desired-config.js';
import { levelLabel, parentPath } from '../../core/paths.js';
import type { LevelResolver } from '../levels.js';
import { CHANGED, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

/** As long as a container's boot is waited for (adapters/lxd/level.ts): what ran inside comes back in that time, or the step fails. */
export const INSIDE_WAIT_MS = 180_000;
const POLL_MS = 1000;

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
  await insideRunning(levels, step.path, step.inside);
  await markersFollow(levels, step);
  return CHANGED;
}

/** Each nestctl container inside that still carries its old path gets its new one (one it does not carry is not nestctl's to rename). */
async function markersFollow(levels: LevelResolver, step: StepOf<'rename-instance'>): Promise<void> {
  for (const path of step.markers) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const level = levels(parentPath(path));
    const inst = managedInstance({ instances: await level.instances() }, name);
    if (inst?.config[MARKER_PATH] === `${step.fromPath}${path.slice(step.path.length)}`)
      await level.updateInstance(name, { set: { [MARKER_PATH]: path } });
  }
}

/** Waits until each of `paths` (parents first) is listed running by its level, for at most INSIDE_WAIT_MS. */
async function insideRunning(levels: LevelResolver, at: string, paths: readonly string[]): Promise<void> {
  const deadline = Date.now() + INSIDE_WAIT_MS;
  for (const path of paths) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    let last = 'not running yet';
    for (;;) {
      try {
        const inst = managedInstance({ instances: await levels(parentPath(path)).instances() }, name);
        if (inst?.status === 'Running') break;
        last = inst ? `it is ${inst.status.toLowerCase()}` : 'it is not listed';
      } catch (e) {
        // Its daemon may still be on its way up.
        if (!(e instanceof EnvironmentError)) throw e;
        last = e.message;
      }
      if (Date.now() >= deadline)
        throw new EnvironmentError(
          `${path} did not run again in ${INSIDE_WAIT_MS / 1000} s after ${at} was renamed and started (${last})`,
          `look at it (${path}); nestctl plan shows what is left to do`,
          at,
        );
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }
}
