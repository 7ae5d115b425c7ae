// desired × observed → a destroy Plan: delete, bottom-up, the manifest's containers that nestctl
// can prove are its own and hold nothing else (core/plan/deletion.ts), and with --restore-ids put
// back the root lines of the subid files as they were before nestctl first edited them, at every
// level that survives. Classic LXC containers nestctl made (their config's marker) are stopped
// and destroyed too; --restore-ids then also puts back their users' subid lines and
// /etc/lxc/lxc-usernet.

import { hostRangesOfInstance } from '../ids/idmap.js';
import { type IdRange, contains, formatRange } from '../ids/range.js';
import type { ContainerSpec, Flavour, LxcSpec, Manifest } from '../manifest/model.js';
import { NESTING_CONF, USERNET, lxcLabel, markedPath, ownerKey } from '../lxc/paths.js';
import { MANAGED_PROJECT, type ObservedLevel, type ObservedTree, managedInstance } from '../observed.js';
import { replaceRootEntries, usableEntries } from '../subid/file.js';
import { daemonName } from '../flavour/index.js';
import { deletionVerdict, keptMessage, lxcVerdict } from './deletion.js';
import { destroyProfileSteps } from './concerns/profiles.js';
import { levelFlavour } from './level-context.js';
import type { Step } from './model.js';
import type { Diagnostic } from '../diagnostics.js';
import { type ConcernResult, type PartsResult, type PlannerOptions, noConcern } from './result.js';
import { deleteSteps } from './steps/delete.js';
import { readsSubidAtStart, restartDaemonStep } from './steps/restart.js';
import { writeSubidStep } from './steps/write-subid.js';
import { levelLabel as label } from '../paths.js';

export interface DestroyOptions extends PlannerOptions {
  restoreIds: boolean;
}

/** What every level of one destroy plan reads. */
interface DestroyInput {
  manifest: Manifest;
  tree: ObservedTree;
  options: DestroyOptions;
  /** The host's flavour as decided (levelFlavour); a surviving level below defaults to its kind. */
  hostFlavour: Flavour | null;
}

/** A level that survives the destroy (the host, or a kept container whose inside is seen), and what the manifest puts at it. */
interface DestroyLevel {
  path: string;
  obs: ObservedLevel;
  /** Its container in the manifest; null for the host. */
  spec: ContainerSpec | null;
  flavour: Flavour | null;
}

/** What a level adds to the plan, its surviving levels below included; `flavours` in the order they were found. */
interface Destroyed extends ConcernResult {
  flavours: Array<[string, Flavour | null]>;
}

const nothing = (): Destroyed => ({ ...noConcern(), flavours: [] });

/** The destroy plan's content; the caller stamps the envelope (assemblePlan, mode destroy). */
export function planDestroy(manifest: Manifest, tree: ObservedTree, options: DestroyOptions): PartsResult {
  const hostObs = tree.levels[''];
  if (hostObs?.kind !== 'observed' || hostObs.level.daemon.kind !== 'up') {
    const seen = hostObs?.kind === 'observed' ? hostObs.level.flavour : null;
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          fault: 'environment',
          where: { kind: 'node', path: '' },
          message: `the host's ${seen ? daemonName(seen) : 'daemon'} is not reachable`,
        },
      ],
    };
  }
  const hostFlavour = levelFlavour(manifest, '', hostObs.level, null, null);
  if (!hostFlavour.ok) return { ok: false, problems: [hostFlavour.problem] };
  const input: DestroyInput = { manifest, tree, options, hostFlavour: hostFlavour.flavour };
  const out = destroyAt(input, { path: '', obs: hostObs.level, spec: null, flavour: hostFlavour.flavour });
  if (out.problems.length > 0) return { ok: false, problems: out.problems };
  return { ok: true, parts: { levels: [], flavours: flavoursOf(tree, out), steps: out.steps, warnings: out.warnings } };
}

