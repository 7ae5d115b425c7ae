// Observe everything reachable, for `nestctl import`: there is no manifest to say which levels
// to look into, so the walk is driven by what each level's probe lists. Below the host, every
// running container of the default project with security.nesting=true is probed (one round trip,
// siblings in parallel); whether an LXD runs inside it is the probe's answer. Every level's
// classic LXC containers are read too, of every owner (one more round trip beside the walk).

import { hasListValue } from '../core/lxc/config-file.js';
import { NESTING_CONF } from '../core/lxc/paths.js';
import { mapContradiction } from '../core/observe/map-agreement.js';
import { lxdTrue } from '../core/manifest/config-keys.js';
import { MANAGED_PROJECT, type ObservedInstance, type ObservedLevel, type ObservedTree } from '../core/observed.js';
import { joinPath } from '../core/paths.js';
import { offlineMember } from '../core/plan/placement.js';
import { NestctlError, UntrustedAnswerError } from '../core/errors.js';
import type { LxdLevel } from '../ports/lxd.js';
import { probeInside, withLxc } from './observe.js';

/** A container whose inside may hold a level: it runs, can nest, and is reachable. */
export const mayHoldLevel = (level: ObservedLevel, inst: ObservedInstance): boolean =>
  inst.project === MANAGED_PROJECT &&
  inst.status === 'Running' &&
  lxdTrue(inst.config['security.nesting'] ?? 'false') &&
  offlineMember(level, inst) === null;

/** `remote`: the host is a remote's daemon, reached through the client, whose machine runs no classic LXC of nestctl's. */
export async function discoverTree(host: LxdLevel, remote = false): Promise<ObservedTree> {
  const levels: ObservedTree['levels'] = {};
  const hostLevel = await host.probe();
  // Where LXD and Incus both run, nothing was asked: say so, rather than import an empty host.
  const installed = hostLevel.installed ?? [];
  if (hostLevel.flavour === null && installed.length > 1)
    throw new NestctlError(
      'user',
      `this machine runs ${installed.join(' and ')}, and import was not told which daemon to read`,
      `pass --flavour ${installed.join(' or ')}`,
    );
  await descend(levels, host, hostLevel, remote);
  return { levels };
}

/** Record `level` (with its LXC facts) and walk into each container that may hold one. */
async function descend(levels: ObservedTree['levels'], api: LxdLevel, level: ObservedLevel, noLxc = false): Promise<void> {
  const record = { kind: 'observed' as const, level };
  levels[level.path] = record;
  await Promise.all([
    noLxc
      ? Promise.resolve()
      : withLxc(api, level, [], true).then((withFacts) => {
          record.level = withFacts;
          return descendLxc(levels, api, withFacts);
        }),
    ...level.instances
      .filter((i) => mayHoldLevel(level, i))
      .map(async (inst) => {
        const path = joinPath(level.path, inst.name);
        const child = api.child(inst.name, null);
        const inside = await probeInside(child);
        if (inside.kind !== 'observed') {
          levels[path] = inside;
          return;
        }
        const contradiction = mapContradiction(inst.config, inside.level.uidMap);
        if (contradiction) throw new UntrustedAnswerError(contradiction, path);
        // A container without a daemon inside is still recorded: its subid files say what it maps.
        if (inside.level.daemon.kind !== 'up') {
          levels[path] = inside;
          return;
        }
        await descend(levels, child, inside.level);
      }),
  ]);
}

/** A classic LXC container that includes LXC's nesting.conf may hold LXC containers: each running one is looked into. */
export const lxcMayNest = (config: string): boolean => hasListValue(config, 'lxc.include', NESTING_CONF);

async function descendLxc(levels: ObservedTree['levels'], api: LxdLevel, level: ObservedLevel): Promise<void> {
  const owners = Object.entries(level.lxc?.owners ?? {});
  await Promise.all(
    owners.flatMap(([owner, facts]) =>
      facts.containers
        .filter((c) => c.state === 'RUNNING' && lxcMayNest(c.config.text))
        .map(async (c) => {
          const path = joinPath(level.path, c.name);
          const child = api.lxcChild(c.name, owner === 'root' ? null : owner);
          const inside = await probeInside(child);
          levels[path] = inside;
          if (inside.kind !== 'observed') return;
          inside.level = await withLxc(child, inside.level, [], true);
          await descendLxc(levels, child, inside.level);
        }),
    ),
  );
}
