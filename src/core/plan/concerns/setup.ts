// A child's `setup:` commands run once, after it is created and started and its files are pushed.
// The list's hash is recorded on the container (user.nestctl.setup) only after every command
// succeeded; a list whose hash differs from the recorded one is run again, whole, unless the
// recorded hash is that of its first commands (commands were added at the end, or the container
// is a copy whose source ran them): then only the commands after them run.

import { managedInstance } from '../../observed.js';
import { canonicalJson, sha256 } from '../../hash.js';
import { MARKER_SETUP } from '../desired-config.js';
import type { LevelChild, LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';

export const setupDigest = (commands: string[][]): string => sha256(canonicalJson(commands));

/** How many of the list's first commands the recorded hash stands for (0: none of them, or not a beginning of it). */
function ranBefore(setup: string[][], recorded: string | null): number {
  if (recorded === null) return 0;
  for (let k = setup.length - 1; k > 0; k--) if (setupDigest(setup.slice(0, k)) === recorded) return k;
  return 0;
}

/**
 * `created`: this plan creates the container (`copied`: as a copy, which carries its source's
 * record of the first `spec.copyOf.setup` commands); `after`: its start and its file pushes.
 */
export function setupSteps(ctx: LevelContext, child: LevelChild, created: boolean, after: string[], copied = false): ConcernResult {
  const out = noConcern();
  const { spec } = child;
  if (spec.setup.length === 0) return out;
  const digest = setupDigest(spec.setup);
  const existing = created ? null : ((ctx.obs && managedInstance(ctx.obs, spec.name)) ?? null);
  const inherited = copied && spec.copyOf ? spec.copyOf.setup : 0;
  const recorded = existing ? (existing.config[MARKER_SETUP] ?? null) : inherited > 0 ? setupDigest(spec.setup.slice(0, inherited)) : null;
  if (recorded === digest) return out;
  const ran = ranBefore(spec.setup, recorded);
  const left = spec.setup.length - ran;
  const count = `${left} command${left === 1 ? '' : 's'}`;
  out.steps.push({
    id: `${spec.path}:run-setup`,
    level: ctx.path,
    kind: 'run-setup',
    dependsOn: after,
    reason:
      !existing && ran > 0
        ? `${spec.path} is a copy of ${spec.copyOf!.path}, which ran the first ${ran}: run the ${count} after them`
        : !existing
          ? `${spec.path} is new: run its ${count}`
          : recorded === null
            ? `${spec.path}'s setup has not run to the end: run ${count}`
            : ran > 0
              ? `the setup list grew after the ${ran} that ran: run the ${count} after them`
              : `the setup list changed: re-run ${count}`,
    name: spec.name,
    path: spec.path,
    commands: spec.setup.slice(ran).map((argv) => [...argv]),
    sha256: digest,
    before: recorded,
    ran,
    precondition: existing
      ? pre(ctx, { kind: 'instance-config', config: { [MARKER_SETUP]: recorded ?? '' }, profiles: existing.profiles })
      : { kind: 'none' },
  });
  return out;
}
