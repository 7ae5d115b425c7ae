// `nestctl status`: the tree as one observation found it, per container of the manifest (every
// level, LXD and classic LXC), plus what the observation found at a level the manifest manages
// that the manifest does not name. Each row carries what plan would do to it, from the plan
// computed on that same observation. Pure: the CLI observes and plans, this only reads.

import { containerHostIds } from '../ids/host-ids.js';
import { parseLxdIdmap } from '../ids/idmap.js';
import type { IdRange } from '../ids/range.js';
import { markedPath, ownerKey } from '../lxc/paths.js';
import type { ContainerSpec, LxcSpec, Manifest } from '../manifest/model.js';
import {
  type IdMapEntry,
  MANAGED_PROJECT,
  type ObservedInstance,
  type ObservedLevel,
  type ObservedLxcContainer,
  type ObservedTree,
} from '../observed.js';
import { MARKER_MANAGED, MARKER_PATH } from '../plan/desired-config.js';
import type { Plan, Step, StepKind } from '../plan/model.js';
import { joinPath, parentPath } from '../paths.js';

/** LXD's status upper-cased (RUNNING, STOPPED, FROZEN, ERROR…), `absent`, or `unknown` when its level could not be looked at. */
export type StatusState = string;

/**
 * managed: nestctl's marker names this very path; adopted: not nestctl's yet, and the manifest
 * says `adopt: true` (apply takes it over); foreign: anything else that exists.
 */
export type Ownership = 'managed' | 'adopted' | 'foreign';

export interface HostIdRange {
  /** First and last host id (inclusive), as viz prints them. */
  start: number;
  end: number;
}

export interface StatusChange {
  /** Whether apply would change anything about it (its own steps, or steps at the level inside it). */
  changes: boolean;
  /** `in sync`, `+ create`, `- delete`, `-/+ replace`, `~ N changes`, or `left alone` (not in the manifest). */
  summary: string;
  /** The kinds of its steps, sorted, each once. */
  kinds: StepKind[];
  /** The ids of its steps, in plan order. */
  steps: string[];
}

export interface StatusRow {
  /** Node path, e.g. "c1/c2". */
  path: string;
  runtime: 'lxd' | 'lxc';
  /** The manifest's host (an entry of `hosts:`); null for a manifest of one host on this machine. */
  host: string | null;
  /** The cluster member it is on (LXD's location); null off-cluster or when absent. */
  member: string | null;
  /** LXD project, when not the default one (only for containers the manifest does not name). */
  project: string | null;
  inManifest: boolean;
  state: StatusState;
  /** Why the state is `unknown`. */
  unknownBecause: string | null;
  /** The image as observed: its alias at that level when it has one, and its fingerprint; an LXC container's template. */
  image: { alias: string | null; fingerprint: string | null } | { template: string } | null;
  /** Global IPv4 addresses as observed; null when not read (absent, unknown, LXC). */
  ipv4: string[] | null;
  /** Its root's uid and gid as host ids, composed through the levels above; null when not known. */
  hostIds: { uid: HostIdRange | null; gid: HostIdRange | null };
  /** null when it does not exist (or its state is unknown). */
  ownership: Ownership | null;
  /** null when the plan was refused. */
  plan: StatusChange | null;
}

export interface StatusInput {
  manifest: Pick<Manifest, 'containers' | 'lxc'>;
  tree: ObservedTree;
  /** The plan from the same observation; null when it was refused (problems). */
  plan: Pick<Plan, 'steps'> | null;
  /** Host name for rows, in a manifest of several hosts; null otherwise. */
  host: string | null;
}

const upper = (status: string): string => status.toUpperCase();

/** The level a container's level path names, when observed. */
function observedAt(tree: ObservedTree, path: string): ObservedLevel | null {
  const o = tree.levels[path];
  return o?.kind === 'observed' ? o.level : null;
}

/** The root entry (namespace id 0) of a map, uid or gid. */
function rootEntry(entries: readonly IdMapEntry[], kind: 'uid' | 'gid'): IdRange | null {
  const e = entries.find((x) => x.nsid === 0 && (kind === 'uid' ? x.isuid : x.isgid));
  return e ? { start: e.hostid, size: e.maprange } : null;
}

/** The map LXD applied (current), or the one its disk is shifted to (last state) while stopped. */
function instanceMap(i: ObservedInstance): IdMapEntry[] {
  const current = parseLxdIdmap(i.config['volatile.idmap.current']);
  return current.length > 0 ? current : parseLxdIdmap(i.config['volatile.last_state.idmap']);
}

