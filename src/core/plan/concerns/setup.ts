// A child's `setup:` commands run once, after it is created and started and its files are pushed.
// The list's hash is recorded on the container (user.nestctl.setup) only after every command
// succeeded; a list whose hash differs from the recorded one is run again, whole.

import { managedInstance } from '../../observed.js';
import { canonicalJson, sha256 } from '../../hash.js';
import { MARKER_SETUP } from '../desired-config.js';
import type { LevelChild, LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';

export const setupDigest = (commands: string[][]): string => sha256(canonicalJson(commands));

/** `created`: this plan creates the container; `after`: its start and its file pushes. */
export function setupSteps(ctx: LevelContext, child: LevelChild, created: boolean, after: string[]): ConcernResult {
  const out = noConcern();
  const { spec } = child;
  if (spec.setup.length === 0) return out;
  const digest = setupDigest(spec.setup);
  const existing = created ? null : ((ctx.obs && managedInstance(ctx.obs, spec.name)) ?? null);
  const recorded = existing?.config[MARKER_SETUP] ?? null;
  if (recorded === digest) return out;
  const count = `${spec.setup.length} command${spec.setup.length === 1 ? '' : 's'}`;
  out.steps.push({
    id: `${spec.path}:run-setup`,
    level: ctx.path,
    kind: 'run-setup',
    dependsOn: after,
    reason: !existing
      ? `${spec.path} is new: run its ${count}`
      : recorded === null
        ? `${spec.path}'s setup has not run to the end: run ${count}`
        : `the setup list changed: re-run ${count}`,
    name: spec.name,
    path: spec.path,
    commands: spec.setup.map((argv) => [...argv]),
    sha256: digest,
    before: recorded,
    precondition: existing
      ? pre(ctx, { kind: 'instance-config', config: { [MARKER_SETUP]: recorded ?? '' }, profiles: existing.profiles })
      : { kind: 'none' },
  });
  return out;
}
