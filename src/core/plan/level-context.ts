// Everything the concerns of one level read, worked out once per level (before any step of it
// is planned) by one pure function: where the level is, its flavour, what was observed of it,
// the range its LXD hands out, its children (manifest spec joined with allocation by path) and
// the steps its own steps start from. Concerns read the context, never each other's steps.

import { MARKER_PATH } from './desired-config.js';
import type { CopyView } from './copies.js';
import type { Rename } from './moves.js';
import { BugError } from '../errors.js';
import { assumedInside, clientOf, daemonName, decideFlavour, flavourInfo } from '../flavour/index.js';
import { type Allocation, type NodeAllocation, levelNeed } from '../ids/allocate.js';
import { type IdRange, rangeEnd } from '../ids/range.js';
import type { LxcAllocation } from '../ids/lxc-need.js';
import { type ContainerSpec, type Flavour, type LxcSpec, type Manifest, type ProfileSpec, hostsContainers } from '../manifest/model.js';
import { ownerKey } from '../lxc/paths.js';
import { DOCKREMAP } from '../manifest/docker.js';
import { placeLxcRanges } from './lxc-ranges.js';
import { hostRangesOfLxc } from './lxc-observed.js';
import type { DaemonState, ObservedLevel, ObservedTree } from '../observed.js';
import { levelLabel } from '../paths.js';
import { type SubidEntry, firstUsable } from '../subid/file.js';
import { unseenPins, whileDown } from './daemon-down.js';
import { type RangeChoice, chooseDaemonRange } from './daemon-range.js';
import { type Pin, ownIds, pinnedEntries } from './level-entry.js';
import type { FlavourFrom, Precondition } from './model.js';
import { chooseSubnet } from './preseed.js';
import { type Placement, placementOf } from './placement.js';
import { memberSlices } from './slices.js';
import { type Diagnostic, nodeAt } from '../diagnostics.js';
import { daemonlessProblem, remapRoomProblem, snapRemapProblem, unseenProblem } from './level-refusals.js';
import type { PlannerOptions } from './result.js';

/** What is the same for every level of one plan. */
export interface PlanInput {
  manifest: Manifest;
  allocation: Allocation;
  /** The observation as it is once the manifest's renames are done (core/plan/moves.ts). */
  tree: ObservedTree;
  options: PlannerOptions;
  /** The containers the plan renames, by their new path; absent: none. */
  renames?: ReadonlyMap<string, Rename>;
  /** The copies that hold containers, whose inside is their source's as observed (core/plan/copies.ts), by path; absent: none. */
  copies?: ReadonlyMap<string, CopyView>;
}

export interface Ancestor {
  path: string;
  obs: ObservedLevel | null;
  /** Its managed bridge's subnet, observed or chosen by its init. */
  subnet: string | null;
}

export interface LevelChild {
  spec: ContainerSpec;
  alloc: NodeAllocation;
  /** The host ids of its map: its isolated slice, or the level's whole range (on a cluster, its member's). */
  map: IdRange;
  /** A root container's cluster member (`target:`); `anywhere` below the top level. */
  placement: Placement;
  /** An isolated root container placed on cluster members: its slice on each member it may land on. */
  memberSlices: Record<string, IdRange>;
}

/** A classic LXC container of the level, with its map in the level's id space. */
export interface LevelLxc {
  spec: LxcSpec;
  alloc: LxcAllocation;
  map: IdRange;
}

export interface SubidFileState {
  text: string | null;
  sha256: string | null;
  /** Root's first usable entry, the one LXD uses. */
  current: SubidEntry | null;
}

