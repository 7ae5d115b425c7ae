// /etc/subuid and /etc/subgid: "owner:start:count" lines. Edits touch only the owner's usable
// entries (>= 65536 ids, the ones LXD considers) and keep every other line byte for byte.

import { BLOCK, type IdRange, sameRange } from '../ids/range.js';

export interface SubidEntry extends IdRange {
  owner: string;
  /** Index of the line in the file (split on "\n"). */
  line: number;
}

/**
 * Entries as LXD reads them (lxd/idmap getFromShadow): a comment starts at "#" anywhere, the
 * owner matches case-insensitively, and the first three ":" fields count, whatever follows.
 * Lines LXD would skip are not entries (and are never touched).
 */
export function parseSubid(text: string): SubidEntry[] {
  const entries: SubidEntry[] = [];
  text.split('\n').forEach((raw, line) => {
    const fields = raw.split('#')[0]!.trim().split(':');
    if (fields.length < 3) return;
    const [owner, start, size] = fields.map((f) => f.trim()) as [string, string, string];
    if (!owner || !/^\d+$/.test(start) || !/^\d+$/.test(size)) return;
    entries.push({ owner, start: Number(start), size: Number(size), line });
  });
  return entries;
}

const sameOwner = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The entries LXD would consider for `owner`, in file order (it uses only the first). */
export function usableEntries(text: string | null, owner: string): SubidEntry[] {
  if (text === null) return [];
  return parseSubid(text).filter((e) => sameOwner(e.owner, owner) && e.size >= BLOCK);
}

export function firstUsable(text: string | null, owner: string): SubidEntry | null {
  return usableEntries(text, owner)[0] ?? null;
}

/** One owner's entries in a write: `entry` first, then the old ones still in use. */
export interface OwnerEdit {
  owner: string;
  /** The entry the owner's reader must use (LXD for root, Docker for dockremap): written first. */
  entry: IdRange;
  /** Old entries still used by existing containers: kept after the new one (newuidmap checks their maps at their next start; see level-entry.ts). */
  keep: IdRange[];
}

/**
 * What one write-subid step sets in one file: every owner nestctl manages at the level (root's
 * entry for its LXD with root's LXC slices kept after it, dockremap's for Docker's userns-remap,
 * each LXC user's range), one write for them all.
 */
export type SubidEdit = OwnerEdit[];

/**
 * For each owner: make `entry` its first usable entry, keep the pinned old ones right after it,
 * drop its other usable entries; every other line is left untouched, other owners' included.
 */
export function applySubidEdit(text: string | null, edit: SubidEdit): string {
  let out = text;
  for (const e of edit) out = replaceRootEntries(out, e.owner, [e.entry, ...e.keep.filter((r) => !sameRange(r, e.entry))]);
  return out ?? '';
}

/** Every line a text written for `edit` must hold, each owner's entry and kept ranges (the writers refuse a text without one). */
export function entryLines(edit: SubidEdit | null): string[] {
  return [...new Set((edit ?? []).flatMap((e) => [e.entry, ...e.keep].map((r) => `${e.owner}:${r.start}:${r.size}`)))];
}

/**
 * Put `ranges` (in order) where the owner's first usable entry was (or at the end), drop the
 * owner's other usable entries, and keep every other line byte for byte.
 */
export function replaceRootEntries(text: string | null, owner: string, ranges: IdRange[]): string {
  const source = text ?? '';
  const lines = source.length === 0 ? [] : source.split('\n');
  if (source.endsWith('\n')) lines.pop();
  const owned = new Set(usableEntries(source, owner).map((e) => e.line));
  const wanted = ranges.map((r) => `${owner}:${r.start}:${r.size}`);
  const out: string[] = [];
  let placed = false;
  lines.forEach((line, i) => {
    if (!owned.has(i)) {
      out.push(line);
      return;
    }
    if (!placed) {
      out.push(...wanted);
      placed = true;
    }
  });
  if (!placed) out.push(...wanted);
  return out.join('\n') + (out.length > 0 ? '\n' : '');
}
