// desired (manifest + allocation) × observed → Plan. Pure and deterministic.
//
// Per level, in order: subid edits → one daemon restart → init → images → children (siblings
// independent of each other) → each child's own level. Levels that do not exist yet are planned
// as wholly new; their steps carry a `level-new` precondition and decide details when they run.

import { restartPending } from '../observe/restart-pending.js';
import type { Allocation, AllocationProblem, NodeAllocation } from '../ids/allocate.js';
import { nestedRangeStart } from '../ids/allocate.js';
import { type IdRange, formatRange } from '../ids/range.js';
import type { ContainerSpec, Flavour, Manifest, SourcePos } from '../manifest/model.js';
import { MANAGED_PROJECT, type ObservedLevel, type ObservedTree, managedInstance } from '../observed.js';
import { applyRootEdit, firstUsable } from '../subid/file.js';
import { IDMAP_KEYS, MARKER_CREATING, MARKER_MANAGED, MARKER_PATH, desiredConfig, markers } from './desired-config.js';
import { parseLxdIdmap } from '../ids/idmap.js';
import { type Pin, chooseHostEntry, editFor, nestedEntry, ownIds, pinnedEntries, verdictNow } from './level-entry.js';
import type { LevelSummary, Plan, Precondition, Step } from './model.js';
import { assemblePlan } from './assemble.js';
import { findSlice, occupiedSlices, requiredRange } from './slices.js';
import { buildPreseed, chooseSubnet } from './preseed.js';
import { joinPath, levelLabel } from '../paths.js';
import { deletionVerdict, keptMessage } from './deletion.js';
import { deleteSteps } from './steps/delete.js';
import { daemonDownReason, unseenPins, whileDown } from './daemon-down.js';
import { restartDaemonStep } from './steps/restart.js';
import { writeSubidStep } from './steps/write-subid.js';

export interface PlanOptions {
  /** argv that restarts the host daemon (CLI flag); overrides the manifest's host.restart. */
  hostRestart: string[] | null;
  tool: string;
  manifestSha256: string;
  manifestText?: string;
  simulation?: Plan['simulation'];
  /** Also destroy instances nestctl created that the manifest no longer lists. */
  prune?: boolean;
}

export interface PlanProblem {
  fault: 'user' | 'environment';
  /** Node or level path ("" = host). */
  path: string;
  message: string;
  hint?: string;
  pos?: SourcePos;
}

/** Allocation problems are the user's: they point at the node in the manifest. */
export function allocationProblems(problems: AllocationProblem[]): PlanProblem[] {
  return problems.map((p) => ({ fault: 'user', path: p.path, message: p.message, hint: p.hint, pos: p.spec.pos }));
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };

const SNAP_HOST_RANGE: IdRange = { start: 1_000_000, size: 1_000_000_000 };
const isFingerprint = (ref: string): boolean => /^[0-9a-f]{12,64}$/.test(ref);
const isRemote = (ref: string): boolean => ref.includes(':');

interface ResolvedImage {
  ref: string;
  fingerprint: string | null;
  /** Alias to give it at nested levels (none for fingerprints). */
  alias: string | null;
  fetchStep: string | null;
}

interface LevelInput {
  path: string;
  flavour: Flavour;
  obs: ObservedLevel | null;
  specs: ContainerSpec[];
  allocs: NodeAllocation[];
  daemonNeed: number;
  /** Ids the level's own namespace holds (observed, or predicted from its parent). */
  ownSize: number;
  /** Steps that make the level reachable (its container's start). */
  entryDeps: string[];
  /** Levels from the host down to this level's parent. */
  ancestors: Array<{ path: string; obs: ObservedLevel | null; subnet: string | null }>;
  /** The level could not be looked at because this ancestor's LXD was down (it may well exist). */
  hiddenBy?: string;
}

/** The level exists, or may, but what its LXD holds could not be listed (its daemon, or an ancestor's, is down). */
const hiddenLevel = (lv: LevelInput): boolean => lv.hiddenBy !== undefined || lv.obs?.daemon.kind === 'down';

/** Why a level's pools, images and containers are known only after apply; null when observed. */
function unseenWhy(lv: LevelInput): string | null {
  const label = levelLabel(lv.path);
  if (lv.hiddenBy !== undefined) return `${label} could not be looked at (${whileDown(levelLabel(lv.hiddenBy))})`;
  if (lv.obs === null) return `${label} is new`;
  return lv.obs.daemon.kind === 'down' ? whileDown(label) : null;
}

