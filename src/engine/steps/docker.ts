// The service step (core/plan/concerns/docker.ts): a service inside a container restarted after
// its configuration changed (Docker, for docker.userns_remap).

import { EnvironmentError } from '../../core/errors.js';
import { CHANGED, instanceOf } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function restartService(step: StepOf<'restart-service'>, { level }: StepRun): Promise<StepResult> {
  await instanceOf(level, step.name, step);
  const r = await level.runIn(step.name, step.argv);
  if (r.code !== 0)
    throw new EnvironmentError(
      `restarting ${step.service} in ${step.path} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`,
      `look at ${step.service} inside ${step.path} (journalctl -u ${step.service}), then apply again`,
      step.level,
    );
  return CHANGED;
}
