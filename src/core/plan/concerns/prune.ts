// Containers nestctl created at this level that the manifest no longer lists (orphans) are named
// in every plan. With --prune they are deleted by the same rule as destroy
// (core/plan/deletion.ts): only when they hold nothing nestctl cannot account for; the others are
// kept with a warning saying why.

import { MANAGED_PROJECT } from '../../observed.js';
import { joinPath } from '../../paths.js';
import { deletionVerdict, keptMessage } from '../deletion.js';
import { MARKER_PATH } from '../desired-config.js';
import type { LevelContext } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';
import { deleteSteps } from '../steps/delete.js';

export function pruneSteps(ctx: LevelContext): ConcernResult {
  const out = noConcern();
  if (!ctx.obs) return out;
  const listed = new Set(ctx.children.map((c) => c.spec.name));
  for (const inst of ctx.obs.instances) {
    if (inst.project !== MANAGED_PROJECT || listed.has(inst.name) || inst.config[MARKER_PATH] !== joinPath(ctx.path, inst.name)) continue;
    if (!ctx.input.options.prune) {
      out.warnings.push(`${joinPath(ctx.path, inst.name)}: in no manifest any more; --prune to delete`);
      continue;
    }
    const verdict = deletionVerdict(ctx.input.tree, ctx.path, inst);
    if (verdict.verdict === 'keep') {
      out.warnings.push(`--prune: ${keptMessage(verdict)}`);
      continue;
    }
    out.steps.push(
      ...deleteSteps(verdict, `${verdict.path} was created by nestctl and is no longer in the manifest (--prune)`, ctx.entryDeps),
    );
  }
  return out;
}
