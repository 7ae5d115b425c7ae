// The level's storage pool, managed bridge and default profile root disk (`lxd init --preseed`),
// where missing; on an unseen level the step works out what is missing when it runs.

import { bridgeName, daemonName } from '../../flavour/index.js';
import type { LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import { buildPreseed } from '../preseed.js';
import { type ConcernResult, noConcern } from '../result.js';

/** `after`: the steps that make the level's daemon ready (its restart, or the level's entry). */
export function initSteps(ctx: LevelContext, after: string[]): ConcernResult {
  const out = noConcern();
  const pool = (ctx.obs?.storagePools.length ?? 0) > 0;
  const bridge = ctx.obs?.networks.some((n) => n.managed) ?? false;
  const profile = ctx.obs?.defaultProfileHasRoot ?? false;
  if (pool && bridge && profile) return out;
  const needs = { pool: !pool, bridge: !bridge, profile: !profile };
  out.steps.push({
    id: `${ctx.label}:init-daemon`,
    level: ctx.path,
    kind: 'init-daemon',
    dependsOn: after,
    reason: ctx.hidden
      ? `${ctx.unseenWhy}: its storage pool, managed bridge and default profile are created once it runs, where missing`
      : `${ctx.label}'s ${daemonName(ctx.flavour)} has no ${[!pool && 'storage pool', !bridge && 'managed bridge', !profile && 'root disk in the default profile'].filter(Boolean).join(', ')}`,
    preseed: buildPreseed(needs, ctx.subnet ?? '', bridgeName(ctx.flavour)),
    needs,
    subnet: ctx.subnet ?? '',
    precondition: pre(ctx, { kind: 'none' }),
  });
  return out;
}
