// Where LXD will put isolated containers: lxd/instance/drivers/driver_lxc.go findIdmap, replayed.
// Slices already taken by isolated instances at the level (managed or not) stay where they are;
// new ones go first-fit from 65536 into the range, in the order they are created.

import { parseLxdIdmap } from '../ids/idmap.js';
import { BLOCK, type IdRange, rangeEnd, roundUpToBlock } from '../ids/range.js';
import type { NodeAllocation } from '../ids/allocate.js';
import type { ContainerSpec } from '../manifest/model.js';
import type { ObservedInstance } from '../observed.js';

/** Isolated slices held by existing instances (absolute ids in the level's space). */
export function occupiedSlices(instances: ObservedInstance[]): Array<IdRange & { name: string }> {
  const out: Array<IdRange & { name: string }> = [];
  for (const i of instances) {
    if (i.config['security.idmap.isolated'] !== 'true' || i.config['security.privileged'] === 'true') continue;
    const base = Number(i.config['volatile.idmap.base'] ?? NaN);
    const current = parseLxdIdmap(i.config['volatile.idmap.next'] ?? i.config['volatile.idmap.current']).find((e) => e.isuid);
    const size = current?.maprange ?? Number(i.config['security.idmap.size'] ?? BLOCK);
    if (Number.isFinite(base) && base > 0) out.push({ name: i.name, start: base, size });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * First-fit search as findIdmap does it (the range end is checked by the caller, see
 * requiredRange), returning the slice's start.
 */
export function findSlice(rangeStart: number, occupied: IdRange[], size: number): number {
  const entries = [...occupied].sort((a, b) => a.start - b.start);
  let offset = rangeStart + BLOCK;
  for (let i = 0; i < entries.length; i += 1) {
    const e = entries[i]!;
    if (i === 0) {
      if (e.start < offset + size) {
        offset = rangeEnd(e);
        continue;
      }
      return offset;
    }
    const prev = entries[i - 1]!;
    if (rangeEnd(prev) > offset) {
      offset = rangeEnd(prev);
      continue;
    }
    offset = rangeEnd(prev);
    if (offset + size < e.start) return offset;
    offset = rangeEnd(e);
  }
  return offset;
}

/** One slice of a level, in creation order: one that stays where it is, or a new one of `size`. */
export type SliceRequest = { kind: 'kept'; range: IdRange } | { kind: 'new'; size: number };

/**
 * findSlice for a series of slices, each occupying its place once placed: the start of request k
 * is what `findSlice(rangeStart, [...occupied, ...the ranges of requests 0..k-1], size)` returns
 * (a kept one, its own start). Calling findSlice per slice sorts and walks every slice placed so
 * far, quadratic in the number of isolated siblings; this keeps one sorted list and, per size,
 * skips the gaps already too small for it. A gap never grows when a new slice goes into it
 * (that leaves an empty gap and a smaller one), so a skipped gap stays skipped; a kept range
 * that ends before its predecessor can widen the gap after it, which is then looked at again.
 * Positive sizes only: anything else (a malformed observed config) takes findSlice itself.
 */
export function placeSlices(rangeStart: number, occupied: IdRange[], requests: SliceRequest[]): number[] {
  const sane = (r: IdRange): boolean => Number.isSafeInteger(r.start) && Number.isSafeInteger(r.size) && r.size > 0;
  const sizeOf = (q: SliceRequest): number => (q.kind === 'kept' ? q.range.size : q.size);
  if (!occupied.every(sane) || !requests.every((q) => sane({ start: q.kind === 'kept' ? q.range.start : 0, size: sizeOf(q) }))) {
    const placed: IdRange[] = [];
    return requests.map((q) => {
      const start = q.kind === 'kept' ? q.range.start : findSlice(rangeStart, [...occupied, ...placed], q.size);
      placed.push({ start, size: sizeOf(q) });
      return start;
    });
  }
  const entries = [...occupied].sort((a, b) => a.start - b.start);
  const first = rangeStart + BLOCK;
  // Gap i is the room before entries[i]: for i = 0 from `first` (fits when size <= room), else
  // from the end of entries[i - 1] (LXD's strict test: fits when size < room).
  const fits = (i: number, size: number): boolean =>
    i === 0 ? entries[0]!.start >= first + size : rangeEnd(entries[i - 1]!) + size < entries[i]!.start;
  // Per size: every gap before this index is too small for it.
  const skip = new Map<number, number>();
  const insert = (at: number, range: IdRange, widens: boolean): void => {
    entries.splice(at, 0, range);
    for (const [size, from] of skip) if (from > at) skip.set(size, widens ? at + 1 : from + 1);
  };
  return requests.map((q) => {
    if (q.kind === 'kept') {
      // After every entry that starts at or before it, as a stable sort puts it.
      let lo = 0;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (entries[mid]!.start <= q.range.start) lo = mid + 1;
        else hi = mid;
      }
      insert(lo, { ...q.range }, lo === 0 || rangeEnd(q.range) < rangeEnd(entries[lo - 1]!));
      return q.range.start;
    }
    let i = skip.get(q.size) ?? 0;
    while (i < entries.length && !fits(i, q.size)) i += 1;
    const start = i === 0 ? first : rangeEnd(entries[i - 1]!);
    // It starts after entries[i - 1] and before entries[i]: index i.
    insert(i, { start, size: q.size }, false);
    skip.set(q.size, i);
    return start;
  });
}

/** The range size that holds every slice under LXD's strict fit (offset + size < end). */
export function requiredRange(rangeStart: number, slices: IdRange[]): number {
  const end = slices.reduce((m, s) => Math.max(m, rangeEnd(s)), 0);
  return end === 0 ? 0 : roundUpToBlock(end + 1 - rangeStart);
}

/** Slices of a level's isolated children (in creation order): where they are, or where LXD will put them. */
export function childSlices(
  children: ReadonlyArray<{ spec: ContainerSpec; alloc: NodeAllocation }>,
  rangeStart: number,
  occupied: Array<IdRange & { name: string }>,
): Map<string, IdRange> {
  const own = new Map<string, IdRange>();
  for (const o of occupied) if (!own.has(o.name)) own.set(o.name, { start: o.start, size: o.size });
  const isolated = children.filter((c) => c.alloc.slice !== null);
  const requests = isolated.map(({ spec, alloc }): SliceRequest => {
    const kept = own.get(spec.name);
    return kept ? { kind: 'kept', range: kept } : { kind: 'new', size: alloc.slice!.size };
  });
  const starts = placeSlices(rangeStart, occupied, requests);
  const placed = new Map<string, IdRange>();
  isolated.forEach(({ spec }, k) => {
    const q = requests[k]!;
    placed.set(spec.name, q.kind === 'kept' ? q.range : { start: starts[k]!, size: q.size });
  });
  return placed;
}

/**
 * The slices of isolated root containers placed on cluster members (`target:`): findIdmap runs on
 * the member that creates the container, over that member's own range and the isolated instances
 * already there. By member, then container name; a container that may land on several members
 * (a new one on a `@group`) has a slice on each.
 */
export function memberSlices(
  children: ReadonlyArray<{ spec: ContainerSpec; alloc: NodeAllocation; candidates: readonly string[] }>,
  instances: readonly ObservedInstance[],
  members: Readonly<Record<string, { uid: IdRange }>>,
): Map<string, Map<string, IdRange>> {
  const out = new Map<string, Map<string, IdRange>>();
  for (const [member, range] of Object.entries(members)) {
    const there = children.filter((c) => c.alloc.slice !== null && c.candidates.includes(member));
    if (there.length === 0) continue;
    out.set(member, childSlices(there, range.uid.start, occupiedSlices(instances.filter((i) => i.location === member))));
  }
  return out;
}
