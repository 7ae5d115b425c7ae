// Where LXD will put isolated containers: lxd/instance/drivers/driver_lxc.go findIdmap, replayed.
// Slices already taken by isolated instances at the level (managed or not) stay where they are;
// new ones go first-fit from 65536 into the range, in the order they are created.

import { parseLxdIdmap } from '../ids/idmap.js';
import { BLOCK, type IdRange, rangeEnd, roundUpToBlock } from '../ids/range.js';
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

/** The range size that holds every slice under LXD's strict fit (offset + size < end). */
export function requiredRange(rangeStart: number, slices: IdRange[]): number {
  const end = slices.reduce((m, s) => Math.max(m, rangeEnd(s)), 0);
  return end === 0 ? 0 : roundUpToBlock(end + 1 - rangeStart);
}
