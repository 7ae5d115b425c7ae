// Where a level's classic LXC containers get their ids (sizes from core/ids/lxc-need.ts): each
// user's range in /etc/subuid and /etc/subgid, and each root-owned container's slice, outside
// the daemon's range and each other, never below 65536. A range already there stays when it is
// large enough and clear of those; a new one goes after everything (as a fresh host range does,
// level-entry.ts), other owners' lines included when the level's ids reach that far, so a second
// plan places nothing new.

import type { LevelLxcNeed } from '../ids/lxc-need.js';
import {
  BLOCK,
  FIRST_SUBORDINATE_ID,
  type IdRange,
  LAST_ID,
  formatRange,
  overlaps,
  rangeEnd,
  roundUpToBlock,
  sameRange,
} from '../ids/range.js';
import { firstUsable, parseSubid } from '../subid/file.js';

export interface LxcRangeRequest {
  subuid: string | null;
  subgid: string | null;
  /** What the level's daemon hands out: nothing placed here may touch it. */
  daemonRange: IdRange;
  /** A nested level's own ids: every range must end inside them. null at the host. */
  ownSize: number | null;
  need: LevelLxcNeed;
  /** The slices root-owned containers were seen with (their lxc.idmap), by path. */
  keptRoot: ReadonlyMap<string, IdRange>;
  /**
   * The daemon's owner and the usable entries of theirs the plan keeps besides the daemon's
   * (old ones still pinned by containers): the owner's other usable lines are dropped by the
   * daemon's edit (level-entry.ts), so they do not count.
   */
  daemonOwner: string;
  ownerKept: readonly IdRange[];
  /** Other owners' entries the level's subid write sets (dockremap's): hard, and their old lines do not count. */
  others?: ReadonlyArray<{ owner: string; range: IdRange }>;
}

export interface LxcRanges {
  /** Each user's range and whether it is the one already in both files. */
  users: Map<string, { range: IdRange; kept: boolean }>;
  root: Map<string, IdRange>;
}

export type LxcRangeChoice = { ok: true; ranges: LxcRanges; warnings: string[] } | { ok: false; message: string; hint: string };

/**
 * Every range placed here must stay clear of the daemon's range and of every other range placed
 * here ("hard"). Other owners' lines ("soft": e.g. Debian's `_lxd:100000:10000001`, which spans
 * nearly every level's ids) are avoided when a gap allows, else overlapped with a warning, as the
 * host's own range may overlap them (level-entry.ts).
 */
export function placeLxcRanges(r: LxcRangeRequest): LxcRangeChoice {
  const placedUsers = new Set(r.need.users.map((u) => u.user.toLowerCase()));
  const keptSlices = [...r.keptRoot.values()];
  const others = r.others ?? [];
  const written = new Set([r.daemonOwner, ...others.map((o) => o.owner)].map((o) => o.toLowerCase()));
  const hard: IdRange[] = [r.daemonRange, ...r.ownerKept, ...others.map((o) => o.range)];
  const soft = [...parseSubid(r.subuid ?? ''), ...parseSubid(r.subgid ?? '')].filter(
    (e) => !placedUsers.has(e.owner.toLowerCase()) && !written.has(e.owner.toLowerCase()) && !keptSlices.some((k) => sameRange(k, e)),
  );
  const limit = r.ownSize ?? LAST_ID + 1;
  const fits = (range: IdRange, avoid: readonly IdRange[]): boolean =>
    range.start >= FIRST_SUBORDINATE_ID && rangeEnd(range) <= limit && !avoid.some((t) => overlaps(t, range));
  const warnings = new Set<string>();
  const overlapped = (range: IdRange): void => {
    for (const e of soft)
      if (overlaps(e, range))
        warnings.add(
          `LXC range ${formatRange(range)} overlaps ${e.owner}:${formatRange(e)}, another user's subordinate ids: processes of both may share these ids`,
        );
  };
  const users = new Map<string, { range: IdRange; kept: boolean }>();
  const root = new Map<string, IdRange>();
  const fresh: Array<{ size: number; put: (range: IdRange) => void }> = [];
  for (const { user, size } of r.need.users) {
    const uid = firstUsable(r.subuid, user);
    const gid = firstUsable(r.subgid, user);
    if (uid && gid && sameRange(uid, gid) && uid.size >= size && fits(uid, hard)) {
      const range = { start: uid.start, size: uid.size };
      users.set(user, { range, kept: true });
      hard.push(range);
      overlapped(range);
    } else fresh.push({ size, put: (range) => users.set(user, { range, kept: false }) });
  }
  for (const { path, size } of r.need.root) {
    const seen = r.keptRoot.get(path);
    if (seen && seen.size >= size && fits(seen, hard)) {
      root.set(path, seen);
      hard.push(seen);
      overlapped(seen);
    } else fresh.push({ size, put: (range) => root.set(path, range) });
  }
  for (const f of fresh) {
    const size = roundUpToBlock(f.size);
    const range = after(size, [...hard, ...soft], limit) ?? after(size, hard, limit);
    if (!range) {
      const where = r.ownSize === null ? `past the last usable id ${LAST_ID}` : `past the ${r.ownSize} ids this level holds`;
      return {
        ok: false,
        message: `no room for an LXC range of ${size} ids: it would end ${where}`,
        hint: 'remove subordinate id lines nestctl did not write, or make the tree smaller',
      };
    }
    f.put(range);
    hard.push(range);
    overlapped(range);
  }
  return { ok: true, ranges: { users, root }, warnings: [...warnings] };
}

/** `size` ids from the first block after every range of `taken` (as a fresh host range goes), when they end by `limit`. */
function after(size: number, taken: readonly IdRange[], limit: number): IdRange | null {
  const start = roundUpToBlock(Math.max(BLOCK, ...taken.filter((t) => t.size > 0).map(rangeEnd)));
  return start + size <= limit ? { start, size } : null;
}
