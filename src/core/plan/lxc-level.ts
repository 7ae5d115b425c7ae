// The inside of a classic LXC container that holds LXC containers (LXC inside LXC) as a level of
// its own: no daemon there, only LXC, root-owned containers each with the slice of the
// container's own ids the allocator gave it (core/ids/lxc-need.ts: 65536 on, after the
// container's own 65536), and root lines for those slices in its /etc/subuid and /etc/subgid
// (liblxc wants root's maps there where newuidmap is installed: LXC src/lxc/conf.c, lxc_map_ids).

import { BugError } from '../errors.js';
import { formatRange } from '../ids/range.js';
import type { LxcAllocation } from '../ids/lxc-need.js';
import type { LxcSpec } from '../manifest/model.js';
import { levelLabel } from '../paths.js';
import { firstUsable, type SubidEdit } from '../subid/file.js';
import type { ObservedLevel } from '../observed.js';
import { editFor } from './level-entry.js';
import type { ContextResult, LevelContext, LevelLxc, SubidFileState } from './level-context.js';
import { type ConcernResult, noConcern } from './result.js';
import { editSubidStep } from './steps/write-subid.js';

/** The context of the level inside LXC container `outer` of level `parent`; `entryDeps`: the steps that make it run. */
export function lxcLevelContext(parent: LevelContext, outer: LevelLxc, entryDeps: string[]): ContextResult {
  const { input } = parent;
  const path = outer.spec.path;
  const label = levelLabel(path);
  const seen = parent.unseen ? undefined : input.tree.levels[path];
  if (seen?.kind === 'unseen') {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          fault: 'environment',
          where: { kind: 'node', path },
          message: `cannot look inside ${path}: ${seen.reason}`,
          hint: `${path} must be able to run sh (lxc-attach -n ${outer.spec.name} -- sh) to hold LXC containers`,
        },
      ],
    };
  }
  const obs: ObservedLevel | null = seen?.kind === 'observed' ? seen.level : null;
  const lxc = outer.spec.containers.map((spec: LxcSpec): LevelLxc => {
    const alloc: LxcAllocation | undefined = input.allocation.lxcByPath[spec.path];
    if (!alloc?.slice) throw new BugError(`no slice for ${spec.path} inside ${path}`);
    return { spec, alloc, map: alloc.slice };
  });
  const fileState = (o: ObservedLevel, file: 'subuid' | 'subgid'): SubidFileState => ({
    text: o[file].text,
    sha256: o[file].sha256,
    current: firstUsable(o[file].text, 'root'),
  });
  const ctx: LevelContext = {
    input,
    path,
    label,
    isHost: false,
    inLxc: true,
    owner: 'root',
    flavour: parent.flavour,
    flavourFrom: 'assumed',
    obs,
    subid: obs ? { subuid: fileState(obs, 'subuid'), subgid: fileState(obs, 'subgid') } : null,
    down: null,
    hidden: false,
    unseen: obs === null,
    unseenWhy: obs === null ? `${label} is new` : null,
    hostsLxd: false,
    dockremap: null,
    daemonNeed: 0,
    ownSize: outer.map.size,
    entry: null,
    entryKept: false,
    daemonRange: { start: 0, size: 0 },
    pins: [],
    children: [],
    profiles: [],
    ancestors: [...parent.ancestors, { path: parent.path, obs: parent.obs, subnet: parent.subnet }],
    subnet: null,
    lxc,
    lxcUsers: new Map(),
    entryDeps,
    restarted: parent.restarted,
    hiddenBy: null,
  };
  return { ok: true, ctx, warnings: [] };
}

/** Root's lines for the slices of the LXC containers inside, one a slice, in both files. */
export function lxcLevelSubidSteps(ctx: LevelContext): ConcernResult {
  const out = noConcern();
  const [first, ...rest] = ctx.lxc.map((l) => l.map);
  if (!first) return out;
  for (const file of ['subuid', 'subgid'] as const) {
    const state = ctx.subid?.[file] ?? null;
    const text = state ? state.text : null;
    if (state !== null && editFor(text, 'root', first, rest) === null) continue;
    const edit: SubidEdit = [{ owner: 'root', entry: first, keep: rest }];
    out.steps.push(
      editSubidStep({
        level: ctx.path,
        file,
        dependsOn: ctx.entryDeps,
        reason: `${ctx.label} runs LXC containers as root: newuidmap there maps ${ctx.lxc.map((l) => `${l.spec.name} to root:${formatRange(l.map)}`).join(', ')} only with root's lines for them`,
        edit,
        state,
      }),
    );
  }
  return out;
}
