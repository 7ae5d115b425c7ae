// The level's classic LXC containers (runtime: lxc): the veth allowance in /etc/lxc/lxc-usernet
// and each user's default.conf, then per container lxc-create, its own keys in its config, and
// lxc-start. Each user's subuid/subgid range and the root entries recording root-owned
// containers' slices are owner entries of the level's subid write (concerns/subids.ts).

import { type Diagnostic, nodeAt } from '../../diagnostics.js';
import { bridgeName } from '../../flavour/index.js';
import { formatRange } from '../../ids/range.js';
import { lxcConfigDrift } from '../../lxc/config-file.js';
import { configuredText, containerKeys, rootCreateConfig, userDefaultConf } from '../../lxc/desired.js';
import { LXC_NET_BRIDGE, USERNET, defaultConfPath, markedPath, ownerKey } from '../../lxc/paths.js';
import { withUsernet } from '../../lxc/usernet.js';
import type { ObservedLxc, ObservedLxcContainer } from '../../observed.js';
import type { LevelContext, LevelLxc } from '../level-context.js';
import { pre } from '../level-context.js';
import type { Precondition, Step } from '../model.js';
import { type ConcernResult, noConcern } from '../result.js';

const lxcUsers = (ctx: LevelContext): string[] => [...new Set(ctx.lxc.flatMap((l) => (l.spec.user === null ? [] : [l.spec.user])))];

/**
 * `subidWrites`: the level's write-subid steps (concerns/subids.ts), which record root's slices
 * and each user's range; every LXC container waits for them (newuidmap checks the owner's lines).
 * `afterDaemon`: the steps that make the level's daemon ready (its init makes the bridge the containers link to).
 */
export function lxcSteps(ctx: LevelContext, subidWrites: Step[], afterDaemon: readonly string[]): ConcernResult {
  const out = noConcern();
  if (ctx.lxc.length === 0) return out;
  const lxc = ctx.obs?.lxc ?? null;
  const problem = (l: LevelLxc | null, message: string, hint: string, fault: Diagnostic['fault'] = 'user'): void => {
    out.problems.push({
      severity: 'error',
      fault,
      where: nodeAt(ctx.input.manifest.file, l?.spec.path ?? ctx.path, l?.spec.pos),
      message,
      hint,
    });
  };
  if (ctx.obs && (!lxc || lxc.version === null)) {
    problem(
      ctx.lxc[0]!,
      `${ctx.label} runs LXC containers in the manifest, but LXC is not installed there`,
      `install it (apt-get install lxc)${ctx.isHost ? '' : ctx.inLxc ? `, or create ${ctx.label} again from a rootfs that has it` : `, or make ${ctx.label} from an image that has it`}`,
      'environment',
    );
    return out;
  }
  const users = lxcUsers(ctx);
  for (const user of users) {
    if (!ctx.obs)
      problem(
        ctx.lxc.find((l) => l.spec.user === user)!,
        `${ctx.label} is new, and LXC containers run by ${user} need the account to exist there`,
        `nestctl creates no accounts; give the LXC containers of ${ctx.label} no user (they run as root there)`,
      );
    else if (!lxc!.owners[user]?.home)
      problem(
        ctx.lxc.find((l) => l.spec.user === user)!,
        `there is no account ${user} on ${ctx.label} to run its LXC containers`,
        `create it first (useradd -m ${user}); nestctl creates no accounts`,
      );
  }
  if (out.problems.length > 0) return out;

  const deps = [...ctx.entryDeps];
  const perUser = new Map<string, string[]>(users.map((u) => [u, []]));

  const bridgeOf = (l: LevelLxc): string => l.spec.bridge ?? (ctx.inLxc ? LXC_NET_BRIDGE : bridgeName(ctx.flavour));
  if (users.length > 0) {
    const usernet = usernetStep(ctx, lxc, bridgeOf);
    if (usernet) {
      out.steps.push(usernet);
      for (const user of users) perUser.get(user)!.push(usernet.id);
    }
  }
  for (const user of users) {
    const first = ctx.lxc.find((l) => l.spec.user === user)!;
    const owner = lxc!.owners[user]!;
    const file = defaultConfPath(owner.home!);
    const after = userDefaultConf(ctx.lxcUsers.get(user)!.range, bridgeOf(first), lxc!.apparmor);
    const before = owner.defaultConf?.text ?? null;
    if (before === after) continue;
    const step: Step = {
      id: `${ctx.label}:write-lxc-file:${file}`,
      level: ctx.path,
      kind: 'write-lxc-file',
      dependsOn: deps,
      reason:
        before === null
          ? `${user} has no ${file}: it gives every container ${user} makes the id map ${formatRange(ctx.lxcUsers.get(user)!.range)} and the network`
          : `${file} does not give ${user}'s containers the planned id map and network`,
      file,
      owner: user,
      before,
      after,
      restore: false,
      precondition: { kind: 'file-sha256', sha256: owner.defaultConf?.sha256 ?? null },
    };
    out.steps.push(step);
    perUser.get(user)!.push(step.id);
  }

  for (const l of ctx.lxc) {
    const owner = lxc?.owners[ownerKey(l.spec.user)];
    const seen = owner?.containers.find((c) => c.name === l.spec.name) ?? null;
    const before = [
      ...new Set([...deps, ...afterDaemon, ...subidWrites.map((s) => s.id), ...(l.spec.user === null ? [] : perUser.get(l.spec.user)!)]),
    ];
    containerSteps(ctx, l, seen, bridgeOf(l), before, out);
  }
  return out;
}

