// The image bundles of a plan's copy-image steps, staged ahead of the copies: each image is
// exported once per source level, and pushed down into each container on its way as soon as that
// container runs (a file push needs the container, not its daemon), so the transfers overlap the
// containers' own subid edits, daemon restarts and inits. An export or a push at a level waits for
// that level's daemon restart, when the plan has one: its client talks to that daemon. Every copy
// that starts the same way shares the bundles; each is removed after its last copy, and whatever
// is left when the apply ends. An image relayed to a remote host is exported there once it arrived. Copies of an image fetched during the apply, and copies into a
// level planned unseen, stage nothing.

import { joinPath } from '../core/paths.js';
import type { Plan, Step } from '../core/plan/model.js';
import type { ImageBundle } from '../ports/lxd.js';
import type { LevelResolver } from './levels.js';

type Copy = Extract<Step, { kind: 'copy-image' }>;

export interface ImageExports {
  /** Whether `step`'s bundles are staged here (else the copy exports and pushes them itself). */
  stages(step: Copy): boolean;
  /** The bundle for `step` as far down as it is staged; exported now if it is not yet. */
  take(step: Copy): Promise<{ bundle: ImageBundle; hopsDone: number }>;
  /** `step` is done with its staged bundles; the last copy to use one removes it. */
  release(step: Copy): Promise<void>;
  /** A step completed: stages waiting for it may start. */
  stepDone(step: Step): void;
  /** Remove every bundle still held (the apply is over). */
  close(): Promise<void>;
}

/** The steps after which a container runs (the plan's start or remap of it). */
const RUNS: ReadonlySet<Step['kind']> = new Set(['start-instance', 'restart-instance', 'move-instance', 'copy-instance']);

/** The step makes container `path` run (a rename only when it starts it again: before, the name is not there). */
const runs = (t: Step): t is Step & { path: string } => (RUNS.has(t.kind) && 'path' in t) || (t.kind === 'rename-instance' && t.running);

export function imageExports(plan: Pick<Plan, 'steps'>, levels: LevelResolver): ImageExports {
  // Only copies known to be needed: into a level seen without the image, or into a container this
  // apply creates. A level planned unseen may hold the image already ("unless there").
  const created = new Set(plan.steps.flatMap((t) => (t.kind === 'create-instance' ? [t.path] : [])));
  const copies = plan.steps.filter(
    (s): s is Copy =>
      s.kind === 'copy-image' &&
      s.relay === undefined &&
      s.fingerprint !== null &&
      (s.precondition.kind !== 'level-new' || created.has(s.level)),
  );
  /** Stage k of a copy: its bundle pushed through its first k hops (0: exported at the source). */
  const key = (s: Copy, k: number): string => [s.source, s.fingerprint, ...s.hops.slice(0, k)].join('\n');
  const at = (s: Copy, k: number): string => s.hops.slice(0, k).reduce(joinPath, s.source);
  // What a stage waits for: the daemon restart of the level it runs at, the start of the container
  // it pushes into, and an export the relay of its image to a remote host's top level.
  const relayed = (level: string, fingerprint: string | null): string => `image ${level} ${fingerprint}`;
  const pending = new Set(
    plan.steps.flatMap((t) =>
      t.kind === 'restart-daemon'
        ? [`daemon ${t.level}`]
        : runs(t)
          ? [`runs ${t.path}`]
          : t.kind === 'copy-image' && t.relay !== undefined
            ? [relayed(t.level, t.fingerprint)]
            : [],
    ),
  );
  const ready = (s: Copy, k: number): boolean =>
    !pending.has(`daemon ${at(s, Math.max(0, k - 1))}`) &&
    (k === 0 ? !pending.has(relayed(s.source, s.fingerprint)) : !pending.has(`runs ${at(s, k)}`));

  const users = new Map<string, number>();
  for (const s of copies) for (let k = 0; k <= s.hops.length; k += 1) users.set(key(s, k), (users.get(key(s, k)) ?? 0) + 1);
  const bundles = new Map<string, Promise<ImageBundle>>();
  const stage = (s: Copy, k: number): Promise<ImageBundle> => {
    const id = key(s, k);
    let b = bundles.get(id);
    if (!b) {
      b =
        k === 0
          ? levels(s.source).exportImage(s.fingerprint!)
          : stage(s, k - 1).then((up) => levels(at(s, k - 1)).pushBundle(up, s.hops[k - 1]!));
      b.catch(() => undefined); // a failed stage is reported by the copy that takes it
      bundles.set(id, b);
    }
    return b;
  };
  /** Starts every stage whose wait is over, hop by hop, down into the copy's own level. */
  const advance = (): void => {
    for (const s of copies) {
      // A stage every copy is done with is not made again.
      for (let k = 0; k <= s.hops.length && ready(s, k) && (users.get(key(s, k)) ?? 0) > 0; k += 1) stage(s, k);
    }
  };
  const discard = async (id: string): Promise<void> => {
    const b = bundles.get(id);
    bundles.delete(id);
    const bundle = await b?.catch(() => null);
    if (bundle)
      await levels(bundle.level)
        .discardBundle(bundle)
        .catch(() => undefined);
  };
  advance();
  const staged = new Set<Step>(copies);
  return {
    stages: (s) => staged.has(s),
    take: async (s) => {
      let k = s.hops.length;
      while (k > 0 && !bundles.has(key(s, k))) k -= 1;
      return { bundle: await stage(s, k), hopsDone: k };
    },
    release: async (s) => {
      for (let k = s.hops.length; k >= 0; k -= 1) {
        const id = key(s, k);
        const left = (users.get(id) ?? 1) - 1;
        users.set(id, left);
        if (left <= 0) await discard(id);
      }
    },
    stepDone: (step) => {
      const was = pending.size;
      if (step.kind === 'restart-daemon') pending.delete(`daemon ${step.level}`);
      if (runs(step)) pending.delete(`runs ${step.path}`);
      if (step.kind === 'copy-image' && step.relay !== undefined) pending.delete(relayed(step.level, step.fingerprint));
      if (pending.size !== was) advance();
    },
    close: async () => {
      await Promise.all([...bundles.keys()].map(discard));
    },
  };
}
