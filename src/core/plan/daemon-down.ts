// A nested level whose LXD is installed but not running (stopped by hand, crashed): its subid
// files and id namespace were read without it, but its pools, bridge, images and containers are
// unseen until it runs. The planner starts it first (the level's restart: `systemctl restart lxd`
// starts a stopped unit) and plans what depends on it as for a new level.

import { daemonName, type Flavour } from '../flavour/index.js';
import { type IdRange, sameRange } from '../ids/range.js';
import type { ObservedLevel } from '../observed.js';
import { usableEntries } from '../subid/file.js';
import type { Pin } from './level-entry.js';

/** Why the level's daemon is started. */
export const daemonDownReason = (label: string, error: string, flavour: Flavour): string =>
  `${label}'s ${daemonName(flavour)} is not running (${error.trim()}): start it`;

/** Prefix for what is decided only once the daemon runs. */
export const whileDown = (label: string, flavour: Flavour | null): string =>
  `${label}'s ${daemonName(flavour)} was not running when planned`;

/**
 * The containers of a level whose daemon is down cannot be listed, so which old root entries
 * still cover their maps is unknown: every old usable entry is kept (after the new one), as a
 * pin would keep it. A later plan, with the daemon up, drops the ones nothing uses.
 */
export function unseenPins(level: ObservedLevel, owner: string, entry: IdRange, label: string, flavour: Flavour): Pin[] {
  const pins: Pin[] = [];
  for (const e of [...usableEntries(level.subuid.text, owner), ...usableEntries(level.subgid.text, owner)]) {
    if (sameRange(e, entry) || pins.some((p) => sameRange(p.range, e))) continue;
    pins.push({
      range: { start: e.start, size: e.size },
      by: [`${label}'s containers (not listed while its ${daemonName(flavour)} is down)`],
    });
  }
  return pins;
}