/** Deletions at a surviving level (its kept containers' insides planned in place), then its profiles, then with --restore-ids its files. */
function destroyAt(input: DestroyInput, at: DestroyLevel): Destroyed {
  const lxc = (at.spec ? at.spec.lxc : input.manifest.lxc).map((spec) => lxcDeletion(input, at, spec));
  const containers = (at.spec ? at.spec.containers : input.manifest.containers).map((spec) => containerDeletion(input, at, spec));
  const deletions = [...lxc.flatMap((l) => l.steps), ...containers.flatMap((c) => c.deleted)];
  const deleteIds = deletions.map((s) => s.id);
  const deleted = new Set(deletions.flatMap((s) => (s.kind === 'delete-instance' && s.level === at.path ? [s.name] : [])));
  const profiles = destroyProfileSteps(
    at.path,
    at.obs,
    at.spec ? at.spec.insideProfiles : input.manifest.host.profiles,
    deleteIds,
    deleted,
  );
  const restore = input.options.restoreIds ? restoreSteps(input, at, deleteIds, deleted) : noConcern();
  return {
    steps: [...lxc.flatMap((l) => l.steps), ...containers.flatMap((c) => c.steps), ...profiles.steps, ...restore.steps],
    problems: [...containers.flatMap((c) => c.problems), ...restore.problems],
    warnings: [...lxc.flatMap((l) => l.warnings), ...containers.flatMap((c) => c.warnings), ...profiles.warnings, ...restore.warnings],
    flavours: [[at.path, at.flavour], ...containers.flatMap((c) => c.flavours)],
  };
}

/** A container of the manifest at the level: deleted when it may go (`deleted`), else kept, and what the manifest put inside it may still go. */
function containerDeletion(input: DestroyInput, at: DestroyLevel, spec: ContainerSpec): Destroyed & { deleted: Step[] } {
  const inst = managedInstance(at.obs, spec.name);
  if (!inst) return { ...nothing(), deleted: [] };
  const verdict = deletionVerdict(input.tree, at.path, inst);
  if (verdict.verdict === 'delete') {
    const made = deleteSteps(verdict, `${spec.path} was created by nestctl and holds nothing else`, []);
    return { ...nothing(), steps: made, deleted: made };
  }
  const kept = keptMessage(verdict);
  // It stays: what the manifest put inside it may still go, if that inside can be seen.
  const inner = input.tree.levels[spec.path];
  if (inner?.kind !== 'observed' || inner.level.daemon.kind !== 'up') return { ...nothing(), warnings: [kept], deleted: [] };
  const below = destroyAt(input, {
    path: spec.path,
    obs: inner.level,
    spec,
    flavour: survivorFlavour(input, spec.path, inner.level, spec),
  });
  return { ...below, warnings: [kept, ...below.warnings], deleted: [] };
}

/** A surviving level's flavour: as found (levels are deleted only when seen), else the manifest's or the host's kind. */
function survivorFlavour(input: DestroyInput, levelPath: string, level: ObservedLevel, spec: ContainerSpec): Flavour | null {
  const d = levelFlavour(input.manifest, levelPath, level, spec, input.hostFlavour);
  return d.ok ? d.flavour : level.flavour;
}

/** The plan's flavours: each surviving level's as decided, then each level a step runs at as found. */
function flavoursOf(tree: ObservedTree, out: Destroyed): Record<string, Flavour> {
  const flavours: Record<string, Flavour> = {};
  const known = (levelPath: string, flavour: Flavour | null): void => {
    if (flavour) flavours[levelPath] ??= flavour;
  };
  for (const [levelPath, flavour] of out.flavours) known(levelPath, flavour);
  // Levels emptied inside a deleted container were seen (or nothing is deleted): as found.
  for (const s of out.steps) {
    const obs = tree.levels[s.level];
    if (obs?.kind === 'observed') known(s.level, obs.level.flavour);
  }
  return flavours;
}

/** lxc-stop and lxc-destroy of an LXC container nestctl made; others are kept with a warning. */
function lxcDeletion(input: DestroyInput, at: DestroyLevel, spec: LxcSpec): { steps: Step[]; warnings: string[] } {
  const seen = at.obs.lxc?.owners[ownerKey(spec.user)]?.containers.find((c) => c.name === spec.name);
  if (!seen) return { steps: [], warnings: [] };
  if (markedPath(seen.config.text) !== spec.path)
    return { steps: [], warnings: [`keeping LXC container ${spec.path} of ${ownerKey(spec.user)}: nestctl did not create it`] };
  // lxc-destroy takes what it holds along: the deletion rule's proof, as for an LXD container.
  const { kept } = lxcVerdict(input.tree, spec.path, ownerKey(spec.user), seen);
  if (kept.length > 0) {
    const self = kept.length === 1 && kept[0] === lxcLabel(spec.path, ownerKey(spec.user));
    const why = self
      ? `it may hold LXC containers (${NESTING_CONF}) and what it holds cannot be seen${seen.state === 'RUNNING' ? '' : ' without starting it; start it and run nestctl again'}`
      : `it holds containers nestctl did not create or cannot prove empty (${kept.join(', ')})`;
    return { steps: [], warnings: [`keeping LXC container ${spec.path} of ${ownerKey(spec.user)}: ${why}`] };
  }
  const step: Step = {
    id: `${spec.path}:delete-lxc`,
    level: at.path,
    kind: 'delete-lxc',
    dependsOn: [],
    reason: `${spec.path} was created by nestctl (LXC, ${seen.state.toLowerCase()})`,
    name: spec.name,
    path: spec.path,
    user: spec.user,
    precondition: { kind: 'instance-status', status: seen.state },
  };
  return { steps: [step], warnings: [] };
}