export interface LevelContext {
  input: PlanInput;
  path: string;
  /** "host", or the path. */
  label: string;
  isHost: boolean;
  /** The inside of a classic LXC container (LXC inside LXC, core/plan/lxc-level.ts): no daemon, only LXC. */
  inLxc: boolean;
  /** Owner of the root entries (host.owner). */
  owner: string;
  /** As observed, or, for a level not seen yet, as the manifest says it will be. */
  flavour: Flavour;
  flavourFrom: FlavourFrom;
  /** null: the level does not exist yet (or could not be looked at). */
  obs: ObservedLevel | null;
  /** The level's files, read once; null for a new level. */
  subid: { subuid: SubidFileState; subgid: SubidFileState } | null;
  /** Its LXD is installed but not running. */
  down: Extract<DaemonState, { kind: 'down' }> | null;
  /** What its LXD holds (pools, images, containers) could not be listed. */
  hidden: boolean;
  /** Steps at the level work out their details when they run (`level-new`). */
  unseen: boolean;
  /** Why what the level's LXD holds is known only after apply; null when observed. */
  unseenWhy: string | null;
  /**
   * The level runs an LXD for the manifest's containers (the host, a container with children);
   * false for a container that is a level only for its subid entries (docker.userns_remap).
   */
  hostsLxd: boolean;
  /** dockremap's entry (docker.userns_remap) in the level's own id space, after its LXD's range; null without. */
  dockremap: IdRange | null;
  /** Ids the manifest's children need from its LXD. */
  daemonNeed: number;
  /** Ids the level's own namespace holds (observed, or predicted from its parent). */
  ownSize: number;
  /** The root entry nestctl sets (null where the flavour ignores /etc/subuid), and whether the host's was kept. */
  entry: IdRange | null;
  entryKept: boolean;
  daemonRange: IdRange;
  /** Old entries kept because containers still run on them. */
  pins: Pin[];
  children: LevelChild[];
  /** The profiles the manifest declares on this level's LXD (host.profiles, the container's inside.profiles). */
  profiles: ProfileSpec[];
  /** Levels from the host down to the parent. */
  ancestors: Ancestor[];
  /** Its managed bridge's subnet: observed, or the one its init will create. */
  subnet: string | null;
  /** Its classic LXC containers, and each user's range (core/plan/lxc-ranges.ts). */
  lxc: LevelLxc[];
  lxcUsers: Map<string, { range: IdRange; kept: boolean }>;
  /** Steps that make the level reachable (its container's start). */
  entryDeps: string[];
  /** Its container is restarted before its steps run: what ran inside was stopped with it. */
  restarted: boolean;
  /** The level could not be looked at because this ancestor's LXD was down (it may well exist). */
  hiddenBy: string | null;
}

/** A step's precondition at this level: `level-new` when the level is unseen. */
export const pre = (ctx: LevelContext, p: Precondition): Precondition => (ctx.unseen ? { kind: 'level-new' } : p);

/** The flavours installed at an observed level (the probe lists them only when more than one is). */
export function installedAt(obs: ObservedLevel): Flavour[] {
  return obs.installed ?? (obs.flavour ? [obs.flavour] : []);
}

export type LevelFlavour = { ok: true; flavour: Flavour | null; from: FlavourFrom } | { ok: false; problem: Diagnostic };

/**
 * The flavour a level is planned for (decideFlavour): the manifest's (host.flavour, a container's
 * flavour) checked against what is installed, else what is installed; for a level with nothing
 * found, the manifest's, else its parent's kind, assumed.
 */
export function levelFlavour(
  manifest: Manifest,
  path: string,
  obs: ObservedLevel | null,
  spec: ContainerSpec | null,
  parent: Flavour | null,
): LevelFlavour {
  const isHost = path === '';
  const wanted = isHost ? manifest.host.flavour : (spec?.flavour ?? null);
  if (obs) {
    const d = decideFlavour(wanted, installedAt(obs), levelLabel(path), isHost ? 'host.flavour' : `the flavour of ${path}`);
    if (!d.ok)
      return {
        ok: false,
        problem: {
          severity: 'error',
          fault: 'user',
          where: nodeAt(manifest.file, path, isHost ? manifest.hostPos : spec?.pos),
          message: d.message,
          hint: d.hint,
        },
      };
    if (d.flavour !== null || isHost) return { ok: true, flavour: d.flavour, from: wanted !== null ? 'manifest' : 'observed' };
  }
  if (wanted !== null) return { ok: true, flavour: wanted, from: 'manifest' };
  return parent === null ? { ok: true, flavour: null, from: 'observed' } : { ok: true, flavour: assumedInside(parent), from: 'assumed' };
}

