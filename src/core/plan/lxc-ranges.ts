// Where a level's classic LXC containers get their ids (sizes from core/ids/lxc-need.ts): each
// user's range in /etc/subuid and /etc/subgid, and each root-owned container's slice, all
// outside the daemon's range and every other line of both files, never below 65536. A range
// already there stays when it is large enough and collides with nothing; a new one goes after
// everything (as a fresh host range does, level-entry.ts), so a second plan places nothing.

import type { LevelLxcNeed } from '../ids/lxc-need.js';
import { BLOCK, FIRST_SUBORDINATE_ID, type IdRange, LAST_ID, formatRange, overlaps, rangeEnd, roundUpToBlock, sameRange } from '../ids/range.js';
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
}

export interface LxcRanges {
  /** Each user's range and whether it is the one already in both files. */
  users: Map<string, { range: IdRange; kept: boolean }>;
  root: Map<string, IdRange>;
}

export type LxcRangeChoice = { ok: true; ranges: LxcRanges } | { ok: false; message: string; hint: string };

export function placeLxcRanges(r: LxcRangeRequest): LxcRangeChoice {
  const placedUsers = new Set(r.need.users.map((u) => u.user.toLowerCase()));
  const keptSlices = [...r.keptRoot.values()];
  // Every line of both files counts, except the lines of the users placed here (theirs is chosen
  // below) and the root lines recording the slices of containers kept here.
  const taken: IdRange[] = [
    r.daemonRange,
    ...r.ownerKept,
    ...[...parseSubid(r.subuid ?? ''), ...parseSubid(r.subgid ?? '')].filter(
      (e) => !placedUsers.has(e.owner.toLowerCase()) && !keptSlices.some((k) => sameRange(k, e)) && !(e.owner.toLowerCase() === r.daemonOwner.toLowerCase() && e.size >= BLOCK),
    ),
  ];
  const free = (range: IdRange): boolean => range.start >= FIRST_SUBORDINATE_ID && !taken.some((t) => overlaps(t, range));
  const users = new Map<string, { range: IdRange; kept: boolean }>();
  const root = new Map<string, IdRange>();
  const fresh: Array<{ size: number; put: (range: IdRange) => void }> = [];
  for (const { user, size } of r.need.users) {
    const uid = firstUsable(r.subuid, user);
    const gid = firstUsable(r.subgid, user);
    if (uid && gid && sameRange(uid, gid) && uid.size >= size && free(uid)) {
      const range = { start: uid.start, size: uid.size };
      users.set(user, { range, kept: true });
      taken.push(range);
    } else fresh.push({ size, put: (range) => users.set(user, { range, kept: false }) });
  }
  for (const { path, size } of r.need.root) {
    const seen = r.keptRoot.get(path);
    if (seen && seen.size >= size && free(seen)) {
      root.set(path, seen);
      taken.push(seen);
    } else fresh.push({ size, put: (range) => root.set(path, range) });
  }
  let cursor = roundUpToBlock(Math.max(BLOCK, ...taken.filter((t) => t.size > 0).map(rangeEnd)));
  for (const f of fresh) {
    const range = { start: cursor, size: roundUpToBlock(f.size) };
    f.put(range);
    cursor = rangeEnd(range);
  }
  const last = Math.max(0, ...[...users.values()].map((u) => rangeEnd(u.range)), ...[...root.values()].map(rangeEnd));
  const limit = r.ownSize ?? LAST_ID + 1;
  if (last > limit) {
    const where = r.ownSize === null ? `past the last usable id ${LAST_ID}` : `past the ${r.ownSize} ids this level holds`;
    const shown = [...users.values()].map((u) => formatRange(u.range)).concat([...root.values()].map(formatRange));
    return { ok: false, message: `the LXC containers' ranges (${shown.join(', ')}) would end ${where}`, hint: 'remove subordinate id lines nestctl did not write, or make the tree smaller' };
  }
  return { ok: true, ranges: { users, root } };
}
