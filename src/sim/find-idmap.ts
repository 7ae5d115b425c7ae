// A container's map as the daemon computes it, at creation or when an idmap key changes:
// idmapSize and findIdmap from lxd/instance/drivers/driver_lxc.go (LXD) and
// internal/server/instance/drivers/driver_lxc.go (Incus); where the two differ, the level's
// flavour descriptor says which rule applies.

import { type Flavour, flavourInfo } from '../core/flavour/index.js';
import { entry, type LxdIdmapEntry } from './idmap.js';
import { addSafe, parseRawIdmap } from './raw-idmap.js';

/** shared.IsTrue / shared.IsFalseOrEmpty. */
export const isTrue = (v: string | undefined): boolean => ['true', '1', 'yes', 'on'].includes((v ?? '').toLowerCase());
export const isFalseOrEmpty = (v: string | undefined): boolean =>
  v === undefined || v === '' || ['false', '0', 'no', 'off'].includes(v.toLowerCase());

/** idmapSize: isolated default 65536; non-isolated default the daemon's whole first range. */
export function idmapSize(
  daemon: readonly LxdIdmapEntry[],
  isolated: string | undefined,
  size: string | undefined,
): number | { error: string } {
  if (size === undefined || size === '' || size === 'auto') {
    if (isTrue(isolated)) return 65536;
    if (daemon.length !== 2) return { error: `bad initial idmap: ${JSON.stringify(daemon)}` };
    return daemon[0]!.Maprange;
  }
  if (!/^[+-]?\d+$/.test(size)) return { error: `strconv.ParseInt: parsing ${JSON.stringify(size)}: invalid syntax` };
  return Number.parseInt(size, 10);
}

/** Another container at the same level, as findIdmap looks at it. */
export interface Neighbour {
  name: string;
  /** Its expanded config (profiles + own config); NEIGHBOUR_KEYS are all findIdmap reads of it. */
  expanded: Record<string, string>;
}

/** The keys of a neighbour's expanded config that findIdmap reads. */
export const NEIGHBOUR_KEYS = ['security.privileged', 'security.idmap.isolated', 'security.idmap.size', 'volatile.idmap.base'] as const;

export interface FindIdmapInput {
  /** The level's daemon: which of LXD's and Incus's rules apply. */
  flavour: Flavour;
  /** The daemon's range (non-null: a privileged-only daemon never gets here). */
  daemon: readonly LxdIdmapEntry[];
  name: string;
  /** The new container's expanded config. */
  expanded: Record<string, string>;
  /**
   * Every container at the level (the new one is skipped by name); a function is called only
   * when they are looked at (an isolated container without security.idmap.base), so a level of
   * thousands does not build them for every create.
   */
  neighbours: readonly Neighbour[] | (() => readonly Neighbour[]);
}

export type FoundIdmap = { ok: true; set: LxdIdmapEntry[]; base: number } | { ok: false; error: string };

/**
 * findIdmap. Not isolated: a copy of the daemon's map (on Incus with every entry longer than
 * security.idmap.size cut to it), raw.idmap entries added, base 0. Isolated:
 * security.idmap.base when set (taken as is); else the first slice of `size` ids starting 65536
 * into the daemon's first range, stepping over the slices of other isolated, unprivileged
 * containers, with the flavour's fit test at the range's end.
 */
export function findIdmap(input: FindIdmapInput): FoundIdmap {
  const rules = flavourInfo(input.flavour);
  const cfg = input.expanded;
  const raw = parseRawIdmap(cfg['raw.idmap']);
  if (!Array.isArray(raw)) return { ok: false, error: raw.error };
  const withRaw = (set: LxdIdmapEntry[]): LxdIdmapEntry[] | { error: string } => {
    let out = set;
    for (const r of raw) {
      const next = addSafe(out, r);
      if (!Array.isArray(next)) return next;
      out = next;
    }
    return out;
  };

  if (!isTrue(cfg['security.idmap.isolated'])) {
    let copy = input.daemon.map((e) => ({ ...e }));
    const sizeText = cfg['security.idmap.size'];
    if (rules.nonIsolatedSize === 'shortens' && sizeText !== undefined && sizeText !== '') {
      const size = idmapSize(input.daemon, cfg['security.idmap.isolated'], sizeText);
      if (typeof size !== 'number') return { ok: false, error: size.error };
      copy = copy.map((e) => (e.Maprange < size ? e : { ...e, Maprange: size }));
    }
    const set = withRaw(copy);
    return Array.isArray(set) ? { ok: true, set, base: 0 } : { ok: false, error: set.error };
  }

  const size = idmapSize(input.daemon, cfg['security.idmap.isolated'], cfg['security.idmap.size']);
  if (typeof size !== 'number') return { ok: false, error: size.error };
  const mk = (offset: number): FoundIdmap => {
    const set = withRaw([entry('u', 0, offset, size), entry('g', 0, offset, size)]);
    return Array.isArray(set) ? { ok: true, set, base: offset } : { ok: false, error: set.error };
  };

  const base = cfg['security.idmap.base'];
  if (base !== undefined && base !== '') {
    if (!/^[+-]?\d+$/.test(base)) return { ok: false, error: `strconv.ParseInt: parsing ${JSON.stringify(base)}: invalid syntax` };
    return mk(Number.parseInt(base, 10));
  }

  const first = input.daemon[0]!;
  let offset = first.Hostid + 65536;
  const used: Array<{ hostid: number; maprange: number }> = [];
  const neighbours = typeof input.neighbours === 'function' ? input.neighbours() : input.neighbours;
  for (const other of neighbours) {
    if (other.name === input.name) continue; // "Don't change our map Just Because."
    if (isTrue(other.expanded['security.privileged'])) continue;
    if (isFalseOrEmpty(other.expanded['security.idmap.isolated'])) continue;
    const cBaseText = other.expanded['volatile.idmap.base'];
    if (!cBaseText && rules.unallocatedNeighbour === 'skipped') continue;
    const cBase = cBaseText ? Number.parseInt(cBaseText, 10) : 0;
    const cSize = idmapSize(input.daemon, other.expanded['security.idmap.isolated'], other.expanded['security.idmap.size']);
    if (typeof cSize !== 'number') return { ok: false, error: cSize.error };
    used.push({ hostid: cBase, maprange: cSize });
  }
  used.sort((a, b) => a.hostid - b.hostid);

  for (let i = 0; i < used.length; i += 1) {
    const cur = used[i]!;
    if (i === 0) {
      if (cur.hostid < offset + size) {
        offset = cur.hostid + cur.maprange;
        continue;
      }
      return mk(offset);
    }
    const prev = used[i - 1]!;
    if (prev.hostid + prev.maprange > offset) {
      offset = prev.hostid + prev.maprange;
      continue;
    }
    offset = prev.hostid + prev.maprange;
    if (offset + size < cur.hostid) return mk(offset);
    offset = cur.hostid + cur.maprange;
  }
  const end = first.Hostid + first.Maprange;
  if (rules.idmapFit === 'strict' ? offset + size < end : offset + size <= end) return mk(offset);
  return { ok: false, error: 'Not enough uid/gid available for the container' };
}
