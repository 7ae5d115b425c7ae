// What a level's range holds, for viz: the ids no child map covers, isolated slices that overlap
// (LXD gives each isolated container ids of its own, so two that share any are a fault), maps
// that leave the range, and isolated slices that break the flavour's fit rule (findIdmap in LXD's
// and Incus's lxd/instance/drivers/driver_lxc.go: offset + size < end, or <= for Incus >= 6.0.3).

import { type IdRange, contains, overlaps, rangeEnd } from './range.js';

export interface LayoutChild {
  path: string;
  map: IdRange;
  isolated: boolean;
}

export interface Layout {
  /** Parts of the range no child's map covers, in order. */
  free: IdRange[];
  /** Pairs of isolated siblings whose slices share ids. */
  overlaps: Array<[string, string]>;
  /** Children whose map is not inside the range. */
  outside: string[];
  /** Isolated children that end where the fit rule forbids (strict: at the range's end). */
  misfit: string[];
}

export function rangeLayout(range: IdRange, children: readonly LayoutChild[], fit: 'strict' | 'inclusive'): Layout {
  const covered = children
    .map((c) => c.map)
    .filter((m) => m.size > 0)
    .sort((a, b) => a.start - b.start);
  const free: IdRange[] = [];
  let at = range.start;
  for (const m of covered) {
    if (m.start > at) free.push({ start: at, size: Math.min(m.start, rangeEnd(range)) - at });
    at = Math.max(at, rangeEnd(m));
    if (at >= rangeEnd(range)) break;
  }
  if (at < rangeEnd(range)) free.push({ start: at, size: rangeEnd(range) - at });

  const isolated = children.filter((c) => c.isolated);
  const pairs: Array<[string, string]> = [];
  isolated.forEach((a, i) => {
    for (const b of isolated.slice(i + 1)) if (overlaps(a.map, b.map)) pairs.push([a.path, b.path]);
  });
  const end = rangeEnd(range);
  return {
    free: free.filter((f) => f.size > 0),
    overlaps: pairs,
    outside: children.filter((c) => !contains(range, c.map)).map((c) => c.path),
    // Inside the range, only the strict rule can still refuse: a slice that ends where the range does.
    misfit: fit === 'strict' ? isolated.filter((c) => contains(range, c.map) && rangeEnd(c.map) === end).map((c) => c.path) : [],
  };
}