function usernetStep(ctx: LevelContext, lxc: ObservedLxc | null, bridgeOf: (l: LevelLxc) => string): Step | null {
  const counts = new Map<string, { user: string; link: string; count: number }>();
  for (const l of ctx.lxc) {
    if (l.spec.user === null) continue;
    const key = `${l.spec.user} ${bridgeOf(l)}`;
    const had = counts.get(key);
    counts.set(key, { user: l.spec.user, link: bridgeOf(l), count: (had?.count ?? 0) + 1 });
  }
  const before = lxc?.usernet.text ?? null;
  let after = before ?? '';
  for (const c of counts.values()) after = withUsernet(after, c.user, c.link, c.count);
  if (after === before) return null;
  return {
    id: `${ctx.label}:write-lxc-file:${USERNET}`,
    level: ctx.path,
    kind: 'write-lxc-file',
    dependsOn: ctx.entryDeps,
    reason: `lxc-user-nic lets a user attach only the veth devices ${USERNET} allows: ${[...counts.values()].map((c) => `${c.user} ${c.count} on ${c.link}`).join(', ')}`,
    file: USERNET,
    owner: 'root',
    before,
    after,
    restore: false,
    precondition: { kind: 'file-sha256', sha256: lxc?.usernet.sha256 ?? null },
  };
}

function containerSteps(
  ctx: LevelContext,
  l: LevelLxc,
  seen: ObservedLxcContainer | null,
  bridge: string,
  deps: string[],
  out: ConcernResult,
): void {
  const { spec, map } = l;
  const set = containerKeys(bridge, spec.containers.length > 0, spec.config);
  const base = { level: ctx.path, name: spec.name, path: spec.path, user: spec.user };
  // Root creates its containers' cgroups itself; a user needs one delegated to them under systemd.
  const cgroup = ctx.obs?.systemd && spec.user !== null ? ('systemd-run' as const) : ('none' as const);
  const runs = spec.user === null ? 'root' : spec.user;
  const waitDaemon = ctx.flavour !== null && !ctx.inLxc && bridge === bridgeName(ctx.flavour);
  if (seen === null) {
    const create: Step = {
      ...base,
      id: `${spec.path}:create-lxc`,
      kind: 'create-lxc',
      dependsOn: deps,
      reason: ctx.obs
        ? `${spec.path} does not exist in ${ctx.label} (LXC, run by ${runs}, map ${formatRange(map)})`
        : `${ctx.label} is new`,
      template: spec.template,
      templateArgs: spec.templateArgs,
      config: spec.user === null ? rootCreateConfig(map, bridge) : null,
      precondition: pre(ctx, { kind: 'instance-absent' }),
    };
    const configure: Step = {
      ...base,
      id: `${spec.path}:configure-lxc`,
      kind: 'configure-lxc',
      dependsOn: [create.id],
      reason: `${spec.path}'s own keys and nestctl's marker`,
      set,
      before: null,
      after: null,
      precondition: pre(ctx, { kind: 'none' }),
    };
    const start: Step = {
      ...base,
      id: `${spec.path}:start-lxc`,
      kind: 'start-lxc',
      dependsOn: [configure.id],
      reason: `${spec.path} is created stopped${cgroup === 'systemd-run' ? ' (started in a delegated systemd scope)' : ''}`,
      cgroup,
      waitDaemon,
      precondition: pre(ctx, { kind: 'none' }),
    };
    out.steps.push(create, configure, start);
    return;
  }
  const text = seen.config.text;
  if (markedPath(text) !== spec.path) {
    out.problems.push({
      severity: 'error',
      fault: 'user',
      where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
      message: `an LXC container ${spec.name} of ${runs} exists on ${ctx.label}, but nestctl did not create it`,
      hint: `nestctl manages only the LXC containers it creates; rename one of them, or remove the existing one (lxc-destroy -n ${spec.name})`,
    });
    return;
  }
  let after: string | null = configuredText(text, set, spec.path);
  if (after === text) after = null;
  else {
    out.steps.push({
      ...base,
      id: `${spec.path}:configure-lxc`,
      kind: 'configure-lxc',
      dependsOn: deps,
      reason: `${spec.path}'s config differs from the manifest: ${lxcConfigDrift(text, set)
        .map(([k]) => k)
        .join(', ')}`,
      set,
      before: text,
      after,
      precondition: { kind: 'file-sha256', sha256: seen.config.sha256 },
    });
  }
  const planned = spec.user === null ? map : ctx.lxcUsers.get(spec.user)!.range;
  const used = seen.uidMap.find((e) => e.nsid === 0 && e.isuid);
  if (used && (used.hostid !== planned.start || used.maprange !== planned.size)) {
    out.warnings.push(
      `${spec.path} runs with ids ${used.hostid}:${used.maprange}, but the plan gives it ${formatRange(planned)}; LXC maps a container when it is created: destroy it (lxc-destroy -n ${spec.name}) and apply again to move it`,
    );
  }
  if (seen.state !== 'RUNNING' || ctx.restarted) {
    const configured = after === null ? [] : [`${spec.path}:configure-lxc`];
    // Nothing starts an LXC container again after the container it is in restarts.
    const reason =
      seen.state !== 'RUNNING'
        ? `${spec.path} is ${seen.state.toLowerCase()}`
        : `${spec.path} stops when ${ctx.label} restarts, and nothing starts it again`;
    const precondition: Precondition = seen.state !== 'RUNNING' ? { kind: 'instance-status', status: seen.state } : { kind: 'none' };
    out.steps.push({
      ...base,
      id: `${spec.path}:start-lxc`,
      kind: 'start-lxc',
      dependsOn: [...deps, ...configured],
      reason,
      cgroup,
      waitDaemon,
      precondition,
    });
  }
}
