// apply --snapshot and --rollback-on-failure. With --snapshot, each existing container the plan
// changes itself (its config, a restart onto new keys or a new map, its files, its setup) is
// snapshotted first, once, at its parent's level; that snapshot step waits for what the first of
// those changes waited for, and every step about the container or inside it waits for the
// snapshot, so it holds the container as it was. After a failed apply, the rollback is a plan of
// its own: each snapshotted container whose subtree holds a step that failed or never ran is
// restored (the outermost only: its restore brings back everything inside it), then the
// containers that ran inside it are started again (LXD leaves them stopped after a restore).
// The snapshot is named after what the plan was made from, so a saved plan plans the same name.

import type { ObservedTree } from '../observed.js';
import type { Plan, Step } from './model.js';
import { runningInside } from './moves.js';
import { subject, within } from './target.js';

/** The steps that change an existing container itself: it is snapshotted before the first of them. */
const CHANGES: ReadonlySet<Step['kind']> = new Set(['update-config', 'restart-instance', 'push-file', 'run-setup']);

type Snapshot = Extract<Step, { kind: 'snapshot-instance' }>;

export const snapshotName = (plan: Pick<Plan, 'observedSha256'>): string => `nestctl-pre-${plan.observedSha256.slice(0, 12)}`;

export function withSnapshots(plan: Plan, tree: ObservedTree): Plan {
  const made = new Set(plan.steps.flatMap((s) => (s.kind === 'create-instance' || s.kind === 'copy-instance' ? [s.path] : [])));
  const snapshots = new Map<string, Snapshot>();
  for (const s of plan.steps) {
    if (!CHANGES.has(s.kind) || !('path' in s) || !('name' in s) || made.has(s.path) || snapshots.has(s.path)) continue;
    const seen = tree.levels[s.level];
    if (seen?.kind !== 'observed' || !seen.level.instances.some((i) => i.name === s.name)) continue;
    const inside = runningInside(tree.levels, s.path).map((path) => ({ path, waitBoot: tree.levels[path]?.kind === 'observed' }));
    snapshots.set(s.path, {
      id: `${s.path}:snapshot-instance`,
      level: s.level,
      kind: 'snapshot-instance',
      dependsOn: s.dependsOn.filter((d) => !plan.steps.some((t) => t.id === d && within(subject(t), s.path))),
      reason: `${s.path} is changed by this plan: snapshotted first (--snapshot), so --rollback-on-failure can put it back`,
      name: s.name,
      path: s.path,
      snapshot: snapshotName(plan),
      inside,
      precondition: { kind: 'instance-status', status: seen.level.instances.find((i) => i.name === s.name)!.status },
      ...(s.host !== undefined ? { host: s.host } : {}),
    });
  }
  if (snapshots.size === 0) return plan;
  const before = (s: Step): string[] =>
    [...snapshots.values()].filter((snap) => within(subject(s), snap.path) && s.id !== snap.id).map((snap) => snap.id);
  const steps: Step[] = [];
  for (const s of plan.steps) {
    const own = 'path' in s ? snapshots.get(s.path) : undefined;
    if (own && !steps.includes(own)) steps.push(own);
    steps.push({ ...s, dependsOn: [...new Set([...s.dependsOn, ...before(s)])] });
  }
  return { ...plan, options: { ...plan.options, snapshot: true }, steps };
}

/**
 * The restores a failed apply of `plan` calls for: each snapshot it took (`taken`) whose container
 * holds a step of `unfinished` (failed or never run), the outermost of nested ones only.
 */
export function rollbackPlan(plan: Plan, taken: readonly string[], unfinished: readonly Step[]): Plan {
  const { deferred: _, ...envelope } = plan;
  const snaps = plan.steps.filter((s): s is Snapshot => s.kind === 'snapshot-instance' && taken.includes(s.id));
  const hit = snaps.filter((snap) => unfinished.some((u) => u.host === snap.host && within(subject(u), snap.path)));
  const outer = hit.filter((snap) => !hit.some((o) => o !== snap && o.host === snap.host && within(snap.path, o.path)));
  return {
    ...envelope,
    steps: outer.map((snap) => ({
      id: `${snap.path}:restore-instance`,
      level: snap.level,
      kind: 'restore-instance',
      dependsOn: [],
      reason: `a step about ${snap.path} or inside it did not complete: ${snap.path} is put back as it was before the apply (${snap.snapshot})`,
      name: snap.name,
      path: snap.path,
      snapshot: snap.snapshot,
      inside: snap.inside,
      precondition: { kind: 'none' },
      ...(snap.host !== undefined ? { host: snap.host } : {}),
    })),
    warnings: [],
  };
}
