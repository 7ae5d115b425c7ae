// The file step (core/plan/concerns/files.ts): a manifest file written inside a container, the
// writer refusing a file that changed since the plan; one planned before the container ran is
// written only when what is there now differs.

import { fileIsAsWanted } from '../../core/observed.js';
import { CHANGED } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function pushFile(step: StepOf<'push-file'>, { level }: StepRun): Promise<StepResult> {
  if (step.precondition.kind !== 'file-sha256') {
    // Planned before the container ran: what is there now decides.
    const now = (await level.readFiles(step.name, [step.file]))[step.file] ?? null;
    if (fileIsAsWanted(now, step)) return { changed: false, why: 'already as planned' };
  }
  const expected = step.precondition.kind === 'file-sha256' ? step.precondition.sha256 : 'any';
  await level.writeFile(step.name, { path: step.file, data: step.data, mode: step.mode, uid: step.uid, gid: step.gid, expected });
  return CHANGED;
}