/** --restore-ids at a surviving level, after the deletions in it: its subid files, lxc-usernet, and the daemon's restart to read them. */
function restoreSteps(input: DestroyInput, at: DestroyLevel, deleteIds: string[], deleted: ReadonlySet<string>): ConcernResult {
  const { manifest, options } = input;
  const lxcUsers = [...new Set((at.spec ? at.spec.lxc : manifest.lxc).flatMap((l) => (l.user === null ? [] : [l.user])))];
  const remaining = at.obs.instances.filter((i) => i.project !== MANAGED_PROJECT || !deleted.has(i.name));
  const writes = (['subuid', 'subgid'] as const).flatMap((file) => restoreSubid(input, at, file, { remaining, lxcUsers, deleteIds }));
  const usernet = restoreUsernet(at, deleteIds);
  if (writes.length === 0) return { ...noConcern(), steps: usernet };
  const restart = restartDaemonStep({
    level: at.path,
    obs: at.obs,
    flavour: at.flavour,
    manifest,
    hostRestart: options.hostRestart,
    dependsOn: writes.map((s) => s.id),
    reason: readsSubidAtStart(label(at.path), at.flavour),
    precondition: { kind: 'none' },
  });
  const problems: Diagnostic[] = restart.problem
    ? [{ ...restart.problem, hint: `${restart.problem.hint}; or destroy without --restore-ids` }]
    : [];
  return { steps: [...writes, ...usernet, restart.step], problems, warnings: [] };
}

/** The level's file with root's lines (and its LXC users') as they were before nestctl; none when it is so already. */
function restoreSubid(
  input: DestroyInput,
  at: DestroyLevel,
  file: 'subuid' | 'subgid',
  r: { remaining: ObservedLevel['instances']; lxcUsers: string[]; deleteIds: string[] },
): Step[] {
  const owner = input.manifest.host.owner;
  const original = at.obs.subidOriginal[file];
  const current = at.obs[file];
  if (original === null || current.text === null) return [];
  const ranges: IdRange[] = usableEntries(original, owner).map((e) => ({ start: e.start, size: e.size }));
  // Containers that stay may run on a range nestctl wrote: keep that entry after the originals.
  const pins: string[] = [];
  for (const entry of usableEntries(current.text, owner)) {
    if (ranges.some((x) => x.start === entry.start && x.size === entry.size)) continue;
    const users = r.remaining.filter((i) =>
      hostRangesOfInstance(i.config).some((u) => contains(entry, u) && !ranges.some((x) => contains(x, u))),
    );
    if (users.length === 0) continue;
    ranges.push({ start: entry.start, size: entry.size });
    pins.push(`${owner}:${formatRange(entry)} for ${users.map((u) => u.name).join(', ')}`);
  }
  let after = replaceRootEntries(current.text, owner, ranges);
  for (const user of r.lxcUsers)
    after = replaceRootEntries(
      after,
      user,
      usableEntries(original, user).map((e) => ({ start: e.start, size: e.size })),
    );
  if (after === current.text) return [];
  return [
    writeSubidStep({
      level: at.path,
      file,
      dependsOn: [...r.deleteIds],
      reason: `restore ${[owner, ...r.lxcUsers].join("'s, ")}'s lines of /etc/${file} as they were before nestctl${pins.length ? ` (keeping ${pins.join('; ')})` : ''}`,
      before: current.text,
      after,
      edit: null,
      restore: true,
      precondition: { kind: 'file-sha256', sha256: current.sha256 },
    }),
  ];
}

/** /etc/lxc/lxc-usernet as it was before nestctl; none when it is so already. */
function restoreUsernet(at: DestroyLevel, deleteIds: string[]): Step[] {
  const usernet = at.obs.lxc?.usernet;
  const usernetOriginal = at.obs.lxc?.usernetOriginal ?? null;
  if (!usernet || usernetOriginal === null || usernet.text === usernetOriginal) return [];
  return [
    {
      id: `${label(at.path)}:write-lxc-file:${USERNET}`,
      level: at.path,
      kind: 'write-lxc-file',
      dependsOn: [...deleteIds],
      reason: `restore ${USERNET} as it was before nestctl`,
      file: USERNET,
      owner: 'root',
      before: usernet.text,
      after: usernetOriginal,
      restore: true,
      precondition: { kind: 'file-sha256', sha256: usernet.sha256 },
    },
  ];
}