/** Every observed container's root range in its level's own ids, per level: what containerHostIds composes. */
function observedMaps(tree: ObservedTree, kind: 'uid' | 'gid') {
  return Object.entries(tree.levels).map(([path, o]) => {
    const children: Array<{ path: string; map: IdRange; isolated: boolean }> = [];
    if (o.kind === 'observed') {
      for (const i of o.level.instances) {
        if (i.project !== MANAGED_PROJECT) continue;
        const map = rootEntry(instanceMap(i), kind);
        if (map) children.push({ path: joinPath(path, i.name), map, isolated: i.config['security.idmap.isolated'] === 'true' });
      }
      for (const owner of Object.values(o.level.lxc?.owners ?? {}))
        for (const c of owner.containers) {
          const map = kind === 'uid' ? rootEntry(c.uidMap, 'uid') : null;
          if (map) children.push({ path: joinPath(path, c.name), map, isolated: false });
        }
    }
    return { path, children };
  });
}

const inclusive = (r: IdRange): HostIdRange => ({ start: r.start, end: r.start + r.size - 1 });

/** Who a step is about: the container it names, else the level it runs at (its inside). */
const ownerOf = (s: Step): string => ('path' in s && typeof s.path === 'string' ? s.path : s.level);

function changeOf(steps: readonly Step[], inManifest: boolean): StatusChange {
  const kinds = [...new Set(steps.map((s) => s.kind))].sort();
  const ids = steps.map((s) => s.id);
  const has = (k: StepKind) => kinds.includes(k);
  const creates = has('create-instance') || has('create-lxc');
  const deletes = has('delete-instance') || has('delete-lxc');
  // The subuid and subgid edits of one level are one change, as plan shows them.
  const subgidPaired = steps.filter(
    (s) =>
      s.kind === 'write-subid' &&
      s.file === 'subgid' &&
      steps.some((u) => u.kind === 'write-subid' && u.file === 'subuid' && u.level === s.level),
  ).length;
  const n = steps.length - subgidPaired;
  const summary =
    steps.length === 0
      ? inManifest
        ? 'in sync'
        : 'left alone'
      : creates && deletes
        ? '-/+ replace'
        : creates
          ? '+ create'
          : deletes
            ? '- delete'
            : `~ ${n} change${n === 1 ? '' : 's'}`;
  return { changes: steps.length > 0, summary, kinds, steps: ids };
}

function lxdOwnership(i: ObservedInstance, path: string, spec: ContainerSpec | null): Ownership {
  if (i.project === MANAGED_PROJECT && i.config[MARKER_PATH] === path) return 'managed';
  if (spec?.adopt && i.project === MANAGED_PROJECT && i.config[MARKER_MANAGED] !== 'true') return 'adopted';
  return 'foreign';
}

const lxcOwnership = (c: ObservedLxcContainer, path: string): Ownership => (markedPath(c.config.text) === path ? 'managed' : 'foreign');

function imageOf(level: ObservedLevel, i: ObservedInstance): StatusRow['image'] {
  const fingerprint = i.config['volatile.base_image'] ?? null;
  const alias = fingerprint ? (level.images.find((img) => img.fingerprint === fingerprint)?.aliases[0] ?? null) : null;
  return fingerprint === null ? null : { alias, fingerprint };
}

