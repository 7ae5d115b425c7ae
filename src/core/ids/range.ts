// Id ranges: [start, start + size).

export interface IdRange {
  start: number;
  size: number;
}

/** LXD skips subordinate entries smaller than this, and gives each container this many by default. */
export const BLOCK = 65536;

export const rangeEnd = (r: IdRange): number => r.start + r.size;

export const contains = (outer: IdRange, inner: IdRange): boolean =>
  inner.start >= outer.start && rangeEnd(inner) <= rangeEnd(outer);

export const overlaps = (a: IdRange, b: IdRange): boolean => a.start < rangeEnd(b) && b.start < rangeEnd(a);

export const sameRange = (a: IdRange, b: IdRange): boolean => a.start === b.start && a.size === b.size;

/** Round up to whole 65536 blocks: keeps every range readable in subuid and in uid_map. */
export const roundUpToBlock = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

export const formatRange = (r: IdRange): string => `${r.start}:${r.size}`;
