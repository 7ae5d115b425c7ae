// raw.idmap as LXD reads and merges it: ParseRawIdmap and IdmapSet.AddSafe, with
// IdmapEntry.Intersects and HostidsIntersect (shared/idmap → lxd/idmap, idmapset_linux.go),
// quirks included (Intersects' "-1" upper bounds).

import { entry, type LxdIdmapEntry } from './idmap.js';
const isBetween = (x: number, low: number, high: number): boolean => x >= low && x < high;

/** IdmapEntry.Intersects (with LXD's "-1" upper bounds, kept as they are). */
function intersects(e: LxdIdmapEntry, i: LxdIdmapEntry): boolean {
  if (!((e.Isuid && i.Isuid) || (e.Isgid && i.Isgid))) return false;
  return (
    isBetween(e.Hostid, i.Hostid, i.Hostid + i.Maprange - 1) ||
    isBetween(i.Hostid, e.Hostid, e.Hostid + e.Maprange - 1) ||
    isBetween(e.Hostid + e.Maprange - 1, i.Hostid, i.Hostid + i.Maprange - 1) ||
    isBetween(i.Hostid + i.Maprange - 1, e.Hostid, e.Hostid + e.Maprange - 1) ||
    isBetween(e.Nsid, i.Nsid, i.Nsid + i.Maprange - 1) ||
    isBetween(i.Nsid, e.Nsid, e.Nsid + e.Maprange - 1) ||
    isBetween(e.Nsid + e.Maprange - 1, i.Nsid, i.Nsid + i.Maprange - 1) ||
    isBetween(i.Nsid + i.Maprange - 1, e.Nsid, e.Nsid + e.Maprange - 1)
  );
}

/** IdmapEntry.HostidsIntersect. */
function hostidsIntersect(e: LxdIdmapEntry, i: LxdIdmapEntry): boolean {
  if (!((e.Isuid && i.Isuid) || (e.Isgid && i.Isgid))) return false;
  return (
    isBetween(e.Hostid, i.Hostid, i.Hostid + i.Maprange) ||
    isBetween(i.Hostid, e.Hostid, e.Hostid + e.Maprange) ||
    isBetween(e.Hostid + e.Maprange, i.Hostid, i.Hostid + i.Maprange) ||
    isBetween(i.Hostid + i.Maprange, e.Hostid, e.Hostid + e.Maprange)
  );
}

export const ERR_HOST_ID_IS_SUB_ID = 'Host id is in the range of subids';

/** IdmapSet.AddSafe: split every entry the new one intersects; refuse when host ids collide. */
export function addSafe(set: LxdIdmapEntry[], i: LxdIdmapEntry): LxdIdmapEntry[] | { error: string } {
  const result: LxdIdmapEntry[] = [];
  let added = false;
  for (const e of set) {
    if (!intersects(e, i)) {
      result.push(e);
      continue;
    }
    if (hostidsIntersect(e, i)) return { error: ERR_HOST_ID_IS_SUB_ID };
    added = true;
    const lower: LxdIdmapEntry = { Isuid: e.Isuid, Isgid: e.Isgid, Hostid: e.Hostid, Nsid: e.Nsid, Maprange: i.Nsid - e.Nsid };
    const upper: LxdIdmapEntry = {
      Isuid: e.Isuid,
      Isgid: e.Isgid,
      Hostid: e.Hostid + lower.Maprange + i.Maprange,
      Nsid: i.Nsid + i.Maprange,
      Maprange: e.Maprange - i.Maprange - lower.Maprange,
    };
    if (lower.Maprange > 0) result.push(lower);
    result.push(i);
    if (upper.Maprange > 0) result.push(upper);
  }
  if (!added) result.push(i);
  return result;
}

/** ParseRawIdmap: lines "uid|gid|both HOST[-END] NS[-END]". */
export function parseRawIdmap(value: string | undefined): LxdIdmapEntry[] | { error: string } {
  const getRange = (r: string): [number, number] | string => {
    const parts = r.split('-');
    if (parts.length > 2) return `Invalid ID map range: ${r}`;
    const base = Number.parseInt(parts[0] ?? '', 10);
    if (!/^[+-]?\d+$/.test(parts[0] ?? '')) return `strconv.ParseInt: parsing ${JSON.stringify(parts[0] ?? '')}: invalid syntax`;
    if (parts.length === 1) return [base, 1];
    if (!/^[+-]?\d+$/.test(parts[1] ?? '')) return `strconv.ParseInt: parsing ${JSON.stringify(parts[1] ?? '')}: invalid syntax`;
    return [base, Number.parseInt(parts[1] ?? '', 10) - base + 1];
  };
  let set: LxdIdmapEntry[] = [];
  for (const line of (value ?? '').split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    if (fields.length !== 3) return { error: `Invalid ID map line: ${line}` };
    const outside = getRange(fields[1] ?? '');
    if (typeof outside === 'string') return { error: outside };
    const inside = getRange(fields[2] ?? '');
    if (typeof inside === 'string') return { error: inside };
    if (inside[1] !== outside[1]) return { error: `The ID map ranges are of different sizes: ${line}` };
    const kind = fields[0] === 'both' ? 'b' : fields[0] === 'uid' ? 'u' : fields[0] === 'gid' ? 'g' : null;
    if (!kind) return { error: `Invalid ID map type: ${line}` };
    const next = addSafe(set, entry(kind, inside[0], outside[0], inside[1]));
    if (!Array.isArray(next)) return next;
    set = next;
  }
  return set;
}
