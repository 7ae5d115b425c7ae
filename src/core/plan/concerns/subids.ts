// The level's /etc/subuid and /etc/subgid: one write per file for every owner nestctl manages
// there, each an owner entry of the same edit: root's entry the level's LXD must use first (the
// context chose it), with old entries kept while containers still run on them and the slices of
// root's LXC containers; dockremap's for Docker's userns-remap; each LXC user's range. Other
// owners' lines stay as they are.

import { daemonName } from '../../flavour/index.js';
import { type IdRange, formatRange, overlaps } from '../../ids/range.js';
import { DOCKREMAP } from '../../manifest/docker.js';
import { type OwnerEdit, type SubidEdit, firstUsable, usableEntries } from '../../subid/file.js';
import { editFor, ownIds, verdictNow } from '../level-entry.js';
import type { LevelContext, SubidFileState } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';
import { editSubidStep } from '../steps/write-subid.js';

interface Owned {
  owner: string;
  entry: IdRange;
  /** The owner's entries kept after `entry`, given the file's text. */
  keep: (text: string | null) => IdRange[];
  why: (state: SubidFileState | null, file: 'subuid' | 'subgid') => string;
}

export function subidSteps(ctx: LevelContext): ConcernResult {
  const out = noConcern();
  const owned = ownedEntries(ctx);
  for (const file of ['subuid', 'subgid'] as const) {
    const state = ctx.subid?.[file] ?? null;
    const text = state ? state.text : null;
    const edit: SubidEdit = owned.map(
      (o): OwnerEdit => ({
        owner: o.owner,
        entry: o.entry,
        keep: o.keep(text).filter((r) => r.start !== o.entry.start || r.size !== o.entry.size),
      }),
    );
    const changes = owned.filter((o, i) => state === null || editFor(text, o.owner, o.entry, edit[i]!.keep) !== null);
    if (changes.length === 0) continue;
    out.steps.push(
      editSubidStep({
        level: ctx.path,
        file,
        dependsOn: ctx.entryDeps,
        reason: changes.map((o) => o.why(state, file)).join('; '),
        edit,
        state,
      }),
    );
  }
  return out;
}

/** Root's (the level's LXD), dockremap's (docker.userns_remap), then each LXC user's whose range moves. */
function ownedEntries(ctx: LevelContext): Owned[] {
  const owned: Owned[] = [];
  const pinned = ctx.pins.map((p) => p.range);
  if (ctx.entry)
    owned.push({ owner: ctx.owner, entry: ctx.entry, keep: () => pinned, why: (state, file) => rootReason(ctx, ctx.entry!, state, file) });
  const alone = owned.length === 0;
  if (ctx.dockremap)
    owned.push({
      owner: DOCKREMAP,
      entry: ctx.dockremap,
      keep: () => [],
      why: (state) => dockremapReason(ctx, ctx.dockremap!, state, alone),
    });
  for (const [user, { range, kept }] of ctx.lxcUsers) {
    // Only where the account exists (lxcSteps says why not); a range already in both files stays as written.
    if (kept || !ctx.obs?.lxc?.version || !ctx.obs.lxc.owners[user]?.home) continue;
    const clash = (r: IdRange): string | null => clashOf(ctx, user, r);
    const old = (text: string | null): IdRange[] => usableEntries(text, user).map((e) => ({ start: e.start, size: e.size }));
    owned.push({
      owner: user,
      entry: range,
      // The user's other lines stay, but not one that would still give the user ids nestctl gives to others.
      keep: (text) => old(text).filter((r) => clash(r) === null),
      why: (state) => {
        const dropped = old(state?.text ?? null).flatMap((r) => {
          const hit = clash(r);
          return hit === null ? [] : [`dropping ${user}:${formatRange(r)} (it overlaps ${hit})`];
        });
        return `${user} runs LXC containers on ${ctx.label}: it needs ${user}:${formatRange(range)}, outside the ${daemonName(ctx.flavour)} range and every other line${dropped.length > 0 ? `; ${dropped.join(', ')}` : ''}`;
      },
    });
  }
  return owned;
}

/** What an old line of `user`'s overlaps among the ranges planned at the level for others (null: nothing). */
function clashOf(ctx: LevelContext, user: string, r: IdRange): string | null {
  const daemon = daemonName(ctx.flavour);
  const placed: Array<[IdRange | null, string]> = [
    [ctx.entry, `${ctx.owner}'s ${daemon} entry ${formatRange(ctx.entry ?? r)}`],
    [ctx.daemonRange.size > 0 ? ctx.daemonRange : null, `the ${daemon} range ${formatRange(ctx.daemonRange)}`],
    ...ctx.pins.map((p): [IdRange, string] => [p.range, `${ctx.owner}:${formatRange(p.range)} kept for ${p.by.join(', ')}`]),
    [ctx.dockremap, `${DOCKREMAP}'s range ${formatRange(ctx.dockremap ?? r)}`],
    ...[...ctx.lxcUsers].filter(([u]) => u !== user).map(([u, x]): [IdRange, string] => [x.range, `${u}'s range ${formatRange(x.range)}`]),
  ];
  return placed.find(([p]) => p !== null && overlaps(p, r))?.[1] ?? null;
}

function rootReason(ctx: LevelContext, entry: IdRange, state: SubidFileState | null, file: 'subuid' | 'subgid'): string {
  const { owner, label, pins } = ctx;
  const current = state?.current ?? null;
  if (state === null)
    return `${ctx.unseenWhy}: its ${daemonName(ctx.flavour)} must use ${owner}:${formatRange(entry)} for ${ctx.daemonNeed} ids of children`;
  if (!current) return `${label} has no usable ${owner} entry in /etc/${file}; the tree needs ${owner}:${formatRange(entry)}`;
  return (
    `${label}'s ${daemonName(ctx.flavour)} uses ${owner}:${formatRange(current)}` +
    (verdictNow(ctx.obs!, owner, ctx.isHost) === 'privileged-only'
      ? ` (outside ${label}'s own ${ownIds(ctx.obs!)} ids: it runs privileged containers only)`
      : '') +
    `; the tree needs ${owner}:${formatRange(entry)}` +
    (pins.length > 0 ? ` (keeping ${pins.map((p) => `${formatRange(p.range)} for ${p.by.join(', ')}`).join('; ')})` : '')
  );
}

/** Docker takes dockremap's first entry, and adds one of its own choosing (maybe outside the map) when there is none. */
function dockremapReason(ctx: LevelContext, entry: IdRange, state: SubidFileState | null, alone: boolean): string {
  const want = `${DOCKREMAP}:${formatRange(entry)}`;
  if (state === null) return `${alone ? `${ctx.unseenWhy}: ` : ''}Docker's userns-remap inside it must use ${want}, inside its map`;
  const current = firstUsable(state.text, DOCKREMAP);
  return current
    ? `Docker in ${ctx.label} would remap to ${DOCKREMAP}:${formatRange(current)}; docker.userns_remap needs ${want}`
    : `${ctx.label} has no ${DOCKREMAP} entry (Docker would add one of its own, maybe outside the map); docker.userns_remap needs ${want}`;
}
