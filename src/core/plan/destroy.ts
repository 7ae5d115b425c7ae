// desired × observed → a destroy Plan: delete, bottom-up, only the instances nestctl created
// (user.nestctl.path marks them), and with --restore-ids put back the root lines of the subid
// files as they were before nestctl first edited them, at every level that survives.

import { hostRangesOfInstance } from '../ids/idmap.js';
import { type IdRange, contains, formatRange } from '../ids/range.js';
import type { ContainerSpec, Manifest } from '../manifest/model.js';
import { type ObservedLevel, type ObservedTree, managedInstance } from '../observed.js';
import { replaceRootEntries, usableEntries } from '../subid/file.js';
import { MARKER_PATH } from './desired-config.js';
import { assemblePlan } from './assemble.js';
import type { Step } from './model.js';
import type { PlanOptions, PlanResult } from './planner.js';
import { levelLabel as label } from '../paths.js';

export interface DestroyOptions extends PlanOptions {
  restoreIds: boolean;
}

const owned = (level: ObservedLevel, name: string, path: string): boolean =>
  managedInstance(level, name)?.config[MARKER_PATH] === path;

export function planDestroy(manifest: Manifest, tree: ObservedTree, options: DestroyOptions): PlanResult {
  const steps: Step[] = [];
  const warnings: string[] = [];
  const hostObs = tree.levels[''];
  if (!hostObs || hostObs.kind !== 'observed' || hostObs.level.daemon.kind !== 'up') {
    return { ok: false, problems: [{ fault: 'environment', path: '', message: "the host's LXD is not reachable" }] };
  }

  /**
   * Deletes inside `level` (post-order): the delete step ids, whether anything was kept, and
   * the names deleted at this level. Subid files are restored only at levels that survive.
   */
  const visit = (levelPath: string, level: ObservedLevel | null, specs: ContainerSpec[]): { ids: string[]; kept: boolean; deleted: Set<string> } => {
    const ids: string[] = [];
    let keptSomething = false;
    const deletedHere = new Set<string>();
    for (const spec of specs) {
      const inner = tree.levels[spec.path];
      const innerLevel = inner?.kind === 'observed' ? inner.level : null;
      const below = spec.containers.length > 0 ? visit(spec.path, innerLevel, spec.containers) : { ids: [], kept: false, deleted: new Set<string>() };
      ids.push(...below.ids);
      const keepInner = (): void => {
        if (options.restoreIds && innerLevel) ids.push(...restoreLevel(spec.path, innerLevel, below.deleted, below.ids));
      };
      if (!level || !owned(level, spec.name, spec.path)) {
        keepInner();
        if (level && managedInstance(level, spec.name)) {
          warnings.push(`${spec.path} was not created by nestctl: destroy leaves it`);
          keptSomething = true;
        }
        continue;
      }
      const strangers = innerLevel?.instances.filter((i) => !spec.containers.some((c) => c.name === i.name && i.config[MARKER_PATH] === c.path)) ?? [];
      if (below.kept || strangers.length > 0) {
        const who = strangers.map((i) => `${spec.path}/${i.name}`);
        warnings.push(`${spec.path} is kept: it holds containers nestctl did not create${who.length ? ` (${who.join(', ')})` : ''}`);
        keptSomething = true;
        keepInner();
        continue;
      }
      if (spec.containers.length > 0 && !innerLevel) warnings.push(`${spec.path} is not running: what it contains cannot be checked, and is deleted with it`);
      ids.push(
        add({
          id: `${spec.path}:delete-instance`,
          level: levelPath,
          kind: 'delete-instance',
          dependsOn: [...below.ids],
          reason: `${spec.path} was created by nestctl`,
          name: spec.name,
          path: spec.path,
          precondition: { kind: 'instance-config', config: { [MARKER_PATH]: spec.path }, profiles: [] },
        }),
      );
      deletedHere.add(spec.name);
    }
    return { ids, kept: keptSomething, deleted: deletedHere };
  };

  const add = (step: Step): string => {
    steps.push(step);
    return step.id;
  };

  /** Restore steps for a surviving level; returns their ids. */
  const restoreLevel = (levelPath: string, level: ObservedLevel, deleted: Set<string>, deleteIds: string[]): string[] => {
    const owner = manifest.host.owner;
    const remaining = level.instances.filter((i) => !deleted.has(i.name));
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
      const after = replaceRootEntries(current.text, owner, ranges);
      if (after === current.text) continue;
      writes.push(
        add({
          id: `${label(levelPath)}:write-subid:${file}`,
          level: levelPath,
          kind: 'write-subid',
          dependsOn: [...deleteIds],
          reason: `restore ${owner}'s lines of /etc/${file} as they were before nestctl${pins.length ? ` (keeping ${pins.join('; ')})` : ''}`,
          file,
          before: current.text,
          after,
          edit: null,
          restore: true,
          precondition: { kind: 'file-sha256', sha256: current.sha256 },
        }),
      );
    }
    if (writes.length === 0) return [];
    const restart = add({
      id: `${label(levelPath)}:restart-daemon`,
      level: levelPath,
      kind: 'restart-daemon',
      dependsOn: writes,
      reason: `${label(levelPath)}'s LXD reads /etc/subuid and /etc/subgid only when it starts`,
      command: levelPath === '' ? (options.hostRestart ?? manifest.host.restart) : null,
      precondition: { kind: 'none' },
    });
    return [...writes, restart];
  };

  const top = visit('', hostObs.level, manifest.containers);
  if (options.restoreIds) restoreLevel('', hostObs.level, top.deleted, top.ids);
  return { ok: true, plan: assemblePlan('destroy', manifest, tree, options, { levels: [], steps, warnings }) };
}