/** The rows of one host's tree, depth first in manifest order, each level's unnamed containers after its named ones. */
export function statusRows(input: StatusInput): StatusRow[] {
  const { tree, host } = input;
  const byOwner = new Map<string, Step[]>();
  for (const s of input.plan?.steps ?? []) {
    if (host !== null && s.host !== undefined && s.host !== host) continue;
    const o = ownerOf(s);
    byOwner.set(o, [...(byOwner.get(o) ?? []), s]);
  }
  const planOf = (path: string, inManifest: boolean): StatusChange | null =>
    input.plan === null ? null : changeOf(byOwner.get(path) ?? [], inManifest);
  const uid = containerHostIds(observedMaps(tree, 'uid'));
  const gid = containerHostIds(observedMaps(tree, 'gid'));
  const idsOf = (path: string) => {
    const u = uid.find((h) => h.path === path)?.host;
    const g = gid.find((h) => h.path === path)?.host;
    return { uid: u ? inclusive(u) : null, gid: g ? inclusive(g) : null };
  };
  const rows: StatusRow[] = [];
  // The state of a path's container, to tell "absent" (its parent is) from "unknown" (its parent was not looked into).
  const stateOf = new Map<string, string>();

  /** Why nothing could be seen at `level`, or null when it was observed. */
  const unseenBecause = (level: string): { state: string; because: string | null } | null => {
    const o = tree.levels[level];
    if (o?.kind === 'observed') return null;
    if (o?.kind === 'unseen') return { state: 'unknown', because: o.reason };
    const parentState = stateOf.get(level);
    if (parentState === 'absent') return { state: 'absent', because: null };
    if (parentState === 'unknown') return { state: 'unknown', because: `${level} is unknown` };
    return { state: 'unknown', because: o?.reason ?? `${level} was not looked into` };
  };

  const base = (path: string, runtime: StatusRow['runtime'], inManifest: boolean) => ({
    path,
    runtime,
    host,
    member: null as string | null,
    project: null as string | null,
    inManifest,
    state: 'absent' as StatusState,
    unknownBecause: null as string | null,
    image: null as StatusRow['image'],
    ipv4: null as string[] | null,
    hostIds: { uid: null, gid: null } as StatusRow['hostIds'],
    ownership: null as Ownership | null,
    plan: planOf(path, inManifest),
  });

  const lxdRow = (level: string, spec: ContainerSpec): void => {
    const blind = unseenBecause(level);
    const obs = observedAt(tree, level);
    const found = obs ? obs.instances.find((i) => i.name === spec.name && i.project === MANAGED_PROJECT) : undefined;
    const row: StatusRow = { ...base(spec.path, 'lxd', true), state: 'absent' };
    if (blind) {
      row.state = blind.state;
      row.unknownBecause = blind.because;
    } else if (found && obs) fill(row, obs, found, spec);
    stateOf.set(spec.path, row.state);
    rows.push(row);
  };

  const fill = (row: StatusRow, obs: ObservedLevel, i: ObservedInstance, spec: ContainerSpec | null): void => {
    row.state = upper(i.status);
    row.member = i.location ?? null;
    row.image = imageOf(obs, i);
    row.ipv4 = i.ipv4 ?? null;
    row.hostIds = idsOf(row.path);
    row.ownership = lxdOwnership(i, row.path, spec);
  };

  const lxcRow = (level: string, spec: LxcSpec): void => {
    const blind = unseenBecause(level);
    const obs = observedAt(tree, level);
    const found = obs?.lxc?.owners[ownerKey(spec.user)]?.containers.find((c) => c.name === spec.name);
    const row: StatusRow = { ...base(spec.path, 'lxc', true), state: 'absent', image: { template: spec.template } };
    if (blind) {
      row.state = blind.state;
      row.unknownBecause = blind.because;
    } else if (obs?.lxcUnseen) {
      row.state = 'unknown';
      row.unknownBecause = obs.lxcUnseen;
    } else if (found) {
      row.state = upper(found.state);
      row.hostIds = idsOf(spec.path);
      row.ownership = lxcOwnership(found, spec.path);
    }
    stateOf.set(spec.path, row.state);
    rows.push(row);
    for (const inner of spec.containers) lxcRow(spec.path, inner);
  };

  /** What the observation found at `level` that the manifest does not name there. */
  const strangers = (level: string, named: readonly string[]): void => {
    const obs = observedAt(tree, level);
    if (!obs) return;
    for (const i of obs.instances) {
      if (i.project === MANAGED_PROJECT && named.includes(i.name)) continue;
      const path = joinPath(level, i.name);
      const row: StatusRow = { ...base(path, 'lxd', false), state: 'absent' };
      if (i.project !== MANAGED_PROJECT) {
        row.project = i.project;
        row.plan = input.plan === null ? null : changeOf([], false);
      }
      fill(row, obs, i, null);
      if (i.project !== MANAGED_PROJECT) row.hostIds = { uid: null, gid: null };
      rows.push(row);
    }
  };

  const visit = (level: string, specs: readonly ContainerSpec[], lxc: readonly LxcSpec[]): void => {
    for (const spec of specs) {
      lxdRow(level, spec);
      visit(spec.path, spec.containers, spec.lxc);
    }
    for (const l of lxc) lxcRow(level, l);
    strangers(
      level,
      specs.map((s) => s.name),
    );
  };
  visit('', input.manifest.containers, input.manifest.lxc);
  return rows;
}

/** The level a row's container lives in. */
export const rowLevel = (row: Pick<StatusRow, 'path'>): string => parentPath(row.path);

/** Steps at the host's own level (subid edits, restarts, images): no container's. */
export function hostChange(plan: Pick<Plan, 'steps'> | null, host: string | null): StatusChange | null {
  if (plan === null) return null;
  return changeOf(
    plan.steps.filter((s) => ownerOf(s) === '' && (host === null || s.host === undefined || s.host === host)),
    true,
  );
}
