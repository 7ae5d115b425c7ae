// The image steps (core/plan/concerns/images.ts): a fetch at the host, and a copy into a level,
// skipped when the image is there already. A copy takes the bundle staged for it
// (engine/image-exports.ts) or exports one itself, pushes it down the hops left and imports it;
// a copy to a remote host's top level is relayed from this machine's store instead.

import { EnvironmentError } from '../../core/errors.js';
import { joinPath } from '../../core/paths.js';
import type { ImageBundle } from '../../ports/lxd.js';
import { CHANGED, fingerprintAt } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

type CopyImage = StepOf<'copy-image'>;

/** A bundle on its way down, and how many of the copy's hops it has made. */
interface Staged {
  bundle: ImageBundle;
  hopsDone: number;
}

const THERE: StepResult = { changed: false, why: 'image already there' };

export async function fetchImage(step: StepOf<'fetch-image'>, { level }: StepRun): Promise<StepResult> {
  await level.fetchImage(step.remote, step.alias);
  return CHANGED;
}

export async function copyImage(step: CopyImage, run: StepRun): Promise<StepResult> {
  if (step.relay !== undefined) return relayImage(step, run);
  const { level, levels, context } = run;
  // The bundle was staged for the whole apply (engine/image-exports.ts), when the plan knew it was needed.
  const shared = context.exports.stages(step);
  try {
    const target = await level.images();
    const fingerprint = step.fingerprint ?? (await fingerprintAt(levels, step.source, step.aliases));
    if (target.some((i) => i.fingerprint === fingerprint)) return THERE;
    const staged = shared ? await context.exports.take(step) : { bundle: await levels(step.source).exportImage(fingerprint), hopsDone: 0 };
    await pushAndImport(step, run, staged, shared);
    return CHANGED;
  } finally {
    if (shared) await context.exports.release(step);
  }
}

/**
 * `staged` pushed through the copy's hops left and imported at its level. Each bundle is removed
 * once the next is made, and the last one whatever happens; a shared staged bundle is not the
 * copy's to remove (its last user releases it).
 */
async function pushAndImport(step: CopyImage, { level, levels }: StepRun, staged: Staged, shared: boolean): Promise<void> {
  const drop = async (b: ImageBundle): Promise<void> => {
    if (b !== staged.bundle || !shared) await levels(b.level).discardBundle(b);
  };
  let bundle = staged.bundle;
  let here = bundle.level;
  try {
    for (const hop of step.hops.slice(staged.hopsDone)) {
      const next = await levels(here).pushBundle(bundle, hop);
      await drop(bundle);
      bundle = next;
      here = joinPath(here, hop);
    }
    await level.importImage(bundle, step.aliases);
  } finally {
    await drop(bundle).catch(() => undefined);
  }
}

/** A copy from this machine's store to a remote host's, skipped when the image is there already. */
async function relayImage(step: CopyImage, { level, context }: StepRun): Promise<StepResult> {
  if (!context.relay || step.fingerprint === null)
    throw new EnvironmentError(
      `${step.id}: a relay copy needs a remote host and the image's fingerprint`,
      'report this as a bug',
      step.level,
    );
  const fingerprint = step.fingerprint;
  if ((await level.images()).some((i) => i.fingerprint === fingerprint)) return THERE;
  await context.relay(fingerprint, step.aliases);
  return CHANGED;
}