/** The host as observed, or why it cannot be planned for at all (not observed, nothing installed, daemon down). */
export function hostLevel(input: PlanInput): { ok: true; level: ObservedLevel } | { ok: false; problem: Diagnostic } {
  const hostObs = input.tree.levels[''];
  if (hostObs?.kind !== 'observed')
    return {
      ok: false,
      problem: {
        severity: 'error',
        fault: 'environment',
        where: { kind: 'node', path: '' },
        message: "the host's daemon could not be observed",
      },
    };
  const host = hostObs.level;
  const decided = levelFlavour(input.manifest, '', host, null, null);
  if (!decided.ok) return { ok: false, problem: decided.problem };
  if (host.daemon.kind === 'missing' || decided.flavour === null) {
    return {
      ok: false,
      problem: {
        severity: 'error',
        fault: 'environment',
        where: { kind: 'node', path: '' },
        message: 'no LXD or Incus is installed on this host',
        hint: 'install LXD (Debian: apt-get install lxd lxd-client uidmap), or run with --simulate',
      },
    };
  }
  if (host.daemon.kind === 'down') {
    return {
      ok: false,
      problem: {
        severity: 'error',
        fault: 'environment',
        where: { kind: 'node', path: '' },
        message: `the host's ${daemonName(decided.flavour)} daemon is not reachable: ${host.daemon.error}`,
        hint: `start it (systemctl start ${flavourInfo(decided.flavour).unit}${decided.flavour === 'debian' ? ', or lxd --group lxd &' : ''}) and run nestctl again`,
      },
    };
  }
  return { ok: true, level: host };
}

/** How a child level hangs under its parent. */
export interface ParentLink {
  ctx: LevelContext;
  child: LevelChild;
  /** The step that makes the child run, if it is planned. */
  entryDeps: string[];
  /** Its map grows to the planned one before its level's steps run. */
  grows: boolean;
  /** The child is deleted and created again: its level is planned as new. */
  replaced?: boolean;
  /** The running child is restarted (a restart-instance step): what runs inside stops with it. */
  restarted?: boolean;
}

/**
 * A new level's flavour is its parent's kind unless the manifest says; the plan says so when that
 * is not the Debian LXD every level was once assumed to run.
 */
function assumedNote(from: FlavourFrom, flavour: Flavour): string {
  return from === 'assumed' && flavour !== 'debian'
    ? ` (${daemonName(flavour)} assumed, as in its parent; a container's flavour key says otherwise)`
    : '';
}

export type ContextResult = { ok: true; ctx: LevelContext; warnings: string[] } | { ok: false; problems: Diagnostic[] };

type Refused = { ok: false; problems: Diagnostic[] };
const refused = (...problems: Diagnostic[]): Refused => ({ ok: false, problems });

