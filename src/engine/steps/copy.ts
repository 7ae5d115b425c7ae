// A container made as a copy of its sibling (core/plan/concerns/children/copy.ts): at their level,
// only while the copy is absent and the source is the one planned from; from a snapshot of the
// source (never from the live disk of a running daemon) shared by the plan's copies of it and
// deleted after the last (engine/copy-snapshots.ts);
// the copy's config and markers set, the copy started, what ran in the source started in it
// (LXD leaves a copy's nested containers stopped), and the markers of nestctl's containers inside
// it made to name their paths in the copy.

import { managedInstance } from '../../core/observed.js';
import { MARKER_PATH } from '../../core/plan/desired-config.js';
import { levelLabel } from '../../core/paths.js';
import { insideRunning, markersFollow } from './inside.js';
import { CHANGED, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function copyInstance(step: StepOf<'copy-instance'>, { level, levels, context }: StepRun): Promise<StepResult> {
  const live = { instances: await level.instances() };
  if (live.instances.some((i) => i.name === step.name)) throw stale(step, `${step.path} appeared after the plan was made`);
  const source = managedInstance(live, step.source);
  if (!source) throw stale(step, `${step.sourcePath} no longer exists in ${levelLabel(step.level)}`);
  if (source.config[MARKER_PATH] !== step.sourcePath)
    throw stale(step, `${step.sourcePath}'s ${MARKER_PATH} changed after the plan was made`);
  try {
    await level.copyInstance(step.source, await context.snapshots.take(step), step.name, step.target);
  } finally {
    await context.snapshots.release(step);
  }
  await level.updateInstance(step.name, { set: step.config });
  await level.startInstance(step.name, step.waitBoot);
  await insideRunning(levels, step.path, 'copied', step.inside, true);
  await markersFollow(levels, step.markers, step.sourcePath, step.path);
  return CHANGED;
}
