// Whether an existing container nestctl did not create may be taken over.

import { type Diagnostic, nodeAt } from '../../../diagnostics.js';
import type { ObservedInstance } from '../../../observed.js';
import { configChanges } from '../../config-drift.js';
import type { LevelChild, LevelContext } from '../../level-context.js';
import type { ResolvedImages } from '../images.js';

/**
 * An existing container nestctl did not create is taken over only when the manifest says
 * `adopt: true`, and only when it is made from the manifest's image (LXD cannot change that in
 * place). Without it, the plan says what differs.
 */
export function adoptionProblem(
  ctx: LevelContext,
  spec: LevelChild['spec'],
  existing: ObservedInstance,
  config: Record<string, string>,
  images: ResolvedImages,
): Diagnostic | null {
  const wanted = images.get(spec.image)?.fingerprint ?? null;
  const current = existing.config['volatile.base_image'] ?? null;
  const imageDiffers = wanted !== null && current !== null && wanted !== current;
  const was = ctx.obs?.images.find((i) => i.fingerprint === current)?.aliases[0] ?? current?.slice(0, 12) ?? 'unknown';
  const changes = configChanges(existing.config, config, spec.ignoreChanges, true);
  const differs = [
    ...(imageDiffers ? [`image ${was}, not ${spec.image}`] : []),
    ...Object.keys(changes.set).map(
      (k) =>
        `${k} ${Object.hasOwn(changes.before, k) ? `is ${JSON.stringify(changes.before[k])}` : 'is unset'}, not ${JSON.stringify(changes.set[k])}`,
    ),
    ...changes.unset.map((k) => `${k} is set (${JSON.stringify(changes.before[k])}), the manifest does not name it`),
  ];
  const where = `${spec.path} exists${ctx.path ? ` in ${ctx.label}` : ''} and was not created by nestctl`;
  if (!spec.adopt) {
    return {
      severity: 'error',
      fault: 'user',
      where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
      message: `${where}${differs.length > 0 ? `; it differs from the manifest: ${differs.join('; ')}` : ''}`,
      hint: `add adopt: true to ${spec.path} in the manifest to manage it from now on (nestctl then owns its config, and destroy may delete it), or rename one of them`,
    };
  }
  if (imageDiffers) {
    return {
      severity: 'error',
      fault: 'user',
      where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
      message: `${where}, and cannot be adopted: it was made from image ${was}, not ${spec.image}`,
      hint: `write image: ${was} for ${spec.path}, or delete it by hand and let nestctl create it`,
    };
  }
  return null;
}
