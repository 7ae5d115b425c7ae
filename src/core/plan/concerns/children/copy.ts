// A child with `copy_of:` that is not there yet: one step at its parent's level that snapshots its
// source, copies the snapshot, sets the copy's config and starts it, and starts in it what ran in
// the source (core/plan/copies.ts saw it). What the copy adds to its source (files, setup, config)
// is planned after it as for any container. A copy that holds containers is made only from a
// source that runs and was seen: what it will hold is planned from what the source holds.

import { impliedReasons, markers } from '../../desired-config.js';
import { pre } from '../../level-context.js';
import { copyInstanceStep } from '../../steps/instance.js';
import { type ChildInput, type ChildResult, childResult, stepAt, withImplied } from './child.js';

export function copySteps(c: ChildInput): ChildResult {
  const { ctx, child } = c;
  const { spec, alloc } = child;
  const source = spec.copyOf!;
  const view = ctx.input.copies?.get(spec.path) ?? null;
  if (c.hosting && !view)
    return childResult({
      warnings: [
        `${spec.path} is a copy of ${source.path}, which holds containers and is not running yet: apply copies it once ${source.path} runs, and plans what it holds then`,
      ],
      unplaced: true,
      deferred: true,
    });
  const reason = ctx.obs
    ? `${spec.path} does not exist in ${ctx.label}: copied from ${source.path} (copy_of)`
    : `${ctx.label} is new: ${spec.path} is copied from ${source.path} (copy_of)`;
  const step = copyInstanceStep(stepAt(c, c.deps, reason, pre(ctx, { kind: 'instance-absent' })), {
    source: source.name,
    sourcePath: source.path,
    config: { ...c.config, ...markers(spec) },
    ...withImplied(impliedReasons(spec, alloc, Object.keys(c.config))),
    ...(c.target ? { target: c.target } : {}),
    hosting: c.hosting,
    waitBoot: c.waitBoot,
    inside: view?.inside ?? [],
    markers: view?.markers ?? [],
  });
  return childResult({ steps: [step], created: step.id, running: step.id, copied: true });
}
