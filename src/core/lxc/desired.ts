// The LXC texts nestctl writes: a user's default.conf (the recipe of LXC's unprivileged-container
// guides, with today's key names), a root-owned container's create-time config, and the keys
// set in every container's own config.

import type { IdRange } from '../ids/range.js';
import { setLxcConfig } from './config-file.js';
import { MARKER_PREFIX, NESTING_CONF } from './paths.js';

function mapAndNet(map: IdRange, bridge: string): string[] {
  return [
    `lxc.idmap = u 0 ${map.start} ${map.size}`,
    `lxc.idmap = g 0 ${map.start} ${map.size}`,
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${bridge}`,
    'lxc.net.0.flags = up',
  ];
}

/**
 * ~USER/.config/lxc/default.conf, which lxc-create copies into every container the user makes.
 * Where AppArmor is enabled the container runs unconfined: LXC's default for a container is a
 * profile it generates and loads with apparmor_parser, which only root may do, so a user's
 * lxc-start could not confine it anyway and fails trying (the recipe of LXC's guides says so).
 */
export function userDefaultConf(map: IdRange, bridge: string, apparmor: boolean): string {
  return `${[...mapAndNet(map, bridge), ...(apparmor ? ['lxc.apparmor.profile = unconfined'] : [])].join('\n')}\n`;
}

/** The file a root-owned container is created with (lxc-create -f): its own slice and the network. */
export const rootCreateConfig = (map: IdRange, bridge: string): string => `${mapAndNet(map, bridge).join('\n')}\n`;

/** The keys nestctl sets in a container's own config: its bridge, nesting when it holds containers, then the manifest's. */
export function containerKeys(bridge: string, nesting: boolean, config: Record<string, string>): Array<[string, string]> {
  return [
    ['lxc.net.0.link', bridge],
    ...(nesting ? ([['lxc.include', NESTING_CONF]] as Array<[string, string]>) : []),
    ...Object.entries(config),
  ];
}

/** A container's config with the keys set and nestctl's marker (its node path) as the last comment of nestctl's. */
export function configuredText(text: string, set: ReadonlyArray<readonly [string, string]>, path: string): string {
  const keyed = setLxcConfig(text, set);
  const marker = `${MARKER_PREFIX}${path}`;
  if (keyed.split('\n').includes(marker)) return keyed;
  const lines = keyed
    .slice(0, -1)
    .split('\n')
    .filter((l) => !l.startsWith(MARKER_PREFIX));
  return `${[...lines, marker].join('\n')}\n`;
}
