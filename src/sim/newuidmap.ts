// The check shadow's newuidmap/newgidmap apply when liblxc asks them to write a container's map
// (Debian's LXD and Incus with the `uidmap` package). From shadow: src/newuidmap.c
// (verify_range, verify_ranges) and lib/subordinateio.c (find_range, have_range). Unlike LXD,
// which uses only the first root entry, newuidmap accepts a map covered by ANY of root's entries
// (adjacent entries chain).

import type { LxdIdmapEntry } from './idmap.js';

interface SubRange {
  owner: string;
  start: number;
  count: number;
}

/** subordinate_parse: "owner:start:count" lines; anything else is ignored. */
function parseSubordinate(text: string): SubRange[] {
  const out: SubRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:]+):(\d+):(\d+)$/.exec(line);
    if (m) out.push({ owner: m[1]!, start: Number(m[2]), count: Number(m[3]) });
  }
  return out;
}

/** find_range: a range of the caller's (by name, or by uid 0 for root) containing `val`. */
function findRange(ranges: SubRange[], val: number, owner: string): SubRange | undefined {
  return ranges.find((r) => (r.owner === owner || (owner === 'root' && r.owner === '0')) && val >= r.start && val <= r.start + r.count - 1);
}

/** have_range: [start, start+count) covered by the caller's ranges, chaining from one into the next. */
function haveRange(ranges: SubRange[], start: number, count: number, owner: string): boolean {
  if (count === 0) return false;
  const end = start + count - 1;
  let range = findRange(ranges, start, owner);
  while (range) {
    const last = range.start + range.count - 1;
    if (last >= end) return true;
    range = findRange(ranges, last + 1, owner);
  }
  return false;
}

/**
 * verify_ranges for one map (uid or gid entries): null when newuidmap accepts it, else its
 * stderr line. `subText` null: the file is missing (open fails). `owner`: who runs it (root for
 * LXD; a user for their classic LXC containers).
 */
export function newidmapRefusal(kind: 'uid' | 'gid', map: readonly LxdIdmapEntry[], subText: string | null, owner = 'root'): string | null {
  const prog = kind === 'uid' ? 'newuidmap' : 'newgidmap';
  const entries = map.filter((e) => (kind === 'uid' ? e.Isuid : e.Isgid));
  if (entries.length === 0) return null;
  if (subText === null) return `${prog}: open of /etc/sub${kind} failed: No such file or directory`;
  const ranges = parseSubordinate(subText);
  for (const e of entries) {
    const ok = (e.Maprange > 0 && haveRange(ranges, e.Hostid, e.Maprange, owner)) || (e.Maprange === 1 && e.Hostid === 0); // root may map its own id
    if (!ok) return `${prog}: ${kind} range [${e.Nsid}-${e.Nsid + e.Maprange}) -> [${e.Hostid}-${e.Hostid + e.Maprange}) not allowed`;
  }
  return null;
}
