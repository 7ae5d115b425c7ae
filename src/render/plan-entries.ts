// How the plan text groups steps for reading (--json and -v keep every step as it is): identical
// edits of /etc/subuid and /etc/subgid at a level are one entry, and a container's create and the
// start that follows it in the same plan are one.

import { canonicalJson } from '../core/hash.js';
import type { Step } from '../core/plan/model.js';

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

export type PlanEntry =
  | { kind: 'step'; step: Step }
  | { kind: 'subid-pair'; subuid: StepOf<'write-subid'>; subgid: StepOf<'write-subid'> }
  | { kind: 'create-start'; create: StepOf<'create-instance'>; start: StepOf<'start-instance'> };

/** The same change to both files: only the file name differs. */
function sameEdit(a: StepOf<'write-subid'>, b: StepOf<'write-subid'>): boolean {
  const what = (s: StepOf<'write-subid'>) =>
    canonicalJson({ level: s.level, before: s.before, after: s.after, edit: s.edit, restore: s.restore, reason: s.reason });
  return what(a) === what(b);
}

export function planEntries(steps: readonly Step[], verbose: boolean): PlanEntry[] {
  if (verbose) return steps.map((step) => ({ kind: 'step', step }));
  const used = new Set<string>();
  const out: PlanEntry[] = [];
  for (const step of steps) {
    if (used.has(step.id)) continue;
    if (step.kind === 'write-subid' && step.file === 'subuid') {
      const gid = steps.find(
        (s): s is StepOf<'write-subid'> => s.kind === 'write-subid' && s.file === 'subgid' && !used.has(s.id) && sameEdit(step, s),
      );
      if (gid) {
        used.add(gid.id);
        out.push({ kind: 'subid-pair', subuid: step, subgid: gid });
        continue;
      }
    }
    if (step.kind === 'create-instance') {
      const start = steps.find(
        (s): s is StepOf<'start-instance'> => s.kind === 'start-instance' && s.path === step.path && s.dependsOn.includes(step.id),
      );
      if (start) {
        used.add(start.id);
        out.push({ kind: 'create-start', create: step, start });
        continue;
      }
    }
    out.push({ kind: 'step', step });
  }
  return out;
}
