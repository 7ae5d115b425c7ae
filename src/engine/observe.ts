// Walk the manifest tree over live LXD: the host first, then every running container that hosts
// children (or Docker's dockremap entries), sibling levels in parallel, one probe (one round trip) per level. The levels the
// manifest puts below the host are probed at once, before their parents' answers say they run: a
// level's answer is used only when the walk reaches it and the guess it was asked through (its
// parent's flavour) was right, so a deep tree costs the slowest probe, not their sum. When the plan may
// delete containers (destroy, --prune), the inside of every running container nestctl created
// for this manifest (user.nestctl.path = its path) is probed too, leaves included, with its
// classic LXC containers of every owner: a container is deleted only when everything in it was seen.

import { EnvironmentError, UnseenError, UntrustedAnswerError } from '../core/errors.js';
import { mapContradiction } from '../core/observe/map-agreement.js';
import { ownerKey } from '../core/lxc/paths.js';
import { type ContainerSpec, type Flavour, type LxcSpec, type Manifest, hasLevel } from '../core/manifest/model.js';
import { assumedInside } from '../core/flavour/index.js';
import {
  type ContainerFiles,
  type LevelObservation,
  MANAGED_PROJECT,
  type ObservedLevel,
  type ObservedTree,
  managedInstance,
} from '../core/observed.js';
import { MARKER_PATH } from '../core/plan/desired-config.js';
import { moveOrigins } from '../core/plan/moves.js';
import { joinPath } from '../core/paths.js';
import { offlineMember } from '../core/plan/placement.js';
import type { LxdLevel, ProbeWants } from '../ports/lxd.js';

/** apply: only levels that host the manifest's children; destroy/prune: every owned container too. */
export type ObserveMode = 'apply' | 'destroy' | 'prune';

/**
 * `replace`: paths forced to be replaced (--replace); their inside is probed as for a deletion.
 * `wants`: what every level's probe reads beyond what the plan needs (status: the addresses).
 */
export async function observeTree(
  host: LxdLevel,
  manifest: Manifest,
  mode: ObserveMode = 'apply',
  replace: readonly string[] = [],
  wants: ProbeWants = {},
): Promise<ObservedTree> {
  const files: Record<string, ContainerFiles> = {};
  // With the host's flavour named, the levels below need not wait for the host's own answer.
  const named = manifest.host.flavour;
  const early = named ? probeAhead(host, named, manifest.containers, wants) : null;
  const hostLevel = await withLxc(host, await host.probe(wants), manifest.lxc);
  const walk: Walk = {
    levels: {},
    replace,
    origins: moveOrigins(manifest.moves),
    files: mode === 'destroy' ? null : files,
    early: early ?? probeAhead(host, hostLevel.flavour, manifest.containers, wants),
    wants,
  };
  walk.levels[''] = { kind: 'observed', level: hostLevel };
  await Promise.all([
    observeChildren(walk, host, hostLevel, manifest.containers, mode !== 'apply'),
    observeLxcInside(walk, host, hostLevel, manifest.lxc, mode === 'destroy'),
  ]);
  // Nothing of the observation may still run when the plan is made (or applied).
  await Promise.all([...walk.early.values()].map((e) => e.answer));
  return Object.keys(files).length > 0 ? { levels: walk.levels, files } : { levels: walk.levels };
}

/** What one observation collects, and what it was asked to look for, at every level. */
interface Walk {
  levels: Record<string, LevelObservation>;
  /** Paths forced to be replaced (--replace). */
  replace: readonly string[];
  /** The manifest's renames (`moved:`): by new path, the paths the container had before. */
  origins: ReadonlyMap<string, string[]>;
  /** Containers' files, read inside them; null when nothing reads them (destroy). */
  files: Record<string, ContainerFiles> | null;
  /** Probes started ahead of the walk, by level path. */
  early: Map<string, Early>;
  /** What each level's probe reads beyond what the plan needs. */
  wants: ProbeWants;
}

/** A level probed ahead: through a parent whose flavour was `via` (named, or guessed as its own parent's). */
interface Early {
  via: Flavour | null;
  api: LxdLevel;
  answer: Promise<{ ok: true; seen: LevelObservation } | { ok: false; error: unknown }>;
}