/** The host's context (parent null; hostLevel must have accepted it), or a child level's. */
export function levelContext(input: PlanInput, parent: ParentLink | null): ContextResult {
  const { manifest } = input;
  const path = parent ? parent.child.spec.path : '';
  const observed = observedLevel(input, parent, path);
  if (!observed.ok) return observed;
  const { obs } = observed;
  const decided = levelFlavour(manifest, path, obs, parent?.child.spec ?? null, parent?.ctx.flavour ?? null);
  if (!decided.ok) return refused(decided.problem);
  const flavour = decided.flavour;
  if (flavour === null) throw new BugError(`no flavour for level ${levelLabel(path)}`);
  const label = levelLabel(path);
  const isHost = path === '';
  const owner = manifest.host.owner;
  const visibility = levelVisibility(label, obs, parent, decided.from, flavour);
  const ownSize = obs && !parent?.grows ? ownIds(obs) : parent!.child.map.size;
  const paired = pairChildren(input, parent, obs);
  const ids = levelIds(input, parent, { path, flavour, obs, ownSize }, paired);
  if (!ids.ok) return ids;
  const { entry, daemonRange, slices } = ids.range;
  const rootPins =
    entry === null ? [] : visibility.down ? unseenPins(obs!, owner, entry, label, flavour) : pinnedEntries(obs, owner, entry);
  const lxc = levelLxc(input, parent, { path, label, isHost, owner, obs, ownSize, daemonRange, dockremap: ids.dockremap }, rootPins);
  if (!lxc.ok) return lxc;
  const ancestors = parent ? [...parent.ctx.ancestors, { path: parent.ctx.path, obs: parent.ctx.obs, subnet: parent.ctx.subnet }] : [];
  const ctx: LevelContext = {
    input,
    path,
    label,
    isHost,
    inLxc: false,
    owner,
    hostsLxd: ids.hostsLxd,
    dockremap: ids.dockremap,
    flavour,
    flavourFrom: decided.from,
    obs,
    subid: obs ? { subuid: subidFileState(obs, 'subuid', owner), subgid: subidFileState(obs, 'subgid', owner) } : null,
    ...visibility,
    daemonNeed: ids.daemonNeed,
    ownSize,
    entry,
    entryKept: ids.range.kept,
    daemonRange,
    pins: entry === null ? [] : [...rootPins, ...lxc.rootSlices],
    lxc: lxc.lxc,
    lxcUsers: lxc.users,
    children: joinChildren(input, paired, obs, slices, daemonRange),
    profiles: parent ? parent.child.spec.insideProfiles : manifest.host.profiles,
    ancestors,
    subnet: levelSubnet(obs, ancestors),
    entryDeps: parent ? parent.entryDeps : [],
    restarted: parent?.restarted ?? false,
  };
  return { ok: true, ctx, warnings: [...ids.range.warnings, ...lxc.warnings] };
}

/** The level as observed (null: new, or replaced), or why nothing can be planned inside it. */
function observedLevel(input: PlanInput, parent: ParentLink | null, path: string): { ok: true; obs: ObservedLevel | null } | Refused {
  const seen = input.tree.levels[path];
  if (parent === null) {
    if (seen?.kind !== 'observed') throw new BugError('the host level is planned without an observation');
    return { ok: true, obs: seen.level };
  }
  const { spec } = parent.child;
  if (seen?.kind === 'unseen' && !parent.replaced)
    return refused(unseenProblem(path, seen.reason, `${clientOf(parent.ctx.flavour)} exec ${spec.name} -- sh`));
  const obs = seen?.kind === 'observed' && !parent.replaced ? seen.level : null;
  if (obs?.daemon.kind === 'missing' && spec.containers.length > 0) {
    const adopted = parent.ctx.obs?.instances.find((i) => i.name === spec.name)?.config[MARKER_PATH] !== path;
    return refused(daemonlessProblem(input.manifest, spec, adopted));
  }
  return { ok: true, obs };
}

type Visibility = Pick<LevelContext, 'down' | 'hidden' | 'unseen' | 'unseenWhy' | 'hiddenBy'>;

/** Whether what the level's LXD holds could be listed, and why not. */
function levelVisibility(
  label: string,
  obs: ObservedLevel | null,
  parent: ParentLink | null,
  from: FlavourFrom,
  flavour: Flavour,
): Visibility {
  // Under a level whose daemon is down, a child's absence only means it could not be listed.
  const hiddenBy = obs === null && parent?.ctx.hidden ? (parent.ctx.hiddenBy ?? parent.ctx.path) : null;
  const down = obs?.daemon.kind === 'down' ? obs.daemon : null;
  const unseenWhy =
    hiddenBy !== null
      ? `${label} could not be looked at (${whileDown(levelLabel(hiddenBy), parent?.ctx.flavour ?? null)})`
      : obs === null
        ? `${label} is new${assumedNote(from, flavour)}`
        : down
          ? whileDown(label, flavour)
          : null;
  return { down, hidden: hiddenBy !== null || down !== null, unseen: obs === null || down !== null, unseenWhy, hiddenBy };
}

