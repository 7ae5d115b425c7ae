// A child that is not there to keep is created stopped, then started: after deleting a half-made
// create of nestctl's own, or the container it replaces.

import { daemonName } from '../../../flavour/index.js';
import type { ObservedInstance } from '../../../observed.js';
import { MARKER_PATH, impliedReasons, markers } from '../../desired-config.js';
import { pre } from '../../level-context.js';
import type { Step } from '../../model.js';
import { deleteSteps } from '../../steps/delete.js';
import { createInstanceStep, deleteInstanceStep, startInstanceStep } from '../../steps/instance.js';
import { type ChildInput, type ChildResult, childResult, stepAt, withImplied } from './child.js';
import type { Replacing } from './replace.js';

/** What is in the way of the create: nothing, a half-made create, or a container to replace. */
export type InTheWay = { kind: 'nothing' } | { kind: 'half-made'; found: ObservedInstance } | { kind: 'replaced'; replacing: Replacing };

export function createSteps(c: ChildInput, inTheWay: InTheWay): ChildResult {
  const { ctx, child } = c;
  const { spec, alloc } = child;
  const cleared = clearSteps(c, inTheWay);
  const replacing = inTheWay.kind === 'replaced' ? inTheWay.replacing : null;
  // A hidden level's containers could not be listed: it may exist already.
  const reason = replacing
    ? replacing.reason
    : ctx.hidden
      ? `${ctx.unseenWhy}: ${spec.path} is created once its ${daemonName(ctx.flavour)} runs, unless it exists`
      : ctx.obs
        ? `${spec.path} does not exist in ${ctx.label}`
        : `${ctx.label} is new`;
  const create = createInstanceStep(
    stepAt(c, inTheWay.kind === 'nothing' ? c.deps : cleared.map((s) => s.id), reason, pre(ctx, { kind: 'instance-absent' })),
    {
      image: spec.image,
      fingerprint: c.images.get(spec.image)?.fingerprint ?? null,
      profiles: spec.profiles,
      config: { ...c.config, ...markers(spec) },
      ...withImplied(impliedReasons(spec, alloc, Object.keys(c.config))),
      ...(replacing ? { replace: replacing.what } : {}),
      ...(c.target ? { target: c.target } : {}),
    },
  );
  const start = startInstanceStep(
    stepAt(
      c,
      [create.id],
      ctx.hidden ? `${spec.path} is started unless it runs` : `${spec.path} is created stopped`,
      pre(ctx, { kind: 'none' }),
    ),
    {
      hosting: c.hosting,
      waitBoot: c.waitBoot,
    },
  );
  return childResult({ steps: [...cleared, create, start], created: create.id, running: start.id, replaced: replacing !== null });
}

function clearSteps(c: ChildInput, inTheWay: InTheWay): Step[] {
  const { spec } = c.child;
  switch (inTheWay.kind) {
    case 'nothing':
      return [];
    case 'replaced':
      return deleteSteps(inTheWay.replacing.deletion, inTheWay.replacing.reason, c.deps);
    case 'half-made': {
      const reason = `${spec.path} was left half-made by an interrupted create (it never started): deleted and created again`;
      return [
        deleteInstanceStep(
          stepAt(
            c,
            c.deps,
            reason,
            pre(c.ctx, { kind: 'instance-config', config: { [MARKER_PATH]: spec.path }, profiles: inTheWay.found.profiles }),
          ),
          {},
        ),
      ];
    }
  }
}
