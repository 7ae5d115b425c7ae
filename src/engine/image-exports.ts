// The image bundles exported for a plan's copy-image steps: each image is exported once per
// source level and shared by every copy that starts there. Those whose source and fingerprint the
// plan knows are exported as soon as the apply starts, off the critical path (the export only
// reads the source's image store and writes nestctl's own temp directory); each bundle is removed
// when its last copy is done, and whatever is left when the apply ends.

import type { Plan } from '../core/plan/model.js';
import type { ImageBundle } from '../ports/lxd.js';
import type { LevelResolver } from './levels.js';

export interface ImageExports {
  /** The bundle of `fingerprint` at level `source`; exported now unless it was already. */
  take(source: string, fingerprint: string): Promise<ImageBundle>;
  /** One copy from `source` is done with it; the last one removes the bundle. */
  release(source: string, fingerprint: string): Promise<void>;
  /** Remove every bundle still held (the apply is over). */
  close(): Promise<void>;
}

export function imageExports(plan: Pick<Plan, 'steps'>, levels: LevelResolver): ImageExports {
  const key = (source: string, fingerprint: string): string => `${source}\n${fingerprint}`;
  const users = new Map<string, number>();
  const bundles = new Map<string, Promise<ImageBundle>>();
  const start = (source: string, fingerprint: string): Promise<ImageBundle> => {
    const k = key(source, fingerprint);
    let b = bundles.get(k);
    if (!b) {
      b = levels(source).exportImage(fingerprint);
      b.catch(() => undefined); // a failed export is reported by the copy that takes it
      bundles.set(k, b);
    }
    return b;
  };
  const discard = async (k: string): Promise<void> => {
    const b = bundles.get(k);
    bundles.delete(k);
    const bundle = await b?.catch(() => null);
    if (bundle) await levels(bundle.level).discardBundle(bundle).catch(() => undefined);
  };
  for (const s of plan.steps) {
    if (s.kind !== 'copy-image' || s.fingerprint === null) continue;
    users.set(key(s.source, s.fingerprint), (users.get(key(s.source, s.fingerprint)) ?? 0) + 1);
  }
  for (const k of users.keys()) {
    const [source, fingerprint] = k.split('\n') as [string, string];
    start(source, fingerprint);
  }
  return {
    take: start,
    release: async (source, fingerprint) => {
      const k = key(source, fingerprint);
      const left = (users.get(k) ?? 1) - 1;
      users.set(k, left);
      if (left <= 0) await discard(k);
    },
    close: async () => {
      await Promise.all([...bundles.keys()].map(discard));
    },
  };
}
