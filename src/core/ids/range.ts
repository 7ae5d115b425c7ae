// Id ranges: [start, start + size).

export interface IdRange {
  start: number;
  size: number;
}

/**
 * The last id a map may reach. The kernel refuses a uid_map/gid_map line whose first + count
 * wraps to or past 2^32 - 1 (kernel/user_namespace.c, map_write: "(extent.lower_first +
 * extent.count) <= extent.lower_first"), and (u32)-1 is never a valid id.
 */
export const LAST_ID = 4294967294;

/** The host's ids below this are its real users and root; a subordinate range never starts there. */
export const FIRST_SUBORDINATE_ID = 65536;

/** LXD skips subordinate entries smaller than this, and gives each container this many by default. */
export const BLOCK = 65536;

export const rangeEnd = (r: IdRange): number => r.start + r.size;

export const contains = (outer: IdRange, inner: IdRange): boolean => inner.start >= outer.start && rangeEnd(inner) <= rangeEnd(outer);

export const overlaps = (a: IdRange, b: IdRange): boolean => a.start < rangeEnd(b) && b.start < rangeEnd(a);

export const sameRange = (a: IdRange, b: IdRange): boolean => a.start === b.start && a.size === b.size;

/** Round up to whole 65536 blocks: keeps every range readable in subuid and in uid_map. */
export const roundUpToBlock = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

export const formatRange = (r: IdRange): string => `${r.start}:${r.size}`;