class Planner {
  readonly steps: Step[] = [];
  readonly levels: LevelSummary[] = [];
  readonly problems: PlanProblem[] = [];
  readonly warnings: string[] = [];
  readonly images = new Map<string, ResolvedImage>();

  constructor(
    readonly manifest: Manifest,
    readonly allocation: Allocation,
    readonly tree: ObservedTree,
    readonly options: PlanOptions,
  ) {}

  add(step: Step): string {
    this.steps.push(step);
    return step.id;
  }

  problem(p: PlanProblem): void {
    this.problems.push(p);
  }

  run(): void {
    const hostObs = this.tree.levels[''];
    if (!hostObs || hostObs.kind !== 'observed') {
      this.problem({ fault: 'environment', path: '', message: 'the host LXD could not be observed' });
      return;
    }
    const host = hostObs.level;
    const flavour = this.manifest.host.flavour ?? host.flavour;
    if (host.daemon.kind === 'missing' || flavour === null) {
      this.problem({
        fault: 'environment',
        path: '',
        message: 'no LXD or Incus is installed on this host',
        hint: 'install LXD (Debian: apt-get install lxd lxd-client uidmap), or run with --simulate',
      });
      return;
    }
    if (host.daemon.kind === 'down') {
      this.problem({
        fault: 'environment',
        path: '',
        message: `the host's LXD daemon is not reachable: ${host.daemon.error}`,
        hint: 'start it (systemctl start lxd, or lxd --group lxd &) and run nestctl again',
      });
      return;
    }
    this.resolveHostImages(host);
    this.planLevel({
      path: '',
      flavour,
      obs: host,
      specs: this.manifest.containers,
      allocs: this.allocation.nodes,
      daemonNeed: this.allocation.hostNeed,
      ownSize: ownIds(host),
      entryDeps: [],
      ancestors: [],
    });
  }

  resolveHostImages(host: ObservedLevel): void {
    const refs = new Map<string, ContainerSpec>();
    const walk = (specs: ContainerSpec[]): void =>
      specs.forEach((s) => {
        if (!refs.has(s.image)) refs.set(s.image, s);
        walk(s.containers);
      });
    walk(this.manifest.containers);
    for (const [ref, spec] of refs) {
      if (isRemote(ref)) {
        const alias = ref.slice(ref.indexOf(':') + 1);
        const local = host.images.find((i) => i.aliases.includes(alias));
        if (local) {
          this.images.set(ref, { ref, fingerprint: local.fingerprint, alias, fetchStep: null });
          continue;
        }
        const fetchStep = this.add({
          id: `host:fetch-image:${ref}`,
          level: '',
          kind: 'fetch-image',
          dependsOn: [],
          reason: `${ref} is not in the host's image store yet`,
          remote: ref,
          alias,
          precondition: { kind: 'none' },
        });
        this.images.set(ref, { ref, fingerprint: null, alias, fetchStep });
        continue;
      }
      const found = isFingerprint(ref)
        ? host.images.find((i) => i.fingerprint.startsWith(ref))
        : host.images.find((i) => i.aliases.includes(ref));
      if (!found) {
        this.problem({
          fault: 'user',
          path: spec.path,
          pos: spec.pos,
          message: `image "${ref}" (used by ${spec.path}) is not in the host's LXD image store`,
          hint: `import it on the host (lxc image import … --alias ${ref}), or name a remote image as remote:alias`,
        });
        continue;
      }
      this.images.set(ref, {
        ref,
        fingerprint: found.fingerprint,
        alias: isFingerprint(ref) ? null : ref,
        fetchStep: null,
      });
    }
  }

