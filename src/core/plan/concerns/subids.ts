// The level's /etc/subuid and /etc/subgid: root's entry the level's LXD must use first (the
// context chose it), old entries kept while containers still run on them.

import { daemonName } from '../../flavour/index.js';
import { formatRange } from '../../ids/range.js';
import { applyRootEdit } from '../../subid/file.js';
import { editFor, ownIds, verdictNow } from '../level-entry.js';
import type { LevelContext } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';
import { writeSubidStep } from '../steps/write-subid.js';

export function subidSteps(ctx: LevelContext): ConcernResult {
  const out = noConcern();
  const { entry, owner, label, pins } = ctx;
  if (!entry) return out;
  for (const file of ['subuid', 'subgid'] as const) {
    const state = ctx.subid?.[file] ?? null;
    const text = state ? state.text : null;
    const edit = state === null ? { owner, entry, keep: pins.map((p) => p.range) } : editFor(text, owner, entry, pins);
    if (!edit) continue;
    const current = state?.current ?? null;
    const reason =
      state === null
        ? `${ctx.unseenWhy}: its ${daemonName(ctx.flavour)} must use ${owner}:${formatRange(entry)} for ${ctx.daemonNeed} ids of children`
        : current
          ? `${label}'s ${daemonName(ctx.flavour)} uses ${owner}:${formatRange(current)}` +
            (verdictNow(ctx.obs!, owner, ctx.isHost) === 'privileged-only' ? ` (outside ${label}'s own ${ownIds(ctx.obs!)} ids: it runs privileged containers only)` : '') +
            `; the tree needs ${owner}:${formatRange(entry)}` +
            (pins.length > 0 ? ` (keeping ${pins.map((p) => formatRange(p.range) + ' for ' + p.by.join(', ')).join('; ')})` : '')
          : `${label} has no usable ${owner} entry in /etc/${file}; the tree needs ${owner}:${formatRange(entry)}`;
    out.steps.push(
      writeSubidStep({
        level: ctx.path,
        file,
        dependsOn: ctx.entryDeps,
        reason,
        before: state === null ? null : text,
        after: state === null ? null : applyRootEdit(text, edit),
        edit,
        restore: false,
        precondition: state === null ? { kind: 'level-new' } : { kind: 'file-sha256', sha256: state.sha256 },
      }),
    );
  }
  return out;
}
