// A level's own uid map (its /proc/self/uid_map, from its probe) against the map its parent's
// daemon says it gave the container (volatile.idmap.current: "the idmap currently in use by the
// instance", LXD doc/config-options instance volatile keys). The kernel map is written from that
// very set (one line per uid entry), so the two agree on a real container; a level that reports
// other ids than it was given is lying about itself, and nothing it says is planned on.

import { parseLxdIdmap } from '../ids/idmap.js';
import type { IdMapEntry } from '../observed.js';

const key = (e: Pick<IdMapEntry, 'nsid' | 'hostid' | 'maprange'>): string => `${e.nsid} ${e.hostid} ${e.maprange}`;

/**
 * Why `reported` (the level's own uid map) contradicts `config` (its instance's config one level
 * up), or null when they agree or the parent states no map (a privileged container, an old daemon).
 */
export function mapContradiction(config: Readonly<Record<string, string>>, reported: readonly IdMapEntry[]): string | null {
  const given = parseLxdIdmap(config['volatile.idmap.current']).filter((e) => e.isuid);
  if (given.length === 0) return null;
  const want = given.map(key).sort();
  const have = reported.map(key).sort();
  if (want.length === have.length && want.every((k, i) => k === have[i])) return null;
  return `it reports the uid map [${have.join(', ') || 'none'}], but its parent's daemon gave it [${want.join(', ')}] (volatile.idmap.current)`;
}
