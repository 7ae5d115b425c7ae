// The daemon's steps (core/plan/concerns/restart.ts, init.ts): its restart, and `lxd init
// --preseed`, which on a level planned unseen creates only what a fresh probe finds missing.

import { bridgeName } from '../../core/flavour/index.js';
import { buildPreseed } from '../../core/plan/preseed.js';
import { CHANGED, plannedNew } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function restartDaemon(step: StepOf<'restart-daemon'>, { level }: StepRun): Promise<StepResult> {
  await level.restartDaemon(step.command);
  return CHANGED;
}

export async function initDaemon(step: StepOf<'init-daemon'>, { level }: StepRun): Promise<StepResult> {
  if (!plannedNew(step)) {
    await level.initDaemon(step.preseed);
    return CHANGED;
  }
  const live = await level.probe();
  const needs = {
    pool: live.storagePools.length === 0,
    bridge: !live.networks.some((n) => n.managed),
    profile: !live.defaultProfileHasRoot,
  };
  if (!needs.pool && !needs.bridge && !needs.profile) return { changed: false, why: 'already initialised' };
  await level.initDaemon(buildPreseed(needs, step.subnet, bridgeName(live.flavour)));
  return CHANGED;
}