type Paired = Pick<LevelChild, 'spec' | 'alloc' | 'placement'>;

/** The level's containers in the manifest, each with its allocation and cluster placement. */
function pairChildren(input: PlanInput, parent: ParentLink | null, obs: ObservedLevel | null): Paired[] {
  const { manifest, allocation } = input;
  const specs = parent ? parent.child.spec.containers : manifest.containers;
  return specs.map((spec) => {
    const alloc = allocation.byPath[spec.path];
    if (!alloc) throw new BugError(`no allocation for ${spec.path}`);
    const placement: Placement = parent === null ? placementOf(manifest.file, manifest.host, spec, obs) : { kind: 'anywhere' };
    return { spec, alloc, placement };
  });
}

interface LevelIds {
  ok: true;
  range: Extract<RangeChoice, { ok: true }>;
  daemonNeed: number;
  hostsLxd: boolean;
  dockremap: IdRange | null;
}

/** The range the level's LXD hands out (none at a level only for dockremap's entries), and dockremap's entry after it. */
function levelIds(
  input: PlanInput,
  parent: ParentLink | null,
  l: Pick<LevelContext, 'path' | 'flavour' | 'obs' | 'ownSize'>,
  paired: Paired[],
): LevelIds | Refused {
  const { manifest, allocation } = input;
  // A container placed on a cluster member takes that member's map: the server's own range serves the others.
  const served = paired.filter((p) => p.placement.kind === 'anywhere');
  const daemonNeed = parent
    ? parent.child.alloc.daemonNeed
    : served.length < paired.length
      ? levelNeed(served.map((p) => p.alloc))
      : allocation.hostNeed;
  const hostsLxd = parent === null || hostsContainers(parent.child.spec);
  const remap = parent?.child.alloc.dockremap ?? null;
  if (remap && hostsLxd && flavourInfo(l.flavour).readsSubid === 'never')
    return refused(snapRemapProblem(manifest, parent!.child.spec, l.flavour));
  const range: RangeChoice = hostsLxd
    ? chooseDaemonRange({ manifest, path: l.path, flavour: l.flavour, obs: l.obs, daemonNeed, ownSize: l.ownSize, children: served })
    : { ok: true, entry: null, kept: false, daemonRange: { start: 0, size: 0 }, slices: new Map(), warnings: [] };
  if (!range.ok) return refused(range.problem);
  // After the LXD's range as chosen (it may have grown past what the manifest alone needs).
  const dockremap = remap && range.entry ? { start: Math.max(remap.start, rangeEnd(range.entry)), size: remap.size } : remap;
  if (dockremap && rangeEnd(dockremap) > l.ownSize)
    return refused(remapRoomProblem(manifest, parent!.child.spec, l.ownSize, rangeEnd(dockremap), l.flavour));
  return { ok: true, range, daemonNeed, hostsLxd, dockremap };
}

type LxcAt = Pick<LevelContext, 'path' | 'label' | 'isHost' | 'owner' | 'obs' | 'ownSize' | 'daemonRange' | 'dockremap'>;

