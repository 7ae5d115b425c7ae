// One child of a level: created (after deleting a half-made create of nestctl's own), or brought
// to the manifest's config and started; a running child is restarted when its daemon applies what
// changed only at start (a new id map, security.nesting turned on: core/flavour/start-keys.ts).

import { parseLxdIdmap } from '../../ids/idmap.js';
import type { IdRange } from '../../ids/range.js';
import { lxdTrue } from '../../manifest/config-keys.js';
import { type ContainerSpec, type LxcSpec, hostsContainers } from '../../manifest/model.js';
import { levelNeed } from '../../ids/allocate.js';
import { remoteRangeVerdict } from '../../ids/remote-range.js';
import { moveCost } from '../placement.js';
import { requiredRange } from '../slices.js';
import { type ObservedInstance, type ObservedTree, managedInstance } from '../../observed.js';
import { joinPath } from '../../paths.js';
import { daemonName, IDMAP_KEYS, startOnlyChanges } from '../../flavour/index.js';
import { MARKER_MANAGED, MARKER_PATH, desiredConfig, impliedReasons, markers } from '../desired-config.js';
import { halfMade } from '../half-made.js';
import type { LevelChild, LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import { configChanges } from '../config-drift.js';
import { type Deletion, deletionVerdict, keptMessage } from '../deletion.js';
import { type Diagnostic, nodeAt, sourceAt } from '../../diagnostics.js';
import { deleteSteps } from '../steps/delete.js';
import type { Step } from '../model.js';
import { type ConcernResult, noConcern } from '../result.js';
import type { ResolvedImages } from './images.js';

export interface ChildResult extends ConcernResult {
  /** The step that makes the child run, if any (its own level starts from it). */
  running: string | null;
  /** Its create step, if planned (the next isolated sibling is created after it). */
  created: string | null;
  /** Its map grows to the level's planned range (its own level then holds that many ids). */
  grows: boolean;
  /** It is deleted and created again: whatever was observed inside it is gone. */
  replaced: boolean;
  /** Its `target:` cannot be honoured, or its member is not online: nothing of it or inside it is planned. */
  unplaced: boolean;
  /** It runs and is restarted: whatever ran inside it stops. */
  restarted: boolean;
}

const withImplied = (implied: Record<string, string> | null): { implied?: Record<string, string> } => (implied ? { implied } : {});

/** `deps`: what the child's first step waits for (daemon ready, its image, an earlier isolated sibling). */
export function childSteps(ctx: LevelContext, child: LevelChild, images: ResolvedImages, deps: string[]): ChildResult {
  const out: ChildResult = { ...noConcern(), running: null, created: null, grows: false, replaced: false, unplaced: false, restarted: false };
  const add = (step: Step): string => {
    out.steps.push(step);
    return step.id;
  };
  const { spec, alloc } = child;
  if (child.placement.kind === 'unreachable') {
    out.warnings.push(child.placement.note);
    out.unplaced = true;
    return out;
  }
  const placed = placementProblems(ctx, child);
  if (placed.length > 0) {
    out.problems.push(...placed);
    out.unplaced = true;
    return out;
  }
  const target = child.placement.kind === 'placed' ? child.placement.target : null;
  const config = desiredConfig(spec, alloc);
  const hosting = hostsContainers(spec);
  // Setup commands and Docker expect a booted system (a socket-activated docker, say), not just a running init.
  const waitBoot = hosting || spec.docker || spec.setup.length > 0;
  const found = (ctx.obs && managedInstance(ctx.obs, spec.name)) ?? null;
  const leftover = found !== null && halfMade(found, spec.path);
  const replacing = !leftover && found !== null ? replacement(ctx, child, found, images) : null;
  if (replacing && !replacing.ok) {
    out.problems.push(replacing.problem);
    return out;
  }
  const existing = leftover || replacing ? null : found;
  if (!existing) {
    const cleared = leftover
      ? [
          add({
            id: `${spec.path}:delete-instance`,
            level: ctx.path,
            kind: 'delete-instance',
            dependsOn: deps,
            reason: `${spec.path} was left half-made by an interrupted create (it never started): deleted and created again`,
            name: spec.name,
            path: spec.path,
            precondition: pre(ctx, { kind: 'instance-config', config: { [MARKER_PATH]: spec.path }, profiles: found.profiles }),
          }),
        ]
      : replacing
        ? deleteSteps(replacing.deletion, replacing.reason, deps).map(add)
        : deps;
    out.replaced = replacing !== null;
    out.created = add({
      id: `${spec.path}:create-instance`,
      level: ctx.path,
      kind: 'create-instance',
      dependsOn: cleared,
      // A hidden level's containers could not be listed: it may exist already.
      reason: replacing ? replacing.reason : ctx.hidden ? `${ctx.unseenWhy}: ${spec.path} is created once its ${daemonName(ctx.flavour)} runs, unless it exists` : ctx.obs ? `${spec.path} does not exist in ${ctx.label}` : `${ctx.label} is new`,
      name: spec.name,
      path: spec.path,
      image: spec.image,
      fingerprint: images.get(spec.image)?.fingerprint ?? null,
      profiles: spec.profiles,
      config: { ...config, ...markers(spec) },
      ...withImplied(impliedReasons(spec, alloc, Object.keys(config))),
      ...(replacing ? { replace: replacing.what } : {}),
      ...(target ? { target } : {}),
      precondition: pre(ctx, { kind: 'instance-absent' }),
    });
    out.running = add({
      id: `${spec.path}:start-instance`,
      level: ctx.path,
      kind: 'start-instance',
      dependsOn: [out.created],
      reason: ctx.hidden ? `${spec.path} is started unless it runs` : `${spec.path} is created stopped`,
      name: spec.name,
      path: spec.path,
      hosting,
      waitBoot,
      precondition: pre(ctx, { kind: 'none' }),
    });
    return out;
  }
  const adopting = existing.config[MARKER_MANAGED] !== 'true';
  if (adopting) {
    const refused = adoptionProblem(ctx, spec, existing, config, images);
    if (refused) {
      out.problems.push(refused);
      return out;
    }
  }
  let last: string | null = null;
  // An adopted container is nestctl's from now on: its markers are set and its config owned.
  const { set, unset, before } = configChanges(existing.config, adopting ? { ...config, ...markers(spec) } : config, spec.ignoreChanges, true);
  const profilesDiffer = existing.profiles.join('\n') !== spec.profiles.join('\n');
  if (Object.keys(set).length > 0 || unset.length > 0 || profilesDiffer) {
    last = add({
      id: `${spec.path}:update-config`,
      level: ctx.path,
      kind: 'update-config',
      // After the level's daemon restart: idmap keys are checked against the range it loads.
      dependsOn: deps,
      reason:
        unset.length > 0
          ? `${spec.path} carries config the manifest does not name (set by hand?): removed${Object.keys(set).length > 0 || profilesDiffer ? ', and the rest brought to the manifest' : ''}`
          : `${spec.path}'s config differs from the manifest`,
      name: spec.name,
      path: spec.path,
      set,
      unset,
      before,
      ...withImplied(impliedReasons(spec, alloc, Object.keys(set))),
      profiles: profilesDiffer ? { before: existing.profiles, after: spec.profiles } : null,
      precondition: pre(ctx, { kind: 'instance-config', config: existing.config, profiles: existing.profiles }),
    });
  }
  const move = child.placement.kind === 'placed' ? child.placement.move : null;
  if (move) {
    const running = existing.status === 'Running';
    const stops = running ? [spec.path, ...inside(spec)] : [];
    const moved = add({
      id: `${spec.path}:move-instance`,
      level: ctx.path,
      kind: 'move-instance',
      dependsOn: [...deps, ...(last ? [last] : [])],
      reason: `${spec.path} is on member ${move.from}, not on its target ${target}: ${moveCost(spec.path, running, stops.length - 1)}`,
      name: spec.name,
      path: spec.path,
      from: move.from,
      to: move.to,
      running,
      stops,
      precondition: pre(ctx, { kind: 'instance-status', status: existing.status }),
    });
    // The move's start applies whatever map waits (the new member's); a stopped one is started next.
    if (running) {
      out.running = moved;
      return out;
    }
    last = moved;
  }
  const startKeys = startOnlyChanges(before, set, unset);
  const remapKeys = startKeys.filter((k) => IDMAP_KEYS.includes(k));
  const grow = remapKeys.length > 0 || move ? null : growth(child, existing.config);
  out.grows = grow !== null;
  if (grow || (existing.status === 'Running' && (startKeys.length > 0 || remapPending(existing.config)))) {
    out.restarted = existing.status === 'Running';
    const daemon = daemonName(ctx.flavour);
    const otherKeys = startKeys.filter((k) => !IDMAP_KEYS.includes(k));
    const why = [
      ...(grow ? [`${ctx.label}'s ${daemon} hands out ${grow.to.size} ids from ${grow.to.start}; ${spec.path} maps ${grow.from.size}, and ${daemon} computes a map again only when an idmap key changes`] : []),
      ...(remapKeys.length > 0 ? [`${daemon} applies the new id map (${remapKeys.join(', ')}) only when ${spec.path} starts again`] : []),
      ...(otherKeys.length > 0 ? [`${otherKeys.join(', ')} ${otherKeys.length === 1 ? 'is' : 'are'} set while ${spec.path} runs, and ${daemon} applies ${otherKeys.length === 1 ? 'it' : 'them'} only at a start`] : []),
    ];
    out.running = add({
      id: `${spec.path}:restart-instance`,
      level: ctx.path,
      kind: 'restart-instance',
      dependsOn: [...deps, ...(last ? [last] : [])],
      reason: why.length > 0 ? why.join('; ') : `${spec.path} has a new id map waiting for its next start`,
      name: spec.name,
      path: spec.path,
      hosting,
      waitBoot,
      keys: startKeys,
      grow,
      inside: existing.status === 'Running' ? runningInside(ctx.input.tree, spec.path) : 0,
      precondition: pre(ctx, { kind: 'instance-status', status: existing.status }),
    });
    return out;
  }
  if (existing.status !== 'Running') {
    out.running = add({
      id: `${spec.path}:start-instance`,
      level: ctx.path,
      kind: 'start-instance',
      dependsOn: [...deps, ...(last ? [last] : [])],
      reason: `${spec.path} is ${existing.status.toLowerCase()}`,
      name: spec.name,
      path: spec.path,
      hosting,
      waitBoot,
      precondition: pre(ctx, { kind: 'instance-status', status: existing.status }),
    });
  }
  return out;
}

/** The manifest's containers inside `spec`, LXD and LXC, at every depth. */
function inside(spec: ContainerSpec | LxcSpec): string[] {
  const kids: Array<ContainerSpec | LxcSpec> = 'runtime' in spec ? spec.containers : [...spec.containers, ...spec.lxc];
  return kids.flatMap((c) => [c.path, ...inside(c)]);
}

/**
 * A root container's `target:` that the cluster cannot honour (no cluster, no such member or
 * group), or a member whose map is smaller than the container's tree needs.
 */
function placementProblems(ctx: LevelContext, child: LevelChild): Diagnostic[] {
  const p = child.placement;
  if (p.kind === 'refused') return [p.problem];
  if (p.kind !== 'placed') return [];
  const host = ctx.input.manifest.host;
  return p.candidates.flatMap((member) => {
    const range = ctx.input.tree.members?.[member];
    if (!range) return [];
    // An isolated one needs its slice to fit the member's range (LXD's strict fit), not the whole range.
    const slice = child.memberSlices[member];
    const need = slice ? requiredRange(range.uid.start, [slice]) : levelNeed([child.alloc]);
    const verdict = remoteRangeVerdict({ host, member, range, need, flavour: ctx.flavour });
    // A member is never grown (remoteRangeVerdict plans that only for the server shell: reaches).
    if (verdict.kind !== 'refused') return [];
    return [{ severity: 'error', fault: 'user', where: sourceAt(ctx.input.manifest.file, child.spec.target!.pos), message: `${child.spec.path} (target: ${p.target}): ${verdict.message}`, hint: verdict.hint }];
  });
}

/** Containers seen running inside container `path`, at every depth (LXD's and classic LXC's): they stop when it does. */
export function runningInside(tree: ObservedTree, path: string): number {
  const seen = tree.levels[path];
  if (seen?.kind !== 'observed') return 0;
  const lxc = Object.values(seen.level.lxc?.owners ?? {}).flatMap((o) => o.containers.filter((c) => c.state === 'RUNNING'));
  return lxc.length + seen.level.instances.filter((i) => i.status === 'Running').reduce((n, i) => n + 1 + runningInside(tree, joinPath(path, i.name)), 0);
}

/** LXD computed a new map (volatile.idmap.next) that the running container does not use yet. */
export function remapPending(config: Record<string, string>): boolean {
  const next = config['volatile.idmap.next'];
  const current = config['volatile.idmap.current'];
  if (!next || !current) return false;
  return JSON.stringify(parseLxdIdmap(next)) !== JSON.stringify(parseLxdIdmap(current));
}

/**
 * A non-isolated container's map is a copy of its daemon's whole range (findIdmap in LXD's and
 * Incus's driver_lxc.go), taken when it is created or an idmap key changes. When the level's
 * range grew from the same start, the container must take the larger map. Other differences (a
 * moved start, a shrink, raw.idmap, a size of its own) are not planned here.
 */
export function growth(child: LevelChild, config: Record<string, string>): { from: IdRange; to: IdRange } | null {
  if (child.alloc.slice || lxdTrue(config['security.privileged'] ?? '') || config['raw.idmap'] || config['security.idmap.size']) return null;
  const stored = config['volatile.idmap.next'] ?? config['volatile.idmap.current'];
  const uid = parseLxdIdmap(stored).filter((e) => e.isuid);
  if (uid.length !== 1) return null;
  const from = { start: uid[0]!.hostid, size: uid[0]!.maprange };
  const to = child.map;
  return from.start === to.start && from.size < to.size ? { from, to } : null;
}

/**
 * An existing container nestctl did not create is taken over only when the manifest says
 * `adopt: true`, and only when it is made from the manifest's image (LXD cannot change that in
 * place). Without it, the plan says what differs.
 */
function adoptionProblem(ctx: LevelContext, spec: LevelChild['spec'], existing: ObservedInstance, config: Record<string, string>, images: ResolvedImages): Diagnostic | null {
  const wanted = images.get(spec.image)?.fingerprint ?? null;
  const current = existing.config['volatile.base_image'] ?? null;
  const imageDiffers = wanted !== null && current !== null && wanted !== current;
  const was = ctx.obs?.images.find((i) => i.fingerprint === current)?.aliases[0] ?? current?.slice(0, 12) ?? 'unknown';
  const changes = configChanges(existing.config, config, spec.ignoreChanges, true);
  const differs = [
    ...(imageDiffers ? [`image ${was}, not ${spec.image}`] : []),
    ...Object.keys(changes.set).map((k) => `${k} ${k in changes.before ? `is ${JSON.stringify(changes.before[k])}` : 'is unset'}, not ${JSON.stringify(changes.set[k])}`),
    ...changes.unset.map((k) => `${k} is set (${JSON.stringify(changes.before[k])}), the manifest does not name it`),
  ];
  const where = `${spec.path} exists${ctx.path ? ` in ${ctx.label}` : ''} and was not created by nestctl`;
  if (!spec.adopt) {
    return {
      severity: 'error',
      fault: 'user',
      where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
      message: `${where}${differs.length > 0 ? `; it differs from the manifest: ${differs.join('; ')}` : ''}`,
      hint: `add adopt: true to ${spec.path} in the manifest to manage it from now on (nestctl then owns its config, and destroy may delete it), or rename one of them`,
    };
  }
  if (imageDiffers) {
    return {
      severity: 'error',
      fault: 'user',
      where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
      message: `${where}, and cannot be adopted: it was made from image ${was}, not ${spec.image}`,
      hint: `write image: ${was} for ${spec.path}, or delete it by hand and let nestctl create it`,
    };
  }
  return null;
}

type Replacement = { ok: true; deletion: Deletion & { verdict: 'delete' }; reason: string; what: string } | { ok: false; problem: Diagnostic };

/**
 * Whether the existing container must be deleted and created again (Terraform's -/+): LXD cannot
 * change an instance's image in place (`volatile.base_image` is the fingerprint it was created
 * from), and `--replace PATH` forces it. Only what the deletion rule may delete is replaced.
 */
function replacement(ctx: LevelContext, child: LevelChild, found: ObservedInstance, images: ResolvedImages): Replacement | null {
  const { spec } = child;
  if (found.config[MARKER_PATH] !== spec.path) return null;
  const wanted = images.get(spec.image)?.fingerprint ?? null;
  const current = found.config['volatile.base_image'] ?? null;
  const imageChanged = wanted !== null && current !== null && wanted !== current;
  const forced = (ctx.input.options.replace ?? []).includes(spec.path);
  if (!imageChanged && !forced) return null;
  const was = ctx.obs?.images.find((i) => i.fingerprint === current)?.aliases[0] ?? current?.slice(0, 12);
  const what = imageChanged ? `image ${was} → ${spec.image}` : '--replace';
  const why = imageChanged ? `${what}, which LXD cannot change in place` : what;
  const verdict = deletionVerdict(ctx.input.tree, ctx.path, found);
  if (verdict.verdict === 'keep') {
    return {
      ok: false,
      problem: {
        severity: 'error',
        fault: 'user',
        where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
        message: `${spec.path} must be replaced (${why}), but it cannot be deleted: ${keptMessage(verdict)}`,
        hint: imageChanged ? `put back the image it was created from, or make it deletable and plan again` : `drop --replace ${spec.path}, or make it deletable and plan again`,
      },
    };
  }
  const lost = [...verdict.lxc, ...verdict.inner.flatMap(function all(d): string[] {
    return [d.path, ...d.lxc, ...d.inner.flatMap(all)];
  })];
  const reason = `replace (${why}): deleted and created again; lost: the filesystem of ${spec.path}${lost.length > 0 ? ` and every container inside it (${lost.join(', ')})` : ''}`;
  return { ok: true, deletion: verdict, reason, what };
}
