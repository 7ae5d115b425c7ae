// Instance lifecycle through the API: create (lxc init), start, stop, delete, config set /
// profile assign. The id rules are in idmap.ts, the power-related effects in power.ts.

import { lxcInRootfs } from './lxc.js';
import type { InstanceSpec, InstanceUpdate } from '../ports/lxd.js';
import { expandedConfig, expandedDevices, expandedKeys, instanceExpanded, rootDisk } from './config.js';
import { creationFailed, lxcFailure, nameInUse, noAllocation, renameRunning, TEXT } from './errors.js';
import { IDMAP_KEYS } from '../core/flavour/index.js';
import { findIdmap, isTrue, NEIGHBOUR_KEYS } from './find-idmap.js';
import { idmapToJson, type LxdIdmapEntry } from './idmap.js';
import { activate, startContainer, stopContainer } from './power.js';
import { reach } from './reach.js';
import { type InstanceState, joinPath, type LevelState, type LxdState, type SimMember, type World } from './state.js';
import { memberIdmap, memberOf, placeNew } from './cluster.js';
import { cliArgv, cliOf, nextSeq, record, tick } from './world.js';

/** When an image's rootfs was built: older than anything that happens in the world. */
export const IMAGE_MTIME = 1_600_000_000;

/** Image by full fingerprint, unique fingerprint prefix, or alias. */
export function findImage(lxd: LxdState, ref: string): string | null {
  const byAlias = lxd.images.find((i) => i.aliases.includes(ref));
  if (byAlias) return byAlias.fingerprint;
  const matches = lxd.images.filter((i) => i.fingerprint.startsWith(ref));
  return matches.length === 1 ? matches[0]!.fingerprint : null;
}

export function instanceOf(lxd: LxdState, path: string, name: string, argv: readonly string[]): InstanceState {
  const inst = lxd.instances.find((i) => i.name === name);
  if (!inst) throw lxcFailure(path, argv, TEXT.instanceNotFound);
  return inst;
}

/** Container names as LXD accepts them (hostname rules). */
export function nameProblem(name: string): string | null {
  if (name.length < 1 || name.length > 63) return 'Name must be 1-63 characters long';
  if (!/^[A-Za-z0-9-]+$/.test(name)) return 'Name can only contain alphanumeric and hyphen characters';
  if (/^[0-9-]/.test(name)) return 'Name must not start with a digit or hyphen';
  if (name.endsWith('-')) return 'Name must not end with a hyphen';
  return null;
}

/** The machine on a new container's disk, from what its image carries. */
export function newInside(world: World, path: string, fingerprint: string): LevelState {
  const def = world.catalog[fingerprint];
  const files: LevelState['files'] = {};
  if (def?.lxd?.subuid != null) files['/etc/subuid'] = { text: def.lxd.subuid, mtime: IMAGE_MTIME };
  if (def?.lxd?.subgid != null) files['/etc/subgid'] = { text: def.lxd.subgid, mtime: IMAGE_MTIME };
  return {
    path,
    systemd: def?.systemd ?? false,
    uidmapTools: def?.uidmapTools ?? false,
    shell: def?.shell ?? true,
    kernel: [],
    files,
    beside: null,
    ...(def?.lxc ? { lxc: lxcInRootfs(world) } : {}),
    lxd: def?.lxd
      ? {
          flavour: def.lxd.flavour,
          version: def.lxd.version,
          daemon: { kind: 'down' },
          pools: [],
          networks: [],
          profiles: [{ name: 'default', config: {}, devices: {} }],
          images: [],
          instances: [],
        }
      : null,
  };
}

/** The map findIdmap gives this instance at this level (on a cluster, by its member's daemon), or the failure text. */
export function computeMap(
  lxd: LxdState,
  name: string,
  expanded: Record<string, string>,
  member: SimMember | null = null,
): { set: LxdIdmapEntry[]; base: number } | { error: string } {
  if (isTrue(expanded['security.privileged'])) return { set: [], base: 0 };
  const daemon = member ? memberIdmap(lxd, member) : lxd.daemon.kind === 'up' ? lxd.daemon.idmap : null;
  if (lxd.daemon.kind !== 'up' || daemon === null) return { error: `${TEXT.invalidConfig}: ${noAllocation(lxd.flavour)}` };
  const found = findIdmap({
    flavour: lxd.flavour,
    daemon,
    name,
    expanded,
    neighbours: () =>
      lxd.instances
        .filter((i) => !member || i.location === member.name)
        .map((i) => ({ name: i.name, expanded: expandedKeys(lxd, i, NEIGHBOUR_KEYS) })),
  });
  return found.ok ? { set: found.set, base: found.base } : { error: found.error };
}

