// Walk the manifest tree over live LXD: the host first, then every running container that hosts
// children, sibling levels in parallel, one probe (one round trip) per level. When the plan may
// delete containers (destroy, --prune), the inside of every running container nestctl created
// for this manifest (user.nestctl.path = its path) is probed too, leaves included: a container
// is deleted only when everything in it was seen.

import { UnseenError } from '../core/errors.js';
import { ownerKey } from '../core/lxc/paths.js';
import { type ContainerSpec, type Flavour, type LxcSpec, type Manifest, hostsContainers } from '../core/manifest/model.js';
import { type ContainerFiles, type LevelObservation, MANAGED_PROJECT, type ObservedLevel, type ObservedTree, managedInstance } from '../core/observed.js';
import { MARKER_PATH } from '../core/plan/desired-config.js';
import { joinPath } from '../core/paths.js';
import type { LxdLevel } from '../ports/lxd.js';

/** apply: only levels that host the manifest's children; destroy/prune: every owned container too. */
export type ObserveMode = 'apply' | 'destroy' | 'prune';

/** `replace`: paths forced to be replaced (--replace); their inside is probed as for a deletion. */
export async function observeTree(host: LxdLevel, manifest: Manifest, mode: ObserveMode = 'apply', replace: readonly string[] = []): Promise<ObservedTree> {
  const files: Record<string, ContainerFiles> = {};
  const walk: Walk = { levels: {}, replace, files: mode === 'destroy' ? null : files };
  const hostLevel = await withLxc(host, await host.probe(), manifest.lxc);
  walk.levels[''] = { kind: 'observed', level: hostLevel };
  await observeChildren(walk, host, hostLevel, manifest.containers, mode !== 'apply');
  return Object.keys(files).length > 0 ? { levels: walk.levels, files } : { levels: walk.levels };
}

/** What one observation collects, and what it was asked to look for, at every level. */
interface Walk {
  levels: Record<string, LevelObservation>;
  /** Paths forced to be replaced (--replace). */
  replace: readonly string[];
  /** Containers' files, read inside them; null when nothing reads them (destroy). */
  files: Record<string, ContainerFiles> | null;
}

/**
 * A container of nestctl's that may be replaced (deleted and created again): forced, or not made
 * from the image the manifest names as this level's store has it. Its deletion needs its inside.
 */
function mayBeReplaced(level: ObservedLevel, spec: ContainerSpec, replace: readonly string[]): boolean {
  const inst = managedInstance(level, spec.name);
  if (!inst || inst.status !== 'Running' || inst.config[MARKER_PATH] !== spec.path) return false;
  if (replace.includes(spec.path)) return true;
  const ref = spec.image.slice(spec.image.indexOf(':') + 1);
  const img = level.images.find((i) => i.aliases.includes(ref)) ?? level.images.find((i) => i.fingerprint.startsWith(spec.image));
  return img?.fingerprint !== inst.config['volatile.base_image'];
}

async function observeChildren(walk: Walk, api: LxdLevel, level: ObservedLevel, specs: ContainerSpec[], insideOwned: boolean): Promise<void> {
  const { levels, files } = walk;
  const replaced = new Set(specs.filter((s) => mayBeReplaced(level, s, walk.replace)).map((s) => s.name));
  const hosting = specs.filter(hostsContainers);
  // Owned containers the manifest gives no children (leaves, or no longer listed): their inside
  // matters only to deletion.
  const owned = level.instances.filter(
    (i) =>
      (insideOwned || replaced.has(i.name)) &&
      i.project === MANAGED_PROJECT &&
      i.status === 'Running' &&
      i.config[MARKER_PATH] === joinPath(level.path, i.name) &&
      !hosting.some((s) => s.name === i.name),
  );
  // A container's files are read inside it, leaves included: one round trip per container that has any.
  const withFiles = files ? specs.filter((s) => s.files.length > 0 && managedInstance(level, s.name)?.status === 'Running') : [];
  await Promise.all([
    ...withFiles.map(async (spec) => {
      files![spec.path] = await readFiles(api, spec);
    }),
    ...hosting.map(async (spec) => {
      const inst = managedInstance(level, spec.name);
      if (!inst) {
        levels[spec.path] = { kind: 'absent', reason: `${spec.path} does not exist` };
        return;
      }
      if (inst.status !== 'Running') {
        levels[spec.path] = { kind: 'absent', reason: `${spec.path} is ${inst.status.toLowerCase()}` };
        return;
      }
      await observeInside(walk, api, spec, insideOwned || replaced.has(spec.name));
    }),
    ...owned.map((inst) => observeInside(walk, api, { name: inst.name, flavour: null, path: joinPath(level.path, inst.name), containers: [], lxc: [] }, true)),
  ]);
}

type Inside = Pick<ContainerSpec, 'name' | 'path' | 'containers' | 'lxc'> & { flavour: Flavour | null };

async function observeInside(walk: Walk, api: LxdLevel, spec: Inside, insideOwned: boolean): Promise<void> {
  const child = api.child(spec.name, spec.flavour);
  const inside = await probeInside(child);
  if (inside.kind === 'observed') inside.level = await withLxc(child, inside.level, spec.lxc);
  walk.levels[spec.path] = inside;
  if (inside.kind === 'observed') await observeChildren(walk, child, inside.level, spec.containers, insideOwned);
}

/** A level with classic LXC containers in the manifest gets its LXC facts (one more round trip), for their owners. */
async function withLxc(api: LxdLevel, level: ObservedLevel, lxc: LxcSpec[]): Promise<ObservedLevel> {
  if (lxc.length === 0) return level;
  const owners = [...new Set(lxc.map((l) => ownerKey(l.user)))].sort();
  return { ...level, lxc: await api.probeLxc(owners) };
}

async function readFiles(api: LxdLevel, spec: ContainerSpec): Promise<ContainerFiles> {
  try {
    return { kind: 'observed', files: await api.readFiles(spec.name, spec.files.map((f) => f.path)) };
  } catch (e) {
    if (!(e instanceof UnseenError)) throw e;
    return { kind: 'unseen', reason: e.message };
  }
}

/** One container's inside: what its probe saw, or "unseen" when the probe cannot run there. */
export async function probeInside(child: LxdLevel): Promise<LevelObservation> {
  try {
    return { kind: 'observed', level: await child.probe() };
  } catch (e) {
    if (!(e instanceof UnseenError)) throw e;
    return { kind: 'unseen', reason: e.message };
  }
}
