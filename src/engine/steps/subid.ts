// The subid step (core/plan/concerns/subids.ts): /etc/subuid or /etc/subgid written, the writer
// refusing a file that changed since the plan; on a level planned unseen, the planned owners'
// edit is applied to the file as it is now.

import { applySubidEdit, entryLines } from '../../core/subid/file.js';
import { CHANGED, plannedNew } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

export async function writeSubid(step: StepOf<'write-subid'>, { level }: StepRun): Promise<StepResult> {
  if (!plannedNew(step) || !step.edit) {
    const expected = step.precondition.kind === 'file-sha256' ? step.precondition.sha256 : null;
    await level.writeSubid(step.file, step.after ?? '', expected, { forgetOriginal: step.restore, entries: entryLines(step.edit) });
    return CHANGED;
  }
  const live = await level.readSubid(step.file);
  const after = applySubidEdit(live.text, step.edit);
  if (after === live.text) return { changed: false, why: 'already as planned' };
  await level.writeSubid(step.file, after, live.sha256, { entries: entryLines(step.edit) });
  return CHANGED;
}