/**
 * Start the probe of every level the manifest puts below `api` (a container that holds
 * containers), all at once. Each level is probed as the walk would probe it (its flavour as the
 * manifest names it, else found by its probe); the way into its children goes through the
 * flavour named, or guessed from its parent's by the planner's own rule (assumedInside). A wrong guess, or a
 * container that is not there, only wastes that probe.
 */
function probeAhead(
  api: LxdLevel,
  flavour: Flavour | null,
  specs: ContainerSpec[],
  wants: ProbeWants,
  early = new Map<string, Early>(),
): Map<string, Early> {
  for (const spec of specs) {
    if (!hasLevel(spec)) continue;
    const own = api.child(spec.name, spec.flavour);
    const answer = probeInside(own, wants).then(
      (seen) => ({ ok: true as const, seen }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    early.set(spec.path, { via: flavour, api: own, answer });
    const guess = spec.flavour ?? (flavour === null ? null : assumedInside(flavour));
    probeAhead(spec.flavour ? own : api.child(spec.name, guess), guess, spec.containers, wants, early);
  }
  return early;
}

/**
 * A container of nestctl's that may be replaced (deleted and created again): forced, or not made
 * from the image the manifest names as this level's store has it. Its deletion needs its inside.
 */
function mayBeReplaced(level: ObservedLevel, spec: ContainerSpec, replace: readonly string[]): boolean {
  const inst = managedInstance(level, spec.name);
  if (inst?.status !== 'Running' || inst.config[MARKER_PATH] !== spec.path) return false;
  if (replace.includes(spec.path)) return true;
  const ref = spec.image.slice(spec.image.indexOf(':') + 1);
  const img = level.images.find((i) => i.aliases.includes(ref)) ?? level.images.find((i) => i.fingerprint.startsWith(spec.image));
  return img?.fingerprint !== inst.config['volatile.base_image'];
}

async function observeChildren(
  walk: Walk,
  api: LxdLevel,
  level: ObservedLevel,
  specs: ContainerSpec[],
  insideOwned: boolean,
): Promise<void> {
  const { levels, files } = walk;
  // Each container as it is found: under its own name, or under the name it had before a rename
  // the manifest asks for (`moved:`), and at the path it has now.
  const found = specs.map((spec) => foundAs(walk, level, spec));
  const replaced = new Set(found.filter((s) => mayBeReplaced(level, s, walk.replace)).map((s) => s.name));
  const hosting = found.filter(hasLevel);
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
  const reachable = (name: string): boolean => {
    const inst = managedInstance(level, name);
    return inst?.status === 'Running' && offlineMember(level, inst) === null;
  };
  const withFiles = files ? found.filter((s) => s.files.length > 0 && reachable(s.name)) : [];
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
      // An exec into it would go through that member and fail (or hang until it times out).
      const down = offlineMember(level, inst);
      if (down) {
        levels[spec.path] = { kind: 'unseen', reason: `${spec.path} is on cluster member ${down.name}, which is ${down.status}` };
        return;
      }
      await observeInside(walk, api, level, spec, insideOwned || replaced.has(spec.name));
    }),
    ...owned.map((inst) =>
      observeInside(
        walk,
        api,
        level,
        { name: inst.name, flavour: null, path: joinPath(level.path, inst.name), containers: [], lxc: [] },
        true,
      ),
    ),
  ]);
}

type Inside = Pick<ContainerSpec, 'name' | 'path' | 'containers' | 'lxc'> & { flavour: Flavour | null };

/**
 * The spec with the name and path its container has at `level` now: its own, or, when it is not
 * there and the manifest renamed it (`moved:`), the one it had before, if that is there.
 */
function foundAs(walk: Walk, level: ObservedLevel, spec: ContainerSpec): ContainerSpec {
  const name =
    managedInstance(level, spec.name) || !walk.origins.has(spec.path)
      ? spec.name
      : (walk.origins
          .get(spec.path)!
          .map((o) => o.slice(o.lastIndexOf('/') + 1))
          .find((o) => managedInstance(level, o)) ?? spec.name);
  const path = joinPath(level.path, name);
  return name === spec.name && path === spec.path ? spec : { ...spec, name, path };
}