/** The level's classic LXC containers with their maps, each user's range, and root's slices for them (`rootPins`: root's entries kept for the daemon). */
function levelLxc(
  input: PlanInput,
  parent: ParentLink | null,
  l: LxcAt,
  rootPins: Pin[],
): { ok: true; lxc: LevelLxc[]; users: LevelContext['lxcUsers']; rootSlices: Pin[]; warnings: string[] } | Refused {
  const { manifest, allocation } = input;
  const specs = parent ? parent.child.spec.lxc : manifest.lxc;
  const keptRoot = new Map(
    specs.flatMap((spec): Array<[string, IdRange]> => {
      const seen = l.obs?.lxc?.owners['root']?.containers.find((c) => c.name === spec.name);
      const r = seen && spec.user === null ? hostRangesOfLxc(seen) : null;
      return r ? [[spec.path, r]] : [];
    }),
  );
  const placed = placeLxcRanges({
    subuid: l.obs?.subuid.text ?? null,
    subgid: l.obs?.subgid.text ?? null,
    daemonRange: l.daemonRange,
    ownSize: l.isHost ? null : l.ownSize,
    need: parent ? parent.child.alloc.lxcNeed : allocation.hostLxcNeed,
    keptRoot,
    daemonOwner: l.owner,
    ownerKept: rootPins.map((p) => p.range),
    others: l.dockremap ? [{ owner: DOCKREMAP, range: l.dockremap }] : [],
  });
  if (!placed.ok)
    return refused({
      severity: 'error',
      fault: 'user',
      where: nodeAt(manifest.file, l.path, parent?.child.spec.pos ?? manifest.hostPos),
      message: `${l.label}: ${placed.message}`,
      hint: placed.hint,
    });
  const lxc = specs.map((spec): LevelLxc => {
    const alloc = allocation.lxcByPath[spec.path];
    if (!alloc) throw new BugError(`no allocation for ${spec.path}`);
    const map = spec.user === null ? placed.ranges.root.get(spec.path) : placed.ranges.users.get(spec.user)?.range;
    if (!map) throw new BugError(`no range for ${spec.path} (${ownerKey(spec.user)})`);
    return { spec, alloc, map };
  });
  // Root's slices for LXC containers are root entries after the daemon's: the LXD edit keeps them.
  const rootSlices: Pin[] = lxc.filter((x) => x.spec.user === null).map((x) => ({ range: x.map, by: [`LXC ${x.spec.name}`] }));
  return { ok: true, lxc, users: placed.ranges.users, rootSlices, warnings: placed.warnings.map((w) => `${l.label}: ${w}`) };
}

/** Each child with the map it gets: its isolated slice, on a cluster its member's, else the daemon's whole range. */
function joinChildren(
  input: PlanInput,
  paired: Paired[],
  obs: ObservedLevel | null,
  slices: Map<string, IdRange>,
  daemonRange: IdRange,
): LevelChild[] {
  const onMembers = memberSlices(
    paired.flatMap(({ spec, alloc, placement }) =>
      placement.kind === 'placed' ? [{ spec, alloc, candidates: placement.candidates }] : [],
    ),
    obs?.instances ?? [],
    input.tree.members ?? {},
  );
  return paired.map(({ spec, alloc, placement }) => {
    // A non-isolated container on a member gets a copy of that member's map, not the server's default; an isolated one, its slice there.
    const onMember = placement.kind === 'placed' ? input.tree.members?.[placement.member]?.uid : undefined;
    const own = Object.fromEntries(
      [...onMembers].flatMap(([member, bySpec]) => (bySpec.has(spec.name) ? [[member, bySpec.get(spec.name)!]] : [])),
    );
    const sliced = placement.kind === 'placed' ? own[placement.member] : undefined;
    return {
      spec,
      alloc,
      placement,
      memberSlices: own,
      map: slices.get(spec.name) ?? sliced ?? (onMember ? { ...onMember } : { start: daemonRange.start, size: daemonRange.size }),
    };
  });
}

const subidFileState = (obs: ObservedLevel, file: 'subuid' | 'subgid', owner: string): SubidFileState => ({
  text: obs[file].text,
  sha256: obs[file].sha256,
  current: firstUsable(obs[file].text, owner),
});

/** Its managed bridge's subnet; a level without one gets one from its init, on a subnet no ancestor uses. */
function levelSubnet(obs: ObservedLevel | null, ancestors: Ancestor[]): string | null {
  const bridge = obs?.networks.some((n) => n.managed) ?? false;
  return bridge ? (obs!.networks.find((n) => n.managed && n.ipv4)?.ipv4 ?? null) : chooseSubnet(ancestors.map((a) => a.subnet));
}