/** `lxc init FINGERPRINT NAME -p … -c k=v …` (lxcCreate). */
export function createInstance(world: World, path: string, spec: InstanceSpec): void {
  const argv = cliArgv(world, path, [
    'init',
    spec.fingerprint,
    spec.name,
    ...(spec.profiles.length > 0 ? spec.profiles.flatMap((p) => ['-p', p]) : ['--no-profiles']),
    ...Object.entries(spec.config).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ...(spec.target !== undefined ? ['--target', spec.target] : []),
  ]);
  const lxd = activate(world, reach(world, path, argv), argv);
  const member = path === '' ? placeNew(world, lxd, spec.target, argv) : null;
  if (path !== '' && spec.target !== undefined) throw lxcFailure(path, argv, 'Target only allowed when clustered');
  const problem = nameProblem(spec.name);
  if (problem) throw lxcFailure(path, argv, `Invalid instance name: ${problem}`);
  const fingerprint = findImage(lxd, spec.fingerprint);
  if (!fingerprint) throw lxcFailure(path, argv, TEXT.imageNotFound);
  if (lxd.instances.some((i) => i.name === spec.name))
    throw lxcFailure(path, argv, `${TEXT.record}: Instance ${JSON.stringify(spec.name)} already exists`);
  const missing = spec.profiles.find((p) => !lxd.profiles.some((q) => q.name === p));
  if (missing) throw lxcFailure(path, argv, `${TEXT.record}: Requested profile ${JSON.stringify(missing)} doesn't exist`);

  const own = { ...spec.config };
  const expanded = expandedConfig(lxd, spec.profiles, own);
  // lxcCreate, in order: expanded config valid (uid/gid allocation), root disk, pool, idmap.
  if (!isTrue(expanded['security.privileged']) && (lxd.daemon.kind !== 'up' || lxd.daemon.idmap === null)) {
    throw lxcFailure(path, argv, creationFailed(`${TEXT.invalidConfig}: ${noAllocation(lxd.flavour)}`));
  }
  const root = rootDisk(expandedDevices(lxd, spec.profiles));
  if (!root) throw lxcFailure(path, argv, creationFailed(TEXT.noRootDisk));
  if (!root.pool) throw lxcFailure(path, argv, creationFailed("The instance's root device is missing the pool property"));
  if (!lxd.pools.some((p) => p.name === root.pool))
    throw lxcFailure(path, argv, creationFailed('Failed loading storage pool: Storage pool not found'));
  const map = computeMap(lxd, spec.name, expanded, member);
  if ('error' in map) throw lxcFailure(path, argv, creationFailed(map.error));

  // A create cut short (the daemon killed while it unpacks the image) leaves the record LXD made
  // first, without the key it sets once the root volume is complete (core/plan/half-made.ts).
  const cut = world.interrupt?.delete(path) ?? false;
  const config: Record<string, string> = {
    ...own,
    ...(cut ? {} : { 'volatile.apply_template': 'create' }),
    'volatile.base_image': fingerprint,
    'volatile.idmap.base': String(map.base),
    'volatile.idmap.next': idmapToJson(map.set),
    'volatile.last_state.idmap': own['volatile.last_state.idmap'] ?? '[]',
    'volatile.uuid': fakeUuid(nextSeq(world)),
  };
  lxd.instances.push({
    name: spec.name,
    status: 'Stopped',
    profiles: [...spec.profiles],
    config,
    inside: newInside(world, joinPath(path, spec.name), fingerprint),
    ...(member ? { location: member.name } : {}),
  });
  tick(world);
  record(world, path, 'create', `${spec.name} from ${fingerprint.slice(0, 12)}${cut ? ' (cut short)' : ''}`);
  // What the client sees of it: its connection to the daemon dropped (the words are not LXD's).
  if (cut) throw lxcFailure(path, argv, 'connection to the daemon lost during the create');
}

export function fakeUuid(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `5eed0000-0000-4000-8000-${hex}`;
}

