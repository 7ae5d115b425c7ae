// The manifest's `moved:` entries against what was observed: which containers are renamed, and the
// observation as it will be once they are (the view the rest of the plan is made from: the
// renamed container, its inside and its files under the new path, its marker following it). A
// renamed container keeps its inside, so what is planned for it and inside it is what a plan of
// the renamed container would be; a second plan after apply is empty. Pure.
//
// An entry whose `from` is gone and whose `to` exists was applied: it does nothing. Both present
// is the user's to sort out; a `from` nestctl did not create is not renamed.

import { type Diagnostic, nodeAt } from '../diagnostics.js';
import { type ContainerSpec, type LxcSpec, type Manifest, type MoveSpec, hasPath, hostsContainers } from '../manifest/model.js';
import {
  type ContainerFiles,
  type LevelObservation,
  MANAGED_PROJECT,
  type ObservedLevel,
  type ObservedTree,
  managedInstance,
} from '../observed.js';
import { joinPath, levelLabel, parentPath } from '../paths.js';
import { MARKER_PATH } from './desired-config.js';

/** A container renamed at its parent's level (paths as the plan names them, after the renames above it). */
export interface Rename {
  /** The parent's level path. */
  level: string;
  from: string;
  to: string;
  /** LXD's status when observed ("Running", "Stopped"). */
  status: string;
  /** The containers seen running inside it, at every depth, by their paths once renamed: they stop with it and come back. */
  inside: string[];
  /** nestctl's containers seen inside it, at every depth, by their paths once renamed: their user.nestctl.path follows. */
  markers: string[];
}

export type MovesView = { ok: true; tree: ObservedTree; renames: ReadonlyMap<string, Rename> } | { ok: false; problems: Diagnostic[] };

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const under = (path: string, ancestor: string): boolean => path === ancestor || path.startsWith(`${ancestor}/`);
const moved = (path: string, from: string, to: string): string => (under(path, from) ? `${to}${path.slice(from.length)}` : path);

/** Each chain's end (a container of the manifest) with the paths it had before, the latest first (b, then a, for a → b → c). */
function chains(moves: readonly MoveSpec[]): Array<{ to: string; origins: string[]; entry: MoveSpec }> {
  const fromOf = new Map(moves.map((m) => [m.from, m]));
  const intoOf = new Map(moves.map((m) => [m.to, m]));
  return moves
    .filter((m) => !fromOf.has(m.to))
    .map((entry) => {
      const origins: string[] = [];
      for (let m: MoveSpec | undefined = entry; m && !origins.includes(m.from); m = intoOf.get(m.from)) origins.push(m.from);
      return { to: entry.to, origins, entry };
    });
}

/** By the path a chain of `moved:` entries ends at: the paths it had before, the latest first. */
export function moveOrigins(moves: readonly MoveSpec[]): ReadonlyMap<string, string[]> {
  return new Map(chains(moves).map((c) => [c.to, c.origins]));
}

