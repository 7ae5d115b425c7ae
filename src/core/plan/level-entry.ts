// Which root entry a level's daemon must use, and which old entries must stay because existing
// containers still run on them: a container keeps the map LXD stored for it, and shadow's
// newuidmap (src/newuidmap.c) checks that map against root's entries at its next start, so
// dropping an entry strands it. LXD itself uses only the first usable entry.

import { flavourInfo, kernelDefaultRange } from '../flavour/index.js';
import { hostRangesOfInstance } from '../ids/idmap.js';
import { BLOCK, type IdRange, contains, formatRange, overlaps, roundUpToBlock, sameRange } from '../ids/range.js';
import { type ObservedLevel, instanceLabel } from '../observed.js';
import { type OwnerEdit, firstUsable, parseSubid, usableEntries } from '../subid/file.js';

export const MAX_ID = 4294967295;

export interface Pin {
  range: IdRange;
  by: string[];
}

/** Marks the warning that the host range overlaps another owner's; apply repeats it above its prompt. */
export const OTHER_OWNER_OVERLAP = "another user's subordinate ids";

/** Old usable entries of `owner` still covering some instance's stored map. */
export function pinnedEntries(level: ObservedLevel | null, owner: string, entry: IdRange): Pin[] {
  if (!level) return [];
  const pins: Pin[] = [];
  const olds = [...usableEntries(level.subuid.text, owner), ...usableEntries(level.subgid.text, owner)];
  for (const inst of level.instances) {
    const who = instanceLabel(inst);
    for (const used of hostRangesOfInstance(inst.config)) {
      if (contains(entry, used)) continue;
      const old = olds.find((o) => contains(o, used));
      if (!old) continue;
      const pin = pins.find((p) => sameRange(p.range, old));
      if (pin) {
        if (!pin.by.includes(who)) pin.by.push(who);
      } else pins.push({ range: { start: old.start, size: old.size }, by: [who] });
    }
  }
  return pins;
}

/** The edit that makes `entry` the owner's first usable entry (with `kept` after it), or null if already so. */
export function editFor(text: string | null, owner: string, entry: IdRange, kept: readonly IdRange[]): OwnerEdit | null {
  const keep = kept.filter((r) => !sameRange(r, entry));
  const wanted = [entry, ...keep];
  const have = usableEntries(text, owner);
  const same = have.length === wanted.length && have.every((h, i) => sameRange(h, wanted[i]!));
  return same ? null : { owner, entry, keep };
}

export type HostEntryChoice =
  | { ok: true; entry: IdRange; kept: boolean; warnings: string[] }
  | { ok: false; message: string; hint: string };

/**
 * The host's entry: `base:need` when base is given; otherwise the existing first root entry
 * when it is large enough (and the same in both files), else a fresh range after every entry.
 */
export function chooseHostEntry(level: ObservedLevel, owner: string, base: number | null, need: number): HostEntryChoice {
  const uid = firstUsable(level.subuid.text, owner);
  const gid = firstUsable(level.subgid.text, owner);
  let entry: IdRange;
  let kept = false;
  if (base !== null) entry = { start: base, size: need };
  else if (uid && gid && sameRange(uid, gid) && uid.size >= need) {
    entry = { start: uid.start, size: uid.size };
    kept = true;
  } else {
    const all = [...parseSubid(level.subuid.text ?? ''), ...parseSubid(level.subgid.text ?? '')];
    const end = all.reduce((m, e) => Math.max(m, e.start + e.size), 0);
    entry = { start: Math.max(1_000_000, roundUpToBlock(end)), size: need };
  }
  if (entry.start + entry.size - 1 > MAX_ID) {
    return {
      ok: false,
      message: `the host range ${formatRange(entry)} ends past the largest id ${MAX_ID}`,
      hint: `choose host.base at most ${MAX_ID + 1 - entry.size}`,
    };
  }
  // Shadow allows overlapping subordinate ranges (Debian's package itself adds _lxd:100000:10000001
  // under the classic 500000 base), so an overlap is worth a warning, not a refusal.
  const others = [...parseSubid(level.subuid.text ?? ''), ...parseSubid(level.subgid.text ?? '')].filter(
    (e) => e.owner.toLowerCase() !== owner.toLowerCase() && overlaps(e, entry),
  );
  const warnings = [...new Set(others.map((o) => `${o.owner}:${o.start}:${o.size}`))].map(
    (o) => `host: ${owner}:${formatRange(entry)} overlaps ${o}, ${OTHER_OWNER_OVERLAP}: processes of both may share these ids`,
  );
  return { ok: true, entry, kept, warnings };
}

/** Total ids a level's own namespace holds (the sum of its uid_map ranges). */
export function ownIds(level: ObservedLevel): number {
  return level.uidMap.reduce((n, e) => n + e.maprange, 0);
}

export function nestedEntry(need: number): IdRange {
  return { start: BLOCK, size: need };
}

/**
 * LXD's verdict on a level as it is (lxd/idmap DefaultIdmapSet + Usable): the first usable root
 * entry of each file, or LXD's own default without one, must lie inside the level's own ids.
 */
export function verdictNow(level: ObservedLevel, owner: string, isHost: boolean): 'unprivileged-ok' | 'privileged-only' {
  if (level.flavour !== null && flavourInfo(level.flavour).readsSubid === 'never') return 'unprivileged-ok';
  const own = ownIds(level);
  const fallback = kernelDefaultRange(isHost, own);
  const fits = (text: string | null): boolean => {
    const e = firstUsable(text, owner) ?? fallback;
    return e.size >= BLOCK && e.start + e.size <= own;
  };
  return fits(level.subuid.text) && fits(level.subgid.text) ? 'unprivileged-ok' : 'privileged-only';
}
