// Whether a root container can go where its `target:` says.

import { levelNeed } from '../../../ids/allocate.js';
import { remoteRangeVerdict } from '../../../ids/remote-range.js';
import { type Diagnostic, sourceAt } from '../../../diagnostics.js';
import type { LevelChild, LevelContext } from '../../level-context.js';
import { requiredRange } from '../../slices.js';

/**
 * A root container's `target:` that the cluster cannot honour (no cluster, no such member or
 * group), or a member whose map is smaller than the container's tree needs.
 */
export function placementProblems(ctx: LevelContext, child: LevelChild): Diagnostic[] {
  const p = child.placement;
  if (p.kind === 'refused') return [p.problem];
  if (p.kind !== 'placed') return [];
  const host = ctx.input.manifest.host;
  return p.candidates.flatMap((member) => {
    const range = ctx.input.tree.members?.[member];
    if (!range) return [];
    // An isolated one needs its slice to fit the member's range (LXD's strict fit), not the whole range.
    const slice = child.memberSlices[member];
    const need = slice ? requiredRange(range.uid.start, [slice]) : levelNeed([child.alloc]);
    const verdict = remoteRangeVerdict({ host, member, range, need, flavour: ctx.flavour });
    // A member is never grown (remoteRangeVerdict plans that only for the server shell: reaches).
    if (verdict.kind !== 'refused') return [];
    return [
      {
        severity: 'error',
        fault: 'user',
        where: sourceAt(ctx.input.manifest.file, child.spec.target!.pos),
        message: `${child.spec.path} (target: ${p.target}): ${verdict.message}`,
        hint: verdict.hint,
      },
    ];
  });
}