/** `above`: the flavour of `api`'s daemon, as its probe found it. */
/** `parent`: the level `api` is, as observed (its instance records say what map each child was given). */
async function observeInside(walk: Walk, api: LxdLevel, parent: ObservedLevel, spec: Inside, insideOwned: boolean): Promise<void> {
  const above = parent.flavour;
  const early = walk.early.get(spec.path);
  const ahead = early && early.via === above ? await early.answer : null;
  if (ahead && !ahead.ok) throw ahead.error;
  // The level probed ahead went in the way this walk would have, so its answer stands; its own
  // flavour, once found, serves the levels below it too.
  const child = ahead ? early!.api : api.child(spec.name, spec.flavour);
  const inside = ahead ? ahead.seen : await probeInside(child, walk.wants);
  const given = parent.instances.find((i) => i.name === spec.name && i.project === MANAGED_PROJECT);
  const contradiction = inside.kind === 'observed' && given ? mapContradiction(given.config, inside.level.uidMap) : null;
  if (contradiction) throw new UntrustedAnswerError(contradiction, spec.path);
  walk.levels[spec.path] = inside;
  if (inside.kind !== 'observed') return;
  // The level's LXC facts (one more round trip) are read beside the walk below it, which needs only its instances.
  const seen = inside.level;
  await Promise.all([
    withLxc(child, seen, spec.lxc, insideOwned).then((level) => {
      inside.level = level;
      return observeLxcInside(walk, child, level, spec.lxc, insideOwned);
    }),
    observeChildren(walk, child, seen, spec.containers, insideOwned),
  ]);
}

/**
 * The inside of each running LXC container the manifest gives LXC containers (LXC inside LXC),
 * through lxc-attach; `forDeletion`: the container holding `level` may be deleted.
 */
async function observeLxcInside(walk: Walk, api: LxdLevel, level: ObservedLevel, specs: LxcSpec[], forDeletion: boolean): Promise<void> {
  await Promise.all(
    specs
      .filter((s) => s.containers.length > 0)
      .map(async (spec) => {
        const seen = level.lxc?.owners[ownerKey(spec.user)]?.containers.find((c) => c.name === spec.name);
        if (seen?.state !== 'RUNNING') {
          walk.levels[spec.path] = { kind: 'absent', reason: `${spec.path} ${seen ? `is ${seen.state.toLowerCase()}` : 'does not exist'}` };
          return;
        }
        const child = api.lxcChild(spec.name, spec.user);
        const inside = await probeInside(child, walk.wants);
        if (inside.kind === 'observed') inside.level = await withLxc(child, inside.level, spec.containers, forDeletion);
        walk.levels[spec.path] = inside;
        if (inside.kind === 'observed') await observeLxcInside(walk, child, inside.level, spec.containers, forDeletion);
      }),
  );
}

/**
 * A level with classic LXC containers in the manifest gets its LXC facts (one more round trip),
 * for their owners; inside a container that may be deleted (`forDeletion`), for every owner that
 * has containers there. Facts only a deletion wanted that cannot be read are recorded as such
 * (the container is then kept); the manifest's own LXC containers cannot be planned without them.
 */
export async function withLxc(api: LxdLevel, level: ObservedLevel, lxc: LxcSpec[], forDeletion = false): Promise<ObservedLevel> {
  if (lxc.length === 0 && !forDeletion) return level;
  const owners = [...new Set(lxc.map((l) => ownerKey(l.user)))].sort();
  try {
    return { ...level, lxc: await api.probeLxc(owners, forDeletion ? { everyOwner: true } : {}) };
  } catch (e) {
    if (!(e instanceof EnvironmentError) || lxc.length > 0) throw e;
    return { ...level, lxcUnseen: e.message };
  }
}

async function readFiles(api: LxdLevel, spec: ContainerSpec): Promise<ContainerFiles> {
  try {
    return {
      kind: 'observed',
      files: await api.readFiles(
        spec.name,
        spec.files.map((f) => f.path),
      ),
    };
  } catch (e) {
    if (!(e instanceof UnseenError)) throw e;
    return { kind: 'unseen', reason: e.message };
  }
}

/** One container's inside: what its probe saw, or "unseen" when the probe cannot run there. */
export async function probeInside(child: LxdLevel, wants: ProbeWants = {}): Promise<LevelObservation> {
  try {
    return { kind: 'observed', level: await child.probe(wants) };
  } catch (e) {
    if (!(e instanceof UnseenError)) throw e;
    return { kind: 'unseen', reason: e.message };
  }
}
