// LXD's own id-map rules, re-implemented from LXD's source so the simulator decides exactly as a
// real daemon would. Deliberately independent of nestctl's allocator (src/core/ids): the e2e
// comparison is only meaningful if the two are written separately. Only the flavours' fixed facts
// (the host's hard-coded range, which daemon reads which files, where Incus's findIdmap differs
// from LXD's) come from core/flavour.
//
// This file: the daemon's range. Source (canonical/lxd): shared/idmap/idmapset_linux.go, later
// lxd/idmap/idmapset_linux.go — getFromShadow, DefaultIdmapSet, kernelDefaultMap,
// CurrentIdmapSet, ValidRanges, IdmapEntry.Usable, GetIdmapSet. Containers' maps: find-idmap.ts;
// raw.idmap: raw-idmap.ts.

import { kernelDefaultRange } from '../core/flavour/index.js';

/** One entry as LXD keeps it (Go struct IdmapEntry); JSON field order as LXD marshals it. */
export interface LxdIdmapEntry {
  Isuid: boolean;
  Isgid: boolean;
  Hostid: number;
  Nsid: number;
  Maprange: number;
}

/** Go struct IdRange: a contiguous block of ids of one kind in the current namespace. */
interface IdRange {
  isuid: boolean;
  isgid: boolean;
  startid: number;
  endid: number;
}

const U32_MAX = 4294967295;

export function entry(kind: 'u' | 'g' | 'b', nsid: number, hostid: number, maprange: number): LxdIdmapEntry {
  return { Isuid: kind !== 'g', Isgid: kind !== 'u', Hostid: hostid, Nsid: nsid, Maprange: maprange };
}

/** json.Marshal(set.Idmap), as stored in volatile.idmap.next/current and volatile.last_state.idmap. */
export function idmapToJson(set: readonly LxdIdmapEntry[]): string {
  return JSON.stringify(set.map((e) => ({ Isuid: e.Isuid, Isgid: e.Isgid, Hostid: e.Hostid, Nsid: e.Nsid, Maprange: e.Maprange })));
}

/** JSONUnmarshal: "" or "[]" → empty set. */
export function idmapFromJson(text: string | undefined): LxdIdmapEntry[] {
  if (!text) return [];
  const raw = JSON.parse(text) as Array<Partial<LxdIdmapEntry>>;
  return raw.map((e) => ({
    Isuid: Boolean(e.Isuid),
    Isgid: Boolean(e.Isgid),
    Hostid: Number(e.Hostid ?? 0),
    Nsid: Number(e.Nsid ?? 0),
    Maprange: Number(e.Maprange ?? 0),
  }));
}

