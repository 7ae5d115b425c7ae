// The classic LXC steps (core/plan/concerns/lxc.ts) against a live level. Each but the file
// write re-reads the owner's containers (probeLxc, one round trip) and acts only when what it was
// planned from still holds.

import { EnvironmentError } from '../../core/errors.js';
import { configuredText } from '../../core/lxc/desired.js';
import { containerConfigPath, lxcDir, markedPath, ownerKey } from '../../core/lxc/paths.js';
import type { ObservedLxcContainer, ObservedLxcOwner } from '../../core/observed.js';
import { sha256 } from '../../core/hash.js';
import type { LxdLevel } from '../../ports/lxd.js';
import { CHANGED, plannedNew, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function writeLxcFile(step: StepOf<'write-lxc-file'>, { level }: StepRun): Promise<StepResult> {
  const expected = step.precondition.kind === 'file-sha256' ? step.precondition.sha256 : null;
  await level.writeLxcFile(step.file, step.owner, step.after, expected, { forgetOriginal: step.restore });
  return CHANGED;
}

export async function createLxc(step: StepOf<'create-lxc'>, { level }: StepRun): Promise<StepResult> {
  const owner = await ownerNow(level, step.user);
  const there = owner.containers.find((c) => c.name === step.name);
  if (there) {
    if (plannedNew(step) && markedPath(there.config.text) === step.path) return { changed: false, why: 'already created' };
    throw stale(step, `${step.path} appeared after the plan was made`);
  }
  await level.lxcCreate({
    name: step.name,
    owner: { user: step.user, home: owner.home },
    template: step.template,
    templateArgs: step.templateArgs,
    config: step.config,
  });
  return CHANGED;
}

export async function configureLxc(step: StepOf<'configure-lxc'>, { level }: StepRun): Promise<StepResult> {
  // Made by lxc-create in this apply, or planned from the config seen then (its sha256).
  const owner = await ownerNow(level, step.user);
  const c = ours(
    step,
    owner.containers.find((x) => x.name === step.name),
  );
  if (step.precondition.kind === 'file-sha256' && c.config.sha256 !== step.precondition.sha256)
    throw stale(step, `${step.path}'s config changed after the plan was made`);
  const after = configuredText(c.config.text, step.set, step.path);
  if (after === c.config.text) return { changed: false, why: 'already as planned' };
  const file = containerConfigPath(lxcDir(step.user, owner.home), step.name);
  await level.writeLxcFile(file, ownerKey(step.user), after, sha256(c.config.text));
  return CHANGED;
}

export async function startLxc(step: StepOf<'start-lxc'>, { level }: StepRun): Promise<StepResult> {
  const owner = await ownerNow(level, step.user);
  const c = ours(
    step,
    owner.containers.find((x) => x.name === step.name),
  );
  if (c.state === 'RUNNING') {
    if (step.precondition.kind === 'instance-status') throw stale(step, `${step.path} is already running`);
    return { changed: false, why: 'already running' };
  }
  if (step.waitDaemon) await level.waitDaemon();
  await level.lxcStart(step.name, { user: step.user, home: owner.home }, step.cgroup);
  return CHANGED;
}

export async function deleteLxc(step: StepOf<'delete-lxc'>, { level }: StepRun): Promise<StepResult> {
  const owner = await ownerNow(level, step.user);
  const c = owner.containers.find((x) => x.name === step.name);
  if (!c) return { changed: false, why: 'already gone' };
  // Never what nestctl did not create, whatever the plan says.
  if (markedPath(c.config.text) !== step.path) throw stale(step, `${step.path} is not the LXC container nestctl created`);
  await level.lxcDelete(step.name, { user: step.user, home: owner.home }, c.state === 'RUNNING');
  return CHANGED;
}

async function ownerNow(level: LxdLevel, user: string | null): Promise<ObservedLxcOwner> {
  const key = ownerKey(user);
  const owner = (await level.probeLxc([key])).owners[key];
  if (!owner) throw new EnvironmentError(`LXC at ${level.path || 'the host'} said nothing of ${key}'s containers`, undefined, level.path);
  return owner;
}

/** The container nestctl made at the step's path; a configure may find it before its marker is written. */
function ours(step: StepOf<'configure-lxc' | 'start-lxc'>, c: ObservedLxcContainer | undefined): ObservedLxcContainer {
  if (!c) throw stale(step, `${step.path} no longer exists`);
  if (markedPath(c.config.text) !== step.path && step.kind !== 'configure-lxc')
    throw stale(step, `${step.path} is no longer the LXC container nestctl created`);
  return c;
}
