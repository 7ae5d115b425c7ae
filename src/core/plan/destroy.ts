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
import type { PartsResult, PlannerOptions } from './result.js';
import { deleteSteps } from './steps/delete.js';
import { readsSubidAtStart, restartDaemonStep } from './steps/restart.js';
import { writeSubidStep } from './steps/write-subid.js';
import { levelLabel as label } from '../paths.js';

export interface DestroyOptions extends PlannerOptions {
  restoreIds: boolean;
}

/** The destroy plan's content; the caller stamps the envelope (assemblePlan, mode destroy). */
export function planDestroy(manifest: Manifest, tree: ObservedTree, options: DestroyOptions): PartsResult {
  const steps: Step[] = [];
  const warnings: string[] = [];
  const problems: Diagnostic[] = [];
  const hostObs = tree.levels[''];
  if (!hostObs || hostObs.kind !== 'observed' || hostObs.level.daemon.kind !== 'up') {
    const seen = hostObs?.kind === 'observed' ? hostObs.level.flavour : null;
    return { ok: false, problems: [{ severity: 'error', fault: 'environment', where: { kind: 'node', path: '' }, message: `the host's ${seen ? daemonName(seen) : 'daemon'} is not reachable` }] };
  }
  const hostFlavour = levelFlavour(manifest, '', hostObs.level, null, null);
  if (!hostFlavour.ok) return { ok: false, problems: [hostFlavour.problem] };
  /** A surviving level's flavour: as found (levels are deleted only when seen), else the manifest's or the host's kind. */
  const flavourOf = (levelPath: string, level: ObservedLevel, spec: ContainerSpec | null): Flavour | null => {
    const d = levelPath === '' ? hostFlavour : levelFlavour(manifest, levelPath, level, spec, hostFlavour.flavour);
    return d.ok ? d.flavour : level.flavour;
  };
  const flavours: Record<string, Flavour> = {};
  const known = (levelPath: string, flavour: Flavour | null): void => {
    if (flavour) flavours[levelPath] ??= flavour;
  };
  known('', hostFlavour.flavour);

  /** Deletes inside `level` the listed containers that may go; returns the ids of those steps. */
  const visit = (levelPath: string, level: ObservedLevel, specs: ContainerSpec[], lxc: LxcSpec[]): string[] => {
    const ids: string[] = lxcDeletions(levelPath, level, lxc);
    for (const spec of specs) {
      const inst = managedInstance(level, spec.name);
      if (!inst) continue;
      const verdict = deletionVerdict(tree, levelPath, inst);
      if (verdict.verdict === 'delete') {
        const made = deleteSteps(verdict, `${spec.path} was created by nestctl and holds nothing else`, []);
        steps.push(...made);
        ids.push(...made.map((s) => s.id));
        continue;
      }
      warnings.push(keptMessage(verdict));
      // It stays: what the manifest put inside it may still go, if that inside can be seen.
      const inner = tree.levels[spec.path];
      if (inner?.kind !== 'observed' || inner.level.daemon.kind !== 'up') continue;
      known(spec.path, flavourOf(spec.path, inner.level, spec));
      const below = visit(spec.path, inner.level, spec.containers, spec.lxc);
      profilesAfter(spec.path, inner.level, spec.insideProfiles, below);
      if (options.restoreIds) restoreLevel(spec.path, inner.level, below, spec);
    }
    return ids;
  };

  /** Delete steps for the level's managed profiles, after the deletions in it. */
  const profilesAfter = (levelPath: string, level: ObservedLevel, declared: ContainerSpec['insideProfiles'], deleteIds: string[]): void => {
    const deleted = new Set(steps.flatMap((s) => (s.kind === 'delete-instance' && s.level === levelPath ? [s.name] : [])));
    const made = destroyProfileSteps(levelPath, level, declared, deleteIds, deleted);
    steps.push(...made.steps);
    warnings.push(...made.warnings);
  };

  /** lxc-stop and lxc-destroy of the level's LXC containers nestctl made; others are kept with a warning. */
  const lxcDeletions = (levelPath: string, level: ObservedLevel, lxc: LxcSpec[]): string[] => {
    const ids: string[] = [];
    for (const spec of lxc) {
      const seen = level.lxc?.owners[ownerKey(spec.user)]?.containers.find((c) => c.name === spec.name);
      if (!seen) continue;
      if (markedPath(seen.config.text) !== spec.path) {
        warnings.push(`keeping LXC container ${spec.path} of ${ownerKey(spec.user)}: nestctl did not create it`);
        continue;
      }
      // lxc-destroy takes what it holds along: the deletion rule's proof, as for an LXD container.
      const { kept } = lxcVerdict(tree, spec.path, ownerKey(spec.user), seen);
      if (kept.length > 0) {
        const self = kept.length === 1 && kept[0] === lxcLabel(spec.path, ownerKey(spec.user));
        const why = self
          ? `it may hold LXC containers (${NESTING_CONF}) and what it holds cannot be seen${seen.state === 'RUNNING' ? '' : ' without starting it; start it and run nestctl again'}`
          : `it holds containers nestctl did not create or cannot prove empty (${kept.join(', ')})`;
        warnings.push(`keeping LXC container ${spec.path} of ${ownerKey(spec.user)}: ${why}`);
        continue;
      }
      const step: Step = {
        id: `${spec.path}:delete-lxc`,
        level: levelPath,
        kind: 'delete-lxc',
        dependsOn: [],
        reason: `${spec.path} was created by nestctl (LXC, ${seen.state.toLowerCase()})`,
        name: spec.name,
        path: spec.path,
        user: spec.user,
        precondition: { kind: 'instance-status', status: seen.state },
      };
      steps.push(step);
      ids.push(step.id);
    }
    return ids;
  };

  /** Restore steps for a surviving level, after the deletions in it. */
  const restoreLevel = (levelPath: string, level: ObservedLevel, deleteIds: string[], spec: ContainerSpec | null): void => {
    const owner = manifest.host.owner;
    const lxcUsers = [...new Set((spec ? spec.lxc : manifest.lxc).flatMap((l) => (l.user === null ? [] : [l.user])))];
    const deleted = new Set(steps.flatMap((s) => (s.kind === 'delete-instance' && s.level === levelPath ? [s.name] : [])));
    const remaining = level.instances.filter((i) => i.project !== MANAGED_PROJECT || !deleted.has(i.name));
    const writes: string[] = [];
    for (const file of ['subuid', 'subgid'] as const) {
      const original = level.subidOriginal[file];
      const current = level[file];
      if (original === null || current.text === null) continue;
      const ranges: IdRange[] = usableEntries(original, owner).map((e) => ({ start: e.start, size: e.size }));
      // Containers that stay may run on a range nestctl wrote: keep that entry after the originals.
      const pins: string[] = [];
      for (const entry of usableEntries(current.text, owner)) {
        if (ranges.some((r) => r.start === entry.start && r.size === entry.size)) continue;
        const users = remaining.filter((i) => hostRangesOfInstance(i.config).some((u) => contains(entry, u) && !ranges.some((r) => contains(r, u))));
        if (users.length === 0) continue;
        ranges.push({ start: entry.start, size: entry.size });
        pins.push(`${owner}:${formatRange(entry)} for ${users.map((u) => u.name).join(', ')}`);
      }
      let after = replaceRootEntries(current.text, owner, ranges);
      for (const user of lxcUsers) after = replaceRootEntries(after, user, usableEntries(original, user).map((e) => ({ start: e.start, size: e.size })));
      if (after === current.text) continue;
      const step = writeSubidStep({
        level: levelPath,
        file,
        dependsOn: [...deleteIds],
        reason: `restore ${[owner, ...lxcUsers].join("'s, ")}'s lines of /etc/${file} as they were before nestctl${pins.length ? ` (keeping ${pins.join('; ')})` : ''}`,
        before: current.text,
        after,
        edit: null,
        restore: true,
        precondition: { kind: 'file-sha256', sha256: current.sha256 },
      });
      steps.push(step);
      writes.push(step.id);
    }
    const usernet = level.lxc?.usernet;
    const usernetOriginal = level.lxc?.usernetOriginal ?? null;
    if (usernet && usernetOriginal !== null && usernet.text !== usernetOriginal) {
      steps.push({
        id: `${label(levelPath)}:write-lxc-file:${USERNET}`,
        level: levelPath,
        kind: 'write-lxc-file',
        dependsOn: [...deleteIds],
        reason: `restore ${USERNET} as it was before nestctl`,
        file: USERNET,
        owner: 'root',
        before: usernet.text,
        after: usernetOriginal,
        restore: true,
        precondition: { kind: 'file-sha256', sha256: usernet.sha256 },
      });
    }
    if (writes.length === 0) return;
    const restart = restartDaemonStep({
      level: levelPath,
      obs: level,
      flavour: flavourOf(levelPath, level, spec),
      manifest,
      hostRestart: options.hostRestart,
      dependsOn: writes,
      reason: readsSubidAtStart(label(levelPath), flavourOf(levelPath, level, spec)),
      precondition: { kind: 'none' },
    });
    steps.push(restart.step);
    if (restart.problem) problems.push({ ...restart.problem, hint: `${restart.problem.hint}; or destroy without --restore-ids` });
  };

  const top = visit('', hostObs.level, manifest.containers, manifest.lxc);
  profilesAfter('', hostObs.level, manifest.host.profiles, top);
  if (options.restoreIds) restoreLevel('', hostObs.level, top, null);
  if (problems.length > 0) return { ok: false, problems };
  // Levels emptied inside a deleted container were seen (or nothing is deleted): as found.
  for (const s of steps) {
    const obs = tree.levels[s.level];
    if (obs?.kind === 'observed') known(s.level, obs.level.flavour);
  }
  return { ok: true, parts: { levels: [], flavours, steps, warnings } };
}