  planLevel(lv: LevelInput): void {
    const label = levelLabel(lv.path);
    const owner = this.manifest.host.owner;
    const isHost = lv.path === '';
    const newLevel = lv.obs === null;
    // A nested daemon that is down hides its pools, bridge, images and containers (its files were
    // read without it): it is started first, and what depends on it is planned as for a new level.
    const down = !newLevel && lv.obs!.daemon.kind === 'down' ? lv.obs!.daemon : null;
    const hidden = hiddenLevel(lv);
    const unseen = newLevel || down !== null;
    const pre = (p: Precondition): Precondition => (unseen ? { kind: 'level-new' } : p);

    // 1. The daemon's range and the subid edits that give it.
    let entry: IdRange | null = null;
    let daemonRange: IdRange = { start: 0, size: 0 };
    let pins: Pin[] = [];
    let kept = false;
    // Isolated slices: observed ones stay; new ones go first-fit. They may ask for more than the
    // manifest alone needs (isolated instances the manifest does not name), so choose twice.
    let levelNeed = lv.daemonNeed;
    let slices = new Map<string, IdRange>();
    for (let pass = 0; pass < 2; pass += 1) {
      if (lv.flavour === 'snap') {
        daemonRange = isHost ? SNAP_HOST_RANGE : { start: 100000, size: Math.max(0, lv.ownSize - 100000) };
      } else if (isHost) {
        const choice = chooseHostEntry(lv.obs!, owner, this.manifest.host.base, levelNeed);
        if (!choice.ok) {
          this.problem({ fault: 'user', path: '', pos: this.manifest.hostPos, message: choice.message, hint: choice.hint });
          return;
        }
        entry = choice.entry;
        kept = choice.kept;
        if (pass === 0) this.warnings.push(...choice.warnings);
        daemonRange = entry;
      } else {
        entry = nestedEntry(levelNeed);
        daemonRange = entry;
      }
      slices = this.placeSlices(lv, daemonRange.start);
      const need = Math.max(lv.daemonNeed, requiredRange(daemonRange.start, [...slices.values(), ...occupiedSlices(lv.obs?.instances ?? [])]));
      if (need <= daemonRange.size || need === levelNeed) break;
      levelNeed = need;
    }
    const required = isHost ? 0 : nestedRangeStart(lv.flavour) + levelNeed;
    if (daemonRange.size < levelNeed || (!isHost && lv.ownSize < required)) {
      this.problem({
        fault: 'user',
        path: lv.path,
        message: isHost
          ? `the host's LXD hands out ${daemonRange.size} ids but the tree needs ${levelNeed}`
          : `${lv.path} holds ${lv.ownSize} ids but it and its children need ${required}`,
        hint: isHost
          ? 'snap LXD derives its range itself; use the Debian package or a smaller tree'
          : `LXD computes a container's map only at creation or when its security.idmap.* keys change; recreate ${lv.path} (or give it idmap.size ${required})`,
      });
      return;
    }

    const fileSteps: string[] = [];
    if (entry) {
      pins = down ? unseenPins(lv.obs!, owner, entry, label) : pinnedEntries(lv.obs, owner, entry);
      for (const file of ['subuid', 'subgid'] as const) {
        const state = lv.obs?.[file] ?? null;
        const text = state ? state.text : null;
        const edit = newLevel ? { owner, entry, keep: [] } : editFor(text, owner, entry, pins);
        if (!edit) continue;
        const current = firstUsable(text, owner);
        const reason = newLevel
          ? `${unseenWhy(lv)}: its LXD must use ${owner}:${formatRange(entry)} for ${lv.daemonNeed} ids of children`
          : current
            ? `${label}'s LXD uses ${owner}:${formatRange(current)}` +
              (verdictNow(lv.obs!, owner, isHost) === 'privileged-only' ? ` (outside ${label}'s own ${ownIds(lv.obs!)} ids: it runs privileged containers only)` : '') +
              `; the tree needs ${owner}:${formatRange(entry)}` +
              (pins.length > 0 ? ` (keeping ${pins.map((p) => formatRange(p.range) + ' for ' + p.by.join(', ')).join('; ')})` : '')
            : `${label} has no usable ${owner} entry in /etc/${file}; the tree needs ${owner}:${formatRange(entry)}`;
        fileSteps.push(
          this.add(
            writeSubidStep({
              level: lv.path,
              file,
              dependsOn: lv.entryDeps,
              reason,
              before: newLevel ? null : text,
              after: newLevel ? null : applyRootEdit(text, edit),
              edit,
              restore: false,
              precondition: newLevel ? { kind: 'level-new' } : { kind: 'file-sha256', sha256: state?.sha256 ?? null },
            }),
          ),
        );
      }
    }

    // 2. One restart, when files changed or changed since the daemon started.
    let afterDaemon = lv.entryDeps;
    const pending = !newLevel && entry !== null && restartPending(lv.obs!);
    if (fileSteps.length > 0 || pending || (newLevel && entry !== null) || down) {
      const restart = restartDaemonStep({
        level: lv.path,
        obs: lv.obs,
        flavour: lv.flavour,
        manifest: this.manifest,
        hostRestart: this.options.hostRestart,
        dependsOn: [...lv.entryDeps, ...fileSteps],
        reason: down
          ? daemonDownReason(label, down.error) + (fileSteps.length > 0 ? ' (it reads the new /etc/subuid and /etc/subgid as it starts)' : '')
          : fileSteps.length > 0
            ? `${label}'s LXD reads /etc/subuid and /etc/subgid only when it starts`
            : `/etc/subuid or /etc/subgid changed after ${label}'s LXD started`,
        precondition: newLevel ? { kind: 'level-new' } : { kind: 'none' },
      });
      if (restart.problem) this.problem(restart.problem);
      afterDaemon = [this.add(restart.step)];
    }

    // 3. Storage pool, bridge, default profile.
    const subnetOfLevel = lv.obs?.networks.find((n) => n.managed && n.ipv4)?.ipv4 ?? null;
    let subnet = subnetOfLevel;
    const pool = (lv.obs?.storagePools.length ?? 0) > 0;
    const bridge = lv.obs?.networks.some((n) => n.managed) ?? false;
    const profile = lv.obs?.defaultProfileHasRoot ?? false;
    if (!pool || !bridge || !profile) {
      if (!bridge) subnet = chooseSubnet(lv.ancestors.map((a) => a.subnet));
      const needs = { pool: !pool, bridge: !bridge, profile: !profile };
      afterDaemon = [
        this.add({
          id: `${label}:init-daemon`,
          level: lv.path,
          kind: 'init-daemon',
          dependsOn: afterDaemon,
          reason: hidden
            ? `${unseenWhy(lv)}: its storage pool, managed bridge and default profile are created once it runs, where missing`
            : `${label}'s LXD has no ${[!pool && 'storage pool', !bridge && 'managed bridge', !profile && 'root disk in the default profile'].filter(Boolean).join(', ')}`,
          preseed: buildPreseed(needs, subnet ?? ''),
          needs,
          subnet: subnet ?? '',
          precondition: pre({ kind: 'none' }),
        }),
      ];
    }

    // 4. Images the children are created from.
    const imageSteps = new Map<string, string[]>();
    if (!isHost) {
      for (const ref of new Set(lv.specs.map((s) => s.image))) {
        const img = this.images.get(ref);
        if (!img) continue;
        const present = lv.obs?.images.some((i) =>
          img.fingerprint ? i.fingerprint === img.fingerprint : img.alias !== null && i.aliases.includes(img.alias),
        );
        if (present) continue;
        const source =
          [...lv.ancestors].reverse().find((a) => a.obs?.images.some((i) => i.fingerprint === img.fingerprint) && img.fingerprint) ??
          lv.ancestors[0]!;
        const hops = lv.path.split('/').slice(source.path === '' ? 0 : source.path.split('/').length);
        const deps = [...afterDaemon, ...(img.fetchStep ? [img.fetchStep] : [])];
        imageSteps.set(ref, [
          this.add({
            id: `${label}:copy-image:${ref}`,
            level: lv.path,
            kind: 'copy-image',
            dependsOn: deps,
            reason:
              (hidden ? `${unseenWhy(lv)}: ` : '') +
              `${lv.specs.filter((s) => s.image === ref).map((s) => s.path).join(', ')} ${lv.specs.length > 1 ? 'are' : 'is'} created from ${ref}, ` +
              (hidden ? `copied into ${label}'s image store once its LXD runs, unless there` : `not yet in ${label}'s image store`),
            image: ref,
            fingerprint: img.fingerprint,
            source: source.path,
            hops,
            aliases: img.alias ? [img.alias] : [],
            precondition: pre({ kind: 'none' }),
          }),
        ]);
      }
    }

    // 5. Instances nestctl created that the manifest no longer lists (--prune), by the same
    //    rule as destroy: only when they hold nothing nestctl cannot account for.
    if (this.options.prune && lv.obs) {
      const listed = new Set(lv.specs.map((s) => s.name));
      for (const inst of lv.obs.instances) {
        if (inst.project !== MANAGED_PROJECT || listed.has(inst.name) || inst.config[MARKER_PATH] !== joinPath(lv.path, inst.name)) continue;
        const verdict = deletionVerdict(this.tree, lv.path, inst);
        if (verdict.verdict === 'keep') {
          this.warnings.push(`--prune: ${keptMessage(verdict)}`);
          continue;
        }
        for (const step of deleteSteps(verdict, `${verdict.path} was created by nestctl and is no longer in the manifest (--prune)`, lv.entryDeps)) this.add(step);
      }
    }

    // 6. Children, then their own levels.
    const summaryChildren: LevelSummary['children'] = [];
    let previousIsolated: string | null = null;
    lv.specs.forEach((spec, i) => {
      const node = lv.allocs[i]!;
      const map: IdRange = slices.get(spec.name) ?? { start: daemonRange.start, size: daemonRange.size };
      summaryChildren.push({ path: spec.path, map, isolated: node.isolated });
      // LXD hands out isolated slices in creation order: create isolated siblings in manifest
      // order so they land where the plan says.
      const order = node.slice && previousIsolated ? [previousIsolated] : [];
      const startStep = this.planChild(lv, spec, node, [...afterDaemon, ...(imageSteps.get(spec.image) ?? []), ...order], pre);
      if (node.slice && this.steps.some((st) => st.id === `${spec.path}:create-instance`)) previousIsolated = `${spec.path}:create-instance`;
      if (spec.containers.length === 0) return;
      const childObs = this.tree.levels[spec.path];
      if (childObs?.kind === 'unseen') {
        this.problem({
          fault: 'environment',
          path: spec.path,
          message: `cannot look inside ${spec.path}: ${childObs.reason}`,
          hint: `${spec.path} must be able to run sh (lxc exec ${spec.name} -- sh) to host containers`,
        });
        return;
      }
      const obs = childObs?.kind === 'observed' ? childObs.level : null;
      this.planLevel({
        path: spec.path,
        flavour: obs?.flavour ?? spec.flavour,
        obs,
        specs: spec.containers,
        allocs: node.children,
        daemonNeed: node.daemonNeed,
        ownSize: obs ? ownIds(obs) : map.size,
        entryDeps: startStep ? [startStep] : [],
        ancestors: [...lv.ancestors, { path: lv.path, obs: lv.obs, subnet }],
        // Under a level whose daemon is down, a child's absence only means it could not be listed.
        ...(obs === null && hidden ? { hiddenBy: lv.hiddenBy ?? lv.path } : {}),
      });
    });

    this.levels.push({
      path: lv.path,
      flavour: lv.flavour,
      observed: !newLevel,
      entry,
      daemonRange,
      pinned: pins,
      children: summaryChildren,
      verdictNow: lv.obs ? verdictNow(lv.obs, owner, isHost) : 'unknown',
    });
    if (kept && this.manifest.host.base === null && isHost && entry) {
      this.warnings.push(`host: keeping the existing ${owner}:${formatRange(entry)} (large enough; set host.base to choose another)`);
    }
  }

