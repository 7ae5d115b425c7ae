// What the step handlers share: the result of a step that acted, the refusal of a step whose
// plan no longer holds, and the reads a re-check needs (an instance, an image's fingerprint).

import { EnvironmentError } from '../../core/errors.js';
import { managedInstance } from '../../core/observed.js';
import type { Step } from '../../core/plan/model.js';
import type { LxdLevel } from '../../ports/lxd.js';
import type { LevelResolver } from '../levels.js';
import type { StepResult } from './types.js';

export const CHANGED: StepResult = { changed: true };

/** The refusal of a step whose plan no longer matches the level. */
export const stale = (step: Step, what: string): EnvironmentError =>
  new EnvironmentError(`plan is stale: ${what}`, 'run nestctl plan again', step.level);

/** Whether the step's level did not exist when it was planned: the step works out its details from the level as it is now. */
export const plannedNew = (step: Step): boolean => step.precondition.kind === 'level-new';

/** nestctl's instance `name` at `level`; refused as stale when it is gone. */
export async function instanceOf(level: LxdLevel, name: string, step: Step) {
  const inst = managedInstance({ instances: await level.instances() }, name);
  if (!inst) throw stale(step, `${name} no longer exists in ${step.level || 'the host'}`);
  return inst;
}

/** The fingerprint of the image at `path` with one of `aliases`. */
export async function fingerprintAt(levels: LevelResolver, path: string, aliases: string[]): Promise<string> {
  const img = (await levels(path).images()).find((i) => i.aliases.some((a) => aliases.includes(a)));
  if (!img) throw new EnvironmentError(`no image with alias ${aliases.join(', ')} in ${path || 'the host'}'s image store`, undefined, path);
  return img.fingerprint;
}
