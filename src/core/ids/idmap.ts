// Id maps as the kernel (/proc/self/uid_map) and LXD (volatile.idmap.*) write them.

import type { IdMapEntry } from '../observed.js';
import type { IdRange } from './range.js';

/** Parse /proc/self/uid_map text ("nsid hostid range" per line) as uid entries. */
export function parseProcIdMap(text: string): IdMapEntry[] {
  const entries: IdMapEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [nsid, hostid, maprange] = parts.map(Number) as [number, number, number];
    if ([nsid, hostid, maprange].some((n) => !Number.isSafeInteger(n))) continue;
    entries.push({ isuid: true, isgid: false, nsid, hostid, maprange });
  }
  return entries;
}

interface LxdIdmapJson {
  Isuid?: boolean;
  Isgid?: boolean;
  Hostid?: number;
  Nsid?: number;
  Maprange?: number;
}

/** Parse LXD's volatile.idmap.current/next/last_state.idmap JSON; [] when absent or unreadable. */
export function parseLxdIdmap(json: string | undefined): IdMapEntry[] {
  if (!json) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return (raw as LxdIdmapJson[]).map((e) => ({
    isuid: Boolean(e.Isuid),
    isgid: Boolean(e.Isgid),
    hostid: Number(e.Hostid ?? 0),
    nsid: Number(e.Nsid ?? 0),
    maprange: Number(e.Maprange ?? 0),
  }));
}

/** The host-side ranges an instance's stored maps use (current, next and last state), uid and gid alike. */
export function hostRangesOfInstance(config: Record<string, string>): IdRange[] {
  const keys = ['volatile.idmap.current', 'volatile.idmap.next', 'volatile.last_state.idmap'];
  const ranges: IdRange[] = [];
  for (const key of keys) {
    for (const e of parseLxdIdmap(config[key])) {
      if (!ranges.some((r) => r.start === e.hostid && r.size === e.maprange)) {
        ranges.push({ start: e.hostid, size: e.maprange });
      }
    }
  }
  return ranges;
}

/** "0 500000 196608" for display and comparison with /proc/self/uid_map. */
export function formatUidMap(entries: IdMapEntry[]): string {
  return entries
    .filter((e) => e.isuid)
    .map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`)
    .join('\n');
}
