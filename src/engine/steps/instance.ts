// The container steps (core/plan/concerns/children.ts, prune.ts, and destroy): create, start,
// config update, restart, a move between cluster members, and delete. Each re-reads the level's
// instances and refuses what no longer holds; a delete applies the deletion rule to the
// container as it is now (engine/live-deletion.ts).

import { insideRunning } from './inside.js';
import { EnvironmentError } from '../../core/errors.js';
import { managedInstance } from '../../core/observed.js';
import { refusedDeleteMessage } from '../../core/plan/deletion.js';
import { MARKER_PATH } from '../../core/plan/desired-config.js';
import { halfMade } from '../../core/plan/half-made.js';
import { deleteStepId } from '../../core/plan/steps/delete.js';
import { deletionNow } from '../live-deletion.js';
import { CHANGED, fingerprintAt, instanceOf, plannedNew, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function createInstance(step: StepOf<'create-instance'>, { level, levels }: StepRun): Promise<StepResult> {
  const existing = managedInstance({ instances: await level.instances() }, step.name);
  if (existing) {
    // A level planned unseen may hold it already: nestctl's own, finished create is kept; one
    // left half-made, or another's, is for a new plan (with the level seen) to deal with.
    const isNew = plannedNew(step);
    if (isNew && existing.config[MARKER_PATH] === step.path && !halfMade(existing, step.path))
      return { changed: false, why: 'already created' };
    throw stale(
      step,
      isNew ? `${step.path} exists, but could not be looked at when the plan was made` : `${step.path} appeared after the plan was made`,
    );
  }
  const fingerprint = step.fingerprint ?? (await fingerprintAt(levels, step.level, [step.image.slice(step.image.indexOf(':') + 1)]));
  try {
    await level.createInstance({
      name: step.name,
      fingerprint,
      profiles: step.profiles,
      config: step.config,
      ...(step.target !== undefined ? { target: step.target } : {}),
    });
  } catch (error) {
    // The image is looked for only when the create failed: one read less on every create.
    if (!(await level.images()).some((i) => i.fingerprint === fingerprint)) {
      throw new EnvironmentError(
        `image ${fingerprint.slice(0, 12)} for ${step.path} is not in ${step.level || 'the host'}'s image store`,
        undefined,
        step.level,
      );
    }
    throw error;
  }
  return CHANGED;
}

export async function startInstance(step: StepOf<'start-instance'>, { level }: StepRun): Promise<StepResult> {
  const isNew = plannedNew(step);
  if (isNew || step.precondition.kind === 'instance-status') {
    const live = await instanceOf(level, step.name, step);
    if (live.status === 'Running') {
      if (isNew) return { changed: false, why: 'already running' };
      throw stale(step, `${step.path} is already running`);
    }
  }
  await level.startInstance(step.name, step.waitBoot);
  return CHANGED;
}

export async function updateConfig(step: StepOf<'update-config'>, { level }: StepRun): Promise<StepResult> {
  if (step.precondition.kind === 'instance-config') {
    const live = await instanceOf(level, step.name, step);
    const planned = step.precondition.config;
    const drift = [...Object.keys(step.set), ...step.unset].find((k) => live.config[k] !== planned[k]);
    if (drift) throw stale(step, `${step.path}'s ${drift} changed after the plan was made`);
  }
  await level.updateInstance(step.name, {
    set: step.set,
    ...(step.unset.length > 0 ? { unset: step.unset } : {}),
    ...(step.profiles ? { profiles: step.profiles.after } : {}),
  });
  return CHANGED;
}

export async function restartInstance(step: StepOf<'restart-instance'>, { level }: StepRun): Promise<StepResult> {
  const live = await instanceOf(level, step.name, step);
  if (step.grow) {
    // Any change to an idmap key makes the daemon copy its current range again; the key is
    // removed at once, so the container's config ends as the manifest has it.
    await level.updateInstance(step.name, { set: { 'security.idmap.size': String(step.grow.to.size) } });
    await level.updateInstance(step.name, { set: { 'security.idmap.size': '' } });
  }
  if (live.status === 'Running') await level.stopInstance(step.name);
  await level.startInstance(step.name, step.waitBoot);
  return CHANGED;
}

/** A root container to another cluster member, only from where and in the state it was planned in. */
export async function moveInstance(step: StepOf<'move-instance'>, { level, levels, context }: StepRun): Promise<StepResult> {
  if (!context.move) throw new EnvironmentError(`${step.id}: a move needs a clustered remote host`, 'report this as a bug', step.level);
  const now = await instanceOf(level, step.name, step);
  if (now.location === step.to) return { changed: false, why: `already on ${step.to}` };
  if (now.location !== step.from) throw stale(step, `${step.path} is on ${now.location ?? 'no member'} now, not ${step.from}`);
  if ((now.status === 'Running') !== step.running) throw stale(step, `${step.path} is ${now.status.toLowerCase()} now`);
  await context.move(step.name, step.to, step.running);
  // LXD starts what ran inside once it runs on its new member: apply returns when it does.
  if (step.running)
    await insideRunning(
      levels,
      step.path,
      'moved',
      step.inside.map((path) => ({ path, waitBoot: false })),
      false,
    );
  return CHANGED;
}

export async function deleteInstance(step: StepOf<'delete-instance'>, { level, context }: StepRun): Promise<StepResult> {
  // Deleted with the container it was in, whose step (a dependency) proved it deletable.
  if (step.dependsOn.includes(deleteStepId(step.level))) return CHANGED;
  const live = managedInstance({ instances: await level.instances() }, step.name);
  if (!live) return { changed: false, why: 'already gone' };
  // Never delete what nestctl did not create or cannot prove empty, whatever the plan says:
  // the container may have changed since it was planned.
  const now = await deletionNow(level, step.level, live, context.deleting);
  if (now.verdict === 'keep') throw stale(step, refusedDeleteMessage(now));
  await level.deleteInstance(step.name);
  return CHANGED;
}