  /** Slices of the level's isolated children: where they are, or where LXD will put them. */
  placeSlices(lv: LevelInput, rangeStart: number): Map<string, IdRange> {
    const occupied = occupiedSlices(lv.obs?.instances ?? []);
    const placed = new Map<string, IdRange>();
    lv.specs.forEach((spec, i) => {
      const node = lv.allocs[i]!;
      if (!node.slice) return;
      const own = occupied.find((o) => o.name === spec.name);
      if (own) {
        placed.set(spec.name, { start: own.start, size: own.size });
        return;
      }
      const start = findSlice(rangeStart, [...occupied, ...placed.values()], node.slice.size);
      placed.set(spec.name, { start, size: node.slice.size });
    });
    return placed;
  }

  /** Plans create/update/start of one child; returns the step that makes it run (if any). */
  planChild(
    lv: LevelInput,
    spec: ContainerSpec,
    node: NodeAllocation,
    deps: string[],
    pre: (p: Precondition) => Precondition,
  ): string | null {
    const label = levelLabel(lv.path);
    const config = desiredConfig(spec, node);
    const hosting = spec.containers.length > 0;
    const found = (lv.obs && managedInstance(lv.obs, spec.name)) ?? null;
    const halfMade = found !== null && found.config[MARKER_PATH] === spec.path && found.config[MARKER_CREATING] !== undefined;
    const existing = halfMade ? null : found;
    const img = this.images.get(spec.image);
    // Its level's containers could not be listed: it may exist already.
    const hidden = hiddenLevel(lv);
    if (!existing) {
      const cleared = halfMade
        ? [
            this.add({
              id: `${spec.path}:delete-instance`,
              level: lv.path,
              kind: 'delete-instance',
              dependsOn: deps,
              reason: `${spec.path} was left half-made by an interrupted create (it never started): deleted and created again`,
              name: spec.name,
              path: spec.path,
              precondition: pre({ kind: 'instance-config', config: { [MARKER_PATH]: spec.path, [MARKER_CREATING]: found.config[MARKER_CREATING]! }, profiles: found.profiles }),
            }),
          ]
        : deps;
      const create = this.add({
        id: `${spec.path}:create-instance`,
        level: lv.path,
        kind: 'create-instance',
        dependsOn: cleared,
        reason: hidden
          ? `${unseenWhy(lv)}: ${spec.path} is created once its LXD runs, unless it exists`
          : lv.obs
            ? `${spec.path} does not exist in ${label}`
            : `${label} is new`,
        name: spec.name,
        path: spec.path,
        image: spec.image,
        fingerprint: img?.fingerprint ?? null,
        profiles: spec.profiles,
        config: { ...config, ...markers(spec) },
        precondition: pre({ kind: 'instance-absent' }),
      });
      return this.add({
        id: `${spec.path}:start-instance`,
        level: lv.path,
        kind: 'start-instance',
        dependsOn: [create],
        reason: hidden ? `${spec.path} is started unless it runs` : `${spec.path} is created stopped`,
        name: spec.name,
        path: spec.path,
        hosting,
        precondition: pre({ kind: 'none' }),
      });
    }
    if (existing.config[MARKER_MANAGED] !== 'true') {
      this.warnings.push(`${spec.path} exists and was not created by nestctl: it is managed from now on, but destroy will leave it`);
    }
    let last: string | null = null;
    const set: Record<string, string> = {};
    const before: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
      if (existing.config[k] !== v) {
        set[k] = v;
        if (existing.config[k] !== undefined) before[k] = existing.config[k]!;
      }
    }
    const profilesDiffer = existing.profiles.join('\n') !== spec.profiles.join('\n');
    if (Object.keys(set).length > 0 || profilesDiffer) {
      last = this.add({
        id: `${spec.path}:update-config`,
        level: lv.path,
        kind: 'update-config',
        // After the level's daemon restart: idmap keys are checked against the range it loads.
        dependsOn: deps,
        reason: `${spec.path}'s config differs from the manifest`,
        name: spec.name,
        path: spec.path,
        set,
        before,
        profiles: profilesDiffer ? { before: existing.profiles, after: spec.profiles } : null,
        precondition: pre({ kind: 'instance-config', config: existing.config, profiles: existing.profiles }),
      });
    }
    const remapKeys = Object.keys(set).filter((k) => IDMAP_KEYS.includes(k));
    if (existing.status === 'Running' && (remapKeys.length > 0 || remapPending(existing.config))) {
      return this.add({
        id: `${spec.path}:remap-instance`,
        level: lv.path,
        kind: 'remap-instance',
        dependsOn: [...deps, ...(last ? [last] : [])],
        reason:
          remapKeys.length > 0
            ? `LXD applies the new id map (${remapKeys.join(', ')}) only when ${spec.path} starts again`
            : `${spec.path} has a new id map waiting for its next start`,
        name: spec.name,
        path: spec.path,
        hosting,
        precondition: pre({ kind: 'instance-status', status: existing.status }),
      });
    }
    if (existing.status !== 'Running') {
      last = this.add({
        id: `${spec.path}:start-instance`,
        level: lv.path,
        kind: 'start-instance',
        dependsOn: [...deps, ...(last ? [last] : [])],
        reason: `${spec.path} is ${existing.status.toLowerCase()}`,
        name: spec.name,
        path: spec.path,
        hosting,
        precondition: pre({ kind: 'instance-status', status: existing.status }),
      });
      return last;
    }
    return null;
  }
}

/** LXD computed a new map (volatile.idmap.next) that the running container does not use yet. */
export function remapPending(config: Record<string, string>): boolean {
  const next = config['volatile.idmap.next'];
  const current = config['volatile.idmap.current'];
  if (!next || !current) return false;
  return JSON.stringify(parseLxdIdmap(next)) !== JSON.stringify(parseLxdIdmap(current));
}

export function planTree(manifest: Manifest, allocation: Allocation, tree: ObservedTree, options: PlanOptions): PlanResult {
  const planner = new Planner(manifest, allocation, tree, options);
  planner.run();
  if (planner.problems.length > 0) return { ok: false, problems: planner.problems };
  return { ok: true, plan: assemblePlan('apply', manifest, tree, options, planner) };
}
