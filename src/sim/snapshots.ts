// Snapshots and copies through the API: `lxc snapshot NAME SNAP` (stateless: the disk and config
// as they are, of a running container too), `lxc copy NAME/SNAP NEW` (a new stopped container
// from the snapshot) and `lxc delete NAME/SNAP`. The id rules of the copy are LXD's
// (lxd/instance.go instanceCreateAsCopy): its own map from its own config, its disk recorded in
// the source's map so that the first start shifts it; lxc/copy.go drops the source's volatile
// keys but volatile.base_image.

import { expandedConfig } from './config.js';
import { creationFailed, lxcFailure, TEXT } from './errors.js';
import { idmapToJson } from './idmap.js';
import { computeMap, fakeUuid, instanceOf, nameProblem, repath } from './instances.js';
import { placeNew } from './cluster.js';
import { activate, startContainer, stopContainer } from './power.js';
import { reach } from './reach.js';
import { type InstanceState, joinPath, type LevelState, type World } from './state.js';
import { cliArgv, nextSeq, record, tick } from './world.js';

/** `lxc snapshot NAME SNAP`: refused when the name is taken among its snapshots. */
export function snapshotInstance(world: World, path: string, name: string, snapshot: string): void {
  const argv = cliArgv(world, path, ['snapshot', name, snapshot]);
  const lxd = activate(world, reach(world, path, argv), argv);
  const inst = instanceOf(lxd, path, name, argv);
  if (snapshot.includes('/')) throw lxcFailure(path, argv, "Snapshot names may not contain '/'");
  if ((inst.snapshots ?? []).some((s) => s.name === snapshot))
    throw lxcFailure(
      path,
      argv,
      `Failed creating instance snapshot record "${snapshot}": An instance snapshot with this name already exists`,
    );
  inst.snapshots = [
    ...(inst.snapshots ?? []),
    { name: snapshot, profiles: [...inst.profiles], config: { ...inst.config }, inside: structuredClone(inst.inside) },
  ];
  tick(world);
  record(world, path, 'snapshot', `${name}/${snapshot}`);
}

/** `lxc delete NAME/SNAP`. */
export function deleteSnapshot(world: World, path: string, name: string, snapshot: string): void {
  const argv = cliArgv(world, path, ['delete', `${name}/${snapshot}`]);
  const lxd = activate(world, reach(world, path, argv), argv);
  const inst = instanceOf(lxd, path, name, argv);
  if (!(inst.snapshots ?? []).some((s) => s.name === snapshot)) throw lxcFailure(path, argv, TEXT.instanceNotFound);
  inst.snapshots = inst.snapshots!.filter((s) => s.name !== snapshot);
  tick(world);
  record(world, path, 'delete-snapshot', `${name}/${snapshot}`);
}

/**
 * `lxc restore NAME SNAP`: its config, profiles and disk as the snapshot holds them; a running
 * container is restarted, and the containers inside it stay stopped (seen on LXD 5.0.2: after
 * `lxc restore c1 s0`, the nested containers are STOPPED).
 */
export function restoreInstance(world: World, path: string, name: string, snapshot: string): void {
  const argv = cliArgv(world, path, ['restore', name, snapshot]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  const inst = instanceOf(lxd, path, name, argv);
  const snap = (inst.snapshots ?? []).find((s) => s.name === snapshot);
  if (!snap) throw lxcFailure(path, argv, TEXT.instanceNotFound);
  const running = inst.status === 'Running';
  if (running) stopContainer(world, level, inst, argv);
  const keep = Object.fromEntries(Object.entries(inst.config).filter(([k]) => k.startsWith('volatile.')));
  inst.config = { ...Object.fromEntries(Object.entries(snap.config).filter(([k]) => !k.startsWith('volatile.'))), ...keep };
  inst.profiles = [...snap.profiles];
  inst.inside = structuredClone(snap.inside);
  repath(inst.inside, joinPath(path, name));
  stopCopied(inst.inside);
  tick(world);
  record(world, path, 'restore', `${name}/${snapshot}`);
  if (running) startContainer(world, level, inst, argv);
}

/** `lxc copy NAME/SNAP NEW [--target T]`: a stopped container holding what the snapshot holds. */
export function copyInstance(world: World, path: string, source: string, snapshot: string, name: string, target?: string): void {
  const argv = cliArgv(world, path, ['copy', `${source}/${snapshot}`, name, ...(target !== undefined ? ['--target', target] : [])]);
  const lxd = activate(world, reach(world, path, argv), argv);
  const from = instanceOf(lxd, path, source, argv);
  const snap = (from.snapshots ?? []).find((s) => s.name === snapshot);
  if (!snap) throw lxcFailure(path, argv, TEXT.instanceNotFound);
  const member = path === '' ? placeNew(world, lxd, target, argv) : null;
  if (path !== '' && target !== undefined) throw lxcFailure(path, argv, 'Target only allowed when clustered');
  const problem = nameProblem(name);
  if (problem) throw lxcFailure(path, argv, `Invalid instance name: ${problem}`);
  if (lxd.instances.some((i) => i.name === name))
    throw lxcFailure(path, argv, `${TEXT.record}: Instance ${JSON.stringify(name)} already exists`);

  const own = Object.fromEntries(Object.entries(snap.config).filter(([k]) => !k.startsWith('volatile.') || k === 'volatile.base_image'));
  const expanded = expandedConfig(lxd, snap.profiles, own);
  const map = computeMap(lxd, name, expanded, member);
  if ('error' in map) throw lxcFailure(path, argv, creationFailed(map.error));
  const inside = structuredClone(snap.inside);
  repath(inside, joinPath(path, name));
  stopCopied(inside);
  lxd.instances.push({
    name,
    status: 'Stopped',
    profiles: [...snap.profiles],
    config: {
      ...own,
      'volatile.apply_template': 'copy',
      'volatile.idmap.base': String(map.base),
      'volatile.idmap.next': idmapToJson(map.set),
      // Its disk is the source's, shifted to the source's map.
      'volatile.last_state.idmap': snap.config['volatile.last_state.idmap'] ?? '[]',
      'volatile.uuid': fakeUuid(nextSeq(world)),
    },
    inside,
    ...(member ? { location: member.name } : {}),
  });
  tick(world);
  record(world, path, 'copy', `${source}/${snapshot} ${name}`);
}

/**
 * The machine on a copied disk: nothing runs, and the containers of the daemon inside stay
 * stopped when it starts (seen on LXD 5.0.2: a copy's nested containers are STOPPED at every
 * level after its start).
 */
function stopCopied(level: LevelState): void {
  for (const lxd of [level.lxd, level.beside]) {
    if (!lxd) continue;
    lxd.daemon = { kind: 'down' };
    for (const inst of lxd.instances) stopInstanceOnDisk(inst);
  }
  for (const c of level.lxc?.containers ?? []) {
    c.state = 'STOPPED';
    c.uidMap = [];
    if (c.inside) stopCopied(c.inside);
  }
}

function stopInstanceOnDisk(inst: InstanceState): void {
  inst.status = 'Stopped';
  inst.config['volatile.last_state.power'] = 'STOPPED';
  stopCopied(inst.inside);
}