/** The observation once the renames the manifest asks for are done, and those renames; or why they cannot be planned. */
export function movesView(manifest: Manifest, tree: ObservedTree): MovesView {
  // In a plan of several hosts each host's manifest holds its own containers only.
  const ends = chains(manifest.moves).filter((c) => hasPath(manifest, c.to));
  if (ends.length === 0) return { ok: true, tree, renames: new Map() };
  const levels: Record<string, LevelObservation> = { ...tree.levels };
  let files: Record<string, ContainerFiles> | undefined = tree.files ? { ...tree.files } : undefined;
  // In the view every marker of nestctl's names its container's path in the view: renamed, a
  // container's marker and those of nestctl's containers inside it follow it.
  const renames = new Map<string, Rename>();
  const problems: Diagnostic[] = [];
  // Parents first: the rename of c1 to web comes before that of web/c2, whose parent is then web.
  const depth = (p: string): number => p.split('/').length;
  for (const { to, origins, entry } of [...ends].sort((a, b) => depth(a.to) - depth(b.to))) {
    const level = parentPath(to);
    const seen = levels[level];
    if (seen?.kind !== 'observed') continue; // a parent that is new or unseen holds nothing to rename
    const obs = seen.level;
    const where = nodeAt(manifest.file, to, entry.pos);
    const inLevel = level === '' ? '' : ` in ${levelLabel(level)}`;
    const present = origins.filter((o) => managedInstance(obs, baseName(o)));
    if (present.length === 0) continue; // applied before (or nothing to rename): `to` is planned as it is
    if (managedInstance(obs, baseName(to))) {
      problems.push({
        severity: 'error',
        fault: 'user',
        where,
        message: `${present[0]} and ${to} both exist${inLevel}, and moved: says ${present[0]} was renamed to ${to}; nothing was changed`,
        hint: `keep one of them: delete or rename the other by hand, or drop the moved: entry if ${present[0]} is not the container ${to} was`,
      });
      continue;
    }
    if (present.length > 1) {
      problems.push({
        severity: 'error',
        fault: 'user',
        where,
        message: `${present.join(' and ')} both exist${inLevel}, and moved: renames each of them to ${to}; nothing was changed`,
        hint: 'only one container can become it: delete or rename the other by hand, or drop its moved: entry',
      });
      continue;
    }
    const from = present[0]!;
    const inst = managedInstance(obs, baseName(from))!;
    if (inst.config[MARKER_PATH] !== from) {
      problems.push({
        severity: 'error',
        fault: 'user',
        where,
        message: `${from} exists${inLevel} but was not created by nestctl (no ${MARKER_PATH}=${from}): nestctl renames only its own containers`,
        hint: `rename it yourself (stop it, rename it to ${baseName(to)}, start it) and add adopt: true to ${to}, or drop the moved: entry`,
      });
      continue;
    }
    if (inst.status !== 'Running' && hostsContainers(specAt(manifest, to)!)) {
      problems.push({
        severity: 'error',
        fault: 'user',
        where,
        message: `${from} is ${inst.status.toLowerCase()}${inLevel}: nestctl renames a container that holds containers only while it runs (what is inside it must be seen, and its containers' markers follow the new name)`,
        hint: `start ${from} and plan again, or drop the moved: entry`,
      });
      continue;
    }
    const renamed: ObservedLevel = {
      ...obs,
      instances: obs.instances.map((i) => (i === inst ? { ...i, name: baseName(to), config: { ...i.config, [MARKER_PATH]: to } } : i)),
    };
    levels[level] = { kind: 'observed', level: renamed };
    const markers: string[] = [];
    for (const key of Object.keys(levels).filter((k) => under(k, from))) {
      const value = levels[key]!;
      delete levels[key];
      const path = moved(key, from, to);
      if (value.kind !== 'observed') {
        levels[path] = value;
        continue;
      }
      const instances = value.level.instances.map((i) => {
        if (i.project !== MANAGED_PROJECT || i.config[MARKER_PATH] !== joinPath(key, i.name)) return i;
        markers.push(joinPath(path, i.name));
        return { ...i, config: { ...i.config, [MARKER_PATH]: joinPath(path, i.name) } };
      });
      levels[path] = { kind: 'observed', level: { ...value.level, path, instances } };
    }
    if (files) files = Object.fromEntries(Object.entries(files).map(([k, v]) => [moved(k, from, to), v]));
    renames.set(to, {
      level,
      from,
      to,
      status: inst.status,
      inside: inst.status === 'Running' ? runningInside(levels, to) : [],
      markers: markers.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b)),
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, tree: { ...tree, levels, ...(files ? { files } : {}) }, renames };
}

/** The LXD containers seen running inside container `path`, at every depth, parents first. */
export function runningInside(levels: Record<string, LevelObservation>, path: string): string[] {
  const seen = levels[path];
  if (seen?.kind !== 'observed') return [];
  return seen.level.instances
    .filter((i) => i.status === 'Running' && i.project === MANAGED_PROJECT)
    .flatMap((i) => [joinPath(path, i.name), ...runningInside(levels, joinPath(path, i.name))]);
}

/** The manifest's LXD container at `path`. */
function specAt(manifest: Pick<Manifest, 'containers'>, path: string): ContainerSpec | undefined {
  const walk = (specs: ContainerSpec[]): ContainerSpec | undefined => {
    for (const s of specs) {
      if (s.path === path) return s;
      const inner = walk(s.containers);
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(manifest.containers);
}

/**
 * The manifest with each container named as it is found: one the manifest renamed that is still
 * under its old name (nestctl's, its new name absent) keeps that name and path, and so does
 * everything inside it. What destroy deletes is what is there.
 */
export function asFound(manifest: Manifest, tree: ObservedTree): Manifest {
  if (manifest.moves.length === 0) return manifest;
  const origins = moveOrigins(manifest.moves);
  const lxcAt = (l: LxcSpec, parent: string): LxcSpec => {
    const path = joinPath(parent, l.name);
    return { ...l, path, containers: l.containers.map((c) => lxcAt(c, path)) };
  };
  const walk = (specs: ContainerSpec[], parent: string): ContainerSpec[] => {
    const seen = tree.levels[parent];
    const obs = seen?.kind === 'observed' ? seen.level : null;
    return specs.map((spec) => {
      const was =
        obs && !managedInstance(obs, spec.name)
          ? (origins.get(spec.path) ?? []).map(baseName).find((o) => managedInstance(obs, o)?.config[MARKER_PATH] === joinPath(parent, o))
          : undefined;
      const name = was ?? spec.name;
      const path = joinPath(parent, name);
      if (path === spec.path) return spec;
      return { ...spec, name, path, containers: walk(spec.containers, path), lxc: spec.lxc.map((l) => lxcAt(l, path)) };
    });
  };
  return { ...manifest, containers: walk(manifest.containers, '') };
}
