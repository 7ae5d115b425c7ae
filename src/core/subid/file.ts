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

export interface RootEdit {
  owner: string;
  /** The entry LXD must use: written first. */
  entry: IdRange;
  /** Old entries still used by existing containers: kept after the new one (newuidmap checks their maps at their next start; see level-entry.ts). */
  keep: IdRange[];
}

/**
 * Make `edit.entry` the owner's first usable entry, keep the pinned old ones right after it,
 * drop the owner's other usable entries, and leave every other line untouched.
 */
export function applyRootEdit(text: string | null, edit: RootEdit): string {
  return replaceRootEntries(text, edit.owner, [edit.entry, ...edit.keep.filter((r) => !sameRange(r, edit.entry))]);
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
