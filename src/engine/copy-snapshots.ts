// The snapshots a plan's copies (copy-instance) are made from: one per source, taken when its
// first copy starts (every copy waits for all of its source's steps, so the source is final by
// then) and shared by every copy of it, deleted after its last copy and, whatever is left, when
// the apply ends. One snapshot rather than one per copy: LXD freezes a running container while it
// snapshots it, and snapshots of one container taken at once hung LXD 5.0.2 on the lab ("Failed
// freezing container", the operation never ending).

import type { Plan, Step } from '../core/plan/model.js';
import type { LevelResolver } from './levels.js';

type Copy = Extract<Step, { kind: 'copy-instance' }>;

export interface CopySnapshots {
  /** The snapshot of `step`'s source to copy, taken now if it is not yet. */
  take(step: Copy): Promise<string>;
  /** `step` is done with it; the last copy of the source deletes it. */
  release(step: Copy): Promise<void>;
  /** Delete every snapshot still held (the apply is over). */
  close(): Promise<void>;
}

/**
 * Named after the time, so that one left by an interrupted apply is told apart and never reused;
 * `nestctl-copy-` marks it as nestctl's.
 */
const snapshotName = (): string => `nestctl-copy-${Date.now().toString(36)}`;

export function copySnapshots(plan: Pick<Plan, 'steps'>, levels: LevelResolver): CopySnapshots {
  const key = (s: Copy): string => `${s.level}\n${s.source}`;
  const users = new Map<string, number>();
  for (const s of plan.steps) if (s.kind === 'copy-instance') users.set(key(s), (users.get(key(s)) ?? 0) + 1);
  const taken = new Map<string, { level: string; source: string; name: Promise<string> }>();
  const drop = async (id: string): Promise<void> => {
    const t = taken.get(id);
    taken.delete(id);
    const name = await t?.name.catch(() => null);
    if (t && name) await levels(t.level).deleteSnapshot(t.source, name);
  };
  return {
    take: (s) => {
      let t = taken.get(key(s));
      if (!t) {
        const name = snapshotName();
        t = {
          level: s.level,
          source: s.source,
          name: levels(s.level)
            .snapshotInstance(s.source, name)
            .then(() => name),
        };
        taken.set(key(s), t);
      }
      return t.name;
    },
    release: async (s) => {
      const left = (users.get(key(s)) ?? 1) - 1;
      users.set(key(s), left);
      if (left <= 0) await drop(key(s));
    },
    close: async () => {
      await Promise.all([...taken.keys()].map((id) => drop(id).catch(() => undefined)));
    },
  };
}