export function startInstance(world: World, path: string, name: string): void {
  const argv = cliArgv(world, path, ['start', name]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  startContainer(world, level, instanceOf(lxd, path, name, argv), argv);
}

export function stopInstance(world: World, path: string, name: string): void {
  const argv = cliArgv(world, path, ['stop', name]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  stopContainer(world, level, instanceOf(lxd, path, name, argv), argv);
}

/**
 * `lxc rename NAME NEW` (instance_post.go, driver_lxc.go Rename): refused while it runs and when
 * the name is taken; the container keeps everything it holds (its disk, the machine inside with
 * its daemon, containers and files), now under the new name.
 */
export function renameInstance(world: World, path: string, name: string, newName: string): void {
  const argv = cliArgv(world, path, ['rename', name, newName]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  const inst = instanceOf(lxd, path, name, argv);
  if (lxd.instances.some((i) => i.name === newName)) throw lxcFailure(path, argv, nameInUse(newName));
  const problem = nameProblem(newName);
  if (problem) throw lxcFailure(path, argv, `Invalid instance name: ${problem}`);
  if (inst.status === 'Running') throw lxcFailure(path, argv, renameRunning(lxd.flavour));
  inst.name = newName;
  repath(inst.inside, joinPath(path, newName));
  tick(world);
  record(world, path, 'rename', `${name} ${newName}`);
}

/** The machine inside a renamed container, and every machine inside it, at its new path. */
export function repath(level: LevelState, path: string): void {
  level.path = path;
  for (const lxd of [level.lxd, level.beside]) for (const i of lxd?.instances ?? []) repath(i.inside, joinPath(path, i.name));
  for (const c of level.lxc?.containers ?? []) if (c.inside) repath(c.inside, joinPath(path, c.name));
}

/** `lxc delete NAME`; `force` (`--force`): a running container is stopped (killed) first, with everything inside it. */
export function deleteInstance(world: World, path: string, name: string, force = false): void {
  const argv = cliArgv(world, path, ['delete', ...(force ? ['--force'] : []), name]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  const inst = instanceOf(lxd, path, name, argv);
  if (inst.status === 'Running') {
    if (!force) throw lxcFailure(path, argv, TEXT.deleteRunning);
    stopContainer(world, level, inst, argv);
  }
  lxd.instances = lxd.instances.filter((i) => i !== inst);
  tick(world);
  record(world, path, 'delete', name);
}

/**
 * `lxc config set NAME k=v…`, `lxc config unset NAME k` per key, then `lxc profile assign NAME
 * p1,p2` (driver_lxc.go Update): an empty value unsets a key; unsetting a key that is not set is
 * refused by the client (lxc/config.go); when one of the idmap keys changes in the expanded config, LXD
 * computes a new map into volatile.idmap.next (applied at the next start).
 */
export function updateInstance(world: World, path: string, name: string, update: InstanceUpdate): void {
  const argv = cliArgv(world, path, ['config', 'set', name, ...Object.entries(update.set).map(([k, v]) => `${k}=${v}`)]);
  const level = reach(world, path, argv);
  const cli = cliOf(level);
  const lxd = activate(world, level, argv);
  const inst = instanceOf(lxd, path, name, argv);
  const profiles = update.profiles ?? inst.profiles;
  const missing = profiles.find((p) => !lxd.profiles.some((q) => q.name === p));
  if (missing) throw lxcFailure(path, [cli, 'profile', 'assign', name, profiles.join(',')], `Profile not found: ${missing}`);

  const config = { ...inst.config };
  for (const [k, v] of Object.entries(update.set)) {
    if (v === '') delete config[k];
    else config[k] = v;
  }
  for (const k of update.unset ?? []) {
    if (!(k in config)) throw lxcFailure(path, [cli, 'config', 'unset', name, k], `Can't unset key '${k}', it's not currently set`);
    delete config[k];
  }
  const before = instanceExpanded(lxd, inst);
  const after = expandedConfig(lxd, profiles, config);
  if (!isTrue(after['security.privileged']) && (lxd.daemon.kind !== 'up' || lxd.daemon.idmap === null)) {
    throw lxcFailure(path, argv, `${TEXT.invalidConfig}: ${noAllocation(lxd.flavour)}`);
  }
  if (IDMAP_KEYS.some((k) => before[k] !== after[k])) {
    const map = computeMap(lxd, name, after, memberOf(world, inst));
    if ('error' in map) throw lxcFailure(path, argv, `Failed to get ID map: ${map.error}`);
    config['volatile.idmap.next'] = idmapToJson(map.set);
    config['volatile.idmap.base'] = String(map.base);
  }
  inst.config = config;
  inst.profiles = [...profiles];
  tick(world);
  record(
    world,
    path,
    'update',
    `${name} ${Object.keys(update.set).join(',')}${update.unset?.length ? ` unset=${update.unset.join(',')}` : ''}${update.profiles ? ` profiles=${profiles.join(',')}` : ''}`,
  );
}
