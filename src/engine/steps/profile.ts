// The profile steps (core/plan/concerns/profiles.ts): each reads the level's profiles and refuses
// as stale a profile that appeared, changed or went since the plan (a delete also one now in use);
// on a level planned unseen, a create finds the profile as planned done.

import type { ObservedProfile } from '../../core/observed.js';
import { profileBody } from '../../core/plan/concerns/profiles.js';
import { canonicalJson } from '../../core/hash.js';
import { CHANGED, plannedNew, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function createProfile(step: StepOf<'create-profile'>, { level }: StepRun): Promise<StepResult> {
  const live = (await level.profiles()).find((p) => p.name === step.name);
  if (live) {
    // A level planned unseen may hold it already, as planned.
    const isNew = plannedNew(step);
    if (isNew && canonicalJson(profileBody(live)) === canonicalJson(step.profile)) return { changed: false, why: 'already as planned' };
    throw stale(
      step,
      `profile ${step.name} ${isNew ? 'exists, but could not be looked at when the plan was made' : 'appeared after the plan was made'}`,
    );
  }
  await level.createProfile(step.name, step.profile);
  return CHANGED;
}

export async function updateProfile(step: StepOf<'update-profile'>, run: StepRun): Promise<StepResult> {
  await asPlanned(step, run);
  await run.level.writeProfile(step.name, step.profile);
  return CHANGED;
}

export async function deleteProfile(step: StepOf<'delete-profile'>, run: StepRun): Promise<StepResult> {
  const live = await asPlanned(step, run);
  if (live.usedBy.length > 0) throw stale(step, `profile ${step.name} is now used by ${live.usedBy.join(', ')}`);
  await run.level.deleteProfile(step.name);
  return CHANGED;
}

/** The profile as it is now, refused as stale when it went or changed since the plan. */
async function asPlanned(step: StepOf<'update-profile' | 'delete-profile'>, { level }: StepRun): Promise<ObservedProfile> {
  const live = (await level.profiles()).find((p) => p.name === step.name);
  const planned = step.precondition.kind === 'profile' ? step.precondition.profile : null;
  if (!live || (planned && canonicalJson(profileBody(live)) !== canonicalJson(planned)))
    throw stale(step, `profile ${step.name} ${live ? 'changed' : 'was deleted'} after the plan was made`);
  return live;
}