/** IdmapEntry.ToLxcString: "u 0 500000 196608" (and "g ..." for both). */
export function toLxcStrings(e: LxdIdmapEntry): string[] {
  const out: string[] = [];
  if (e.Isuid) out.push(`u ${e.Nsid} ${e.Hostid} ${e.Maprange}`);
  if (e.Isgid) out.push(`g ${e.Nsid} ${e.Hostid} ${e.Maprange}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading /etc/subuid and /etc/subgid: getFromShadow.

export type ShadowRead =
  | { kind: 'entries'; entries: Array<[start: number, size: number]> }
  /** ErrNoUserMap: the user has no line at all. */
  | { kind: 'no-user-map' }
  | { kind: 'error'; message: string };

/** Go's strconv.ParseUint(s, 10, 32). */
function parseUint32(s: string): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n <= U32_MAX ? n : null;
}

/** bufio.Scanner lines: "\n"-separated, a trailing "\r" dropped, no empty last line. */
function scanLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Go's %q of a []string, for LXD's "Unexpected values" message. */
const goQuoteSlice = (parts: string[]): string => `[${parts.map((p) => JSON.stringify(p)).join(' ')}]`;

/**
 * getFromShadow: every line of `username` (matched with strings.EqualFold), in file order.
 * Text before "#" only; a non-empty line with fewer than 3 ":" fields is an error for the whole
 * file; lines whose numbers do not parse as uint32 are skipped.
 */
export function getFromShadow(text: string, fname: string, username = 'root'): ShadowRead {
  const entries: Array<[number, number]> = [];
  for (const line of scanLines(text)) {
    const beforeComment = line.split('#')[0] ?? '';
    if (beforeComment.length === 0) continue;
    const fields = beforeComment.split(':');
    if (fields.length < 3) return { kind: 'error', message: `Unexpected values in ${JSON.stringify(fname)}: ${goQuoteSlice(fields)}` };
    if ((fields[0] ?? '').toLowerCase() !== username.toLowerCase()) continue;
    const start = parseUint32(fields[1] ?? '');
    if (start === null) continue;
    const size = parseUint32(fields[2] ?? '');
    if (size === null) continue;
    entries.push([start, size]);
  }
  return entries.length === 0 ? { kind: 'no-user-map' } : { kind: 'entries', entries };
}

// ---------------------------------------------------------------------------------------------
// The level's own namespace: CurrentIdmapSet (/proc/self/uid_map + gid_map) and ValidRanges.

/** ValidRanges: sort (uid entries first, then gid, then by Nsid) and merge contiguous Nsid blocks. */
export function validRanges(kernel: readonly LxdIdmapEntry[]): IdRange[] {
  const sorted = [...kernel].sort((a, b) => {
    if (a.Isuid !== b.Isuid) return a.Isuid ? -1 : 1;
    if (a.Isgid !== b.Isgid) return a.Isgid ? -1 : 1;
    return a.Nsid - b.Nsid;
  });
  const ranges: IdRange[] = [];
  for (const e of sorted) {
    const prev = ranges.find((r) => r.isuid === e.Isuid && r.isgid === e.Isgid && r.endid + 1 === e.Nsid);
    if (prev) {
      prev.endid += e.Maprange;
      continue;
    }
    ranges.push({ isuid: e.Isuid, isgid: e.Isgid, startid: e.Nsid, endid: e.Nsid + e.Maprange - 1 });
  }
  return ranges;
}

/** The kernel set of a level as CurrentIdmapSet builds it: uid_map lines as uid entries, gid_map lines as gid entries. */
export function kernelSetOf(map: readonly LxdIdmapEntry[]): LxdIdmapEntry[] {
  const out: LxdIdmapEntry[] = [];
  for (const e of map) if (e.Isuid) out.push({ ...e, Isgid: false });
  for (const e of map) if (e.Isgid) out.push({ ...e, Isuid: false });
  return out;
}

/** The host's own namespace: "0 0 4294967295" in both uid_map and gid_map. */
export const FULL_KERNEL_SET: LxdIdmapEntry[] = [entry('u', 0, 0, U32_MAX), entry('g', 0, 0, U32_MAX)];

/** LXD's hard-coded map for a real host (and for an unreadable /proc): core/flavour's kernel default. */
const HOST_DEFAULT = kernelDefaultRange(true, 0);
const HARDCODED: LxdIdmapEntry[] = [
  entry('u', 0, HOST_DEFAULT.start, HOST_DEFAULT.size),
  entry('g', 0, HOST_DEFAULT.start, HOST_DEFAULT.size),
];

/**
 * kernelDefaultMap: with no usable shadow files, LXD carves its range out of its own namespace:
 * on a full host namespace the fixed host default; otherwise, per kind, the first valid
 * range reaching past 100000, starting at 100000, if Endid-Startid ≥ 65536.
 */
export function kernelDefaultMap(kernel: readonly LxdIdmapEntry[]): LxdIdmapEntry[] {
  const ranges = validRanges(kernel);
  const full =
    ranges.length === 2 &&
    ranges[0]!.isuid &&
    !ranges[0]!.isgid &&
    ranges[0]!.startid === 0 &&
    ranges[0]!.endid === U32_MAX - 1 &&
    !ranges[1]!.isuid &&
    ranges[1]!.isgid &&
    ranges[1]!.startid === 0 &&
    ranges[1]!.endid === U32_MAX - 1;
  if (full) return HARDCODED.map((e) => ({ ...e }));
  const set: LxdIdmapEntry[] = [];
  for (const kind of ['u', 'g'] as const) {
    for (const r of ranges) {
      if (kind === 'u' ? !r.isuid : !r.isgid) continue;
      if (r.endid < 100000) continue; // separate from the system's own POSIX allocation
      const start = Math.max(r.startid, 100000);
      if (r.endid - start < 65536) continue; // not enough ids
      set.push(entry(kind, 0, start, r.endid - start + 1));
      break; // "Remove once LXD can deal with multiple shadow maps"
    }
  }
  return set;
}

export interface ShadowFiles {
  subuid: string;
  subgid: string;
}

export type DefaultSet = { ok: true; set: LxdIdmapEntry[] } | { ok: false; error: string };

/**
 * DefaultIdmapSet(rootfs "", user root). `shadow` is null when LXD does not consult the files
 * (Debian/LXD: either file missing; Incus: files or newuidmap/newgidmap missing; snap: never,
 * the snap has its own /etc). Per file only the FIRST root entry of at least 65536 ids counts.
 * A file with no root line at all (ErrNoUserMap) makes LXD fall back to kernelDefaultMap.
 */
export function defaultIdmapSet(shadow: ShadowFiles | null, kernel: readonly LxdIdmapEntry[]): DefaultSet {
  if (!shadow) return { ok: true, set: kernelDefaultMap(kernel) };
  const set: LxdIdmapEntry[] = [];
  for (const kind of ['u', 'g'] as const) {
    const fname = kind === 'u' ? '/etc/subuid' : '/etc/subgid';
    const read = getFromShadow(kind === 'u' ? shadow.subuid : shadow.subgid, fname);
    if (read.kind === 'no-user-map') return { ok: true, set: kernelDefaultMap(kernel) };
    if (read.kind === 'error') return { ok: false, error: read.message };
    const first = read.entries.find(([, size]) => size >= 65536); // "big enough to be useful"
    if (first) set.push(entry(kind, 0, first[0], first[1]));
  }
  return { ok: true, set };
}

/** IdmapEntry.Usable: the host side of the entry must lie inside one valid range of the namespace. */
export function usable(e: LxdIdmapEntry, kernel: readonly LxdIdmapEntry[]): string | null {
  const ranges = validRanges(kernel);
  const inside = (r: IdRange): boolean =>
    e.Hostid >= r.startid && e.Hostid <= r.endid && e.Hostid + e.Maprange - 1 >= r.startid && e.Hostid + e.Maprange - 1 <= r.endid;
  if (e.Isuid && !ranges.some((r) => r.isuid && inside(r)))
    return `The '${toLxcStrings(e).join(',')}' map can't work in the current user namespace`;
  if (e.Isgid && !ranges.some((r) => r.isgid && inside(r)))
    return `The '${toLxcStrings(e).join(',')}' map can't work in the current user namespace`;
  return null;
}

export interface DaemonIdmap {
  /** null: "Only privileged containers will be able to run". */
  set: LxdIdmapEntry[] | null;
  /** What LXD logs about it at start. */
  log: string[];
}

/** GetIdmapSet: what a starting daemon settles on, with the warnings it logs. */
export function getIdmapSet(shadow: ShadowFiles | null, kernel: readonly LxdIdmapEntry[]): DaemonIdmap {
  const found = defaultIdmapSet(shadow, kernel);
  if (!found.ok) {
    return {
      set: null,
      log: [`WARNING Error reading default uid/gid map err="${found.error}"`, 'WARNING Only privileged containers will be able to run'],
    };
  }
  const log = ['INFO Kernel uid/gid map:', ...kernel.flatMap(toLxcStrings).map((l) => `INFO  - ${l}`)];
  if (found.set.length === 0) {
    return {
      set: null,
      log: [...log, 'WARNING No available uid/gid map could be found', 'WARNING Only privileged containers will be able to run'],
    };
  }
  log.push('INFO Configured LXD uid/gid map:');
  for (const e of found.set) {
    const suffix = usable(e, kernel) === null ? '' : ' (unusable)';
    for (const l of toLxcStrings(e)) log.push(`INFO  - ${l}${suffix}`);
  }
  if (found.set.some((e) => usable(e, kernel) !== null)) {
    return {
      set: null,
      log: [
        ...log,
        "WARNING One or more uid/gid map entry isn't usable (typically due to nesting)",
        'WARNING Only privileged containers will be able to run',
      ],
    };
  }
  return { set: found.set, log };
}
