// Whether an existing child is deleted and created again (Terraform's -/+).

import { type Diagnostic, nodeAt } from '../../../diagnostics.js';
import type { ObservedInstance } from '../../../observed.js';
import { type Deletion, deletionVerdict, keptMessage } from '../../deletion.js';
import { MARKER_PATH } from '../../desired-config.js';
import type { LevelChild, LevelContext } from '../../level-context.js';
import type { ResolvedImages } from '../images.js';

export type Replacing = { ok: true; deletion: Deletion & { verdict: 'delete' }; reason: string; what: string };
export type Replacement = Replacing | { ok: false; problem: Diagnostic };

/**
 * Whether the existing container must be deleted and created again (Terraform's -/+): LXD cannot
 * change an instance's image in place (`volatile.base_image` is the fingerprint it was created
 * from), and `--replace PATH` forces it. Only what the deletion rule may delete is replaced.
 */
export function replacement(ctx: LevelContext, child: LevelChild, found: ObservedInstance, images: ResolvedImages): Replacement | null {
  const { spec } = child;
  if (found.config[MARKER_PATH] !== spec.path) return null;
  const wanted = images.get(spec.image)?.fingerprint ?? null;
  const current = found.config['volatile.base_image'] ?? null;
  const imageChanged = wanted !== null && current !== null && wanted !== current;
  const forced = (ctx.input.options.replace ?? []).includes(spec.path);
  if (!imageChanged && !forced) return null;
  const was = ctx.obs?.images.find((i) => i.fingerprint === current)?.aliases[0] ?? current?.slice(0, 12);
  const what = imageChanged ? `image ${was} → ${spec.image}` : '--replace';
  const why = imageChanged ? `${what}, which LXD cannot change in place` : what;
  const verdict = deletionVerdict(ctx.input.tree, ctx.path, found);
  if (verdict.verdict === 'keep') {
    return {
      ok: false,
      problem: {
        severity: 'error',
        fault: 'user',
        where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
        message: `${spec.path} must be replaced (${why}), but it cannot be deleted: ${keptMessage(verdict)}`,
        hint: imageChanged
          ? `put back the image it was created from, or make it deletable and plan again`
          : `drop --replace ${spec.path}, or make it deletable and plan again`,
      },
    };
  }
  const lost = [
    ...verdict.lxc,
    ...verdict.inner.flatMap(function all(d): string[] {
      return [d.path, ...d.lxc, ...d.inner.flatMap(all)];
    }),
  ];
  const reason = `replace (${why}): deleted and created again; lost: the filesystem of ${spec.path}${lost.length > 0 ? ` and every container inside it (${lost.join(', ')})` : ''}`;
  return { ok: true, deletion: verdict, reason, what };
}
