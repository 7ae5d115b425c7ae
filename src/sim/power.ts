// Containers starting and stopping, and what that does to the machine inside them: its id
// namespace, its LXD (socket-activated at boot, autostarting its own containers), its disk.

import { memberOf } from './cluster.js';
import { flavourInfo } from '../core/flavour/index.js';
import { parentPath } from '../core/paths.js';
import { instanceExpanded } from './config.js';
import { startDaemon } from './daemon.js';
import { CommandError } from '../core/errors.js';
import { commandNotFound, lxcFailure, mapIdsLog, socketRefused, startFailed, TEXT } from './errors.js';
import { isTrue } from './find-idmap.js';
import { idmapFromJson, idmapToJson, kernelSetOf, usable, type LxdIdmapEntry } from './idmap.js';
import { newidmapRefusal } from './newuidmap.js';
import type { InstanceState, LevelState, LxdState, World } from './state.js';
import { findLevel, nextSeq, record, tick } from './world.js';

/**
 * Use the daemon of a level, as any `lxc` call does: a socket-activated daemon starts now (and
 * autostarts its containers); a daemon that is down or missing fails the call.
 */
export function activate(world: World, level: LevelState, argv: readonly string[]): LxdState {
  const lxd = level.lxd;
  if (!lxd) throw commandNotFound(level.path, argv);
  // What the client prints when nothing listens on the daemon's socket.
  if (lxd.daemon.kind === 'down') throw new CommandError(argv, 1, `${socketRefused(lxd.flavour)}\n`, level.path);
  if (lxd.daemon.kind === 'socket') {
    startDaemon(world, level);
    autostart(world, level);
  }
  return lxd;
}

/** LXD's instancesStart rule: boot.autostart, or (unset) running when the daemon last stopped. */
function wantsAutostart(lxd: LxdState, inst: InstanceState): boolean {
  const auto = instanceExpanded(lxd, inst)['boot.autostart'];
  if (auto !== undefined && ['false', '0', 'no', 'off'].includes(auto.toLowerCase())) return false;
  return isTrue(auto) || inst.config['volatile.last_state.power'] === 'RUNNING';
}

/** After a daemon start: start what should run; failures are only logged, as LXD does. */
export function autostart(world: World, level: LevelState): void {
  const lxd = level.lxd;
  if (lxd?.daemon.kind !== 'up') return;
  for (const inst of lxd.instances) {
    if (inst.status !== 'Stopped' || !wantsAutostart(lxd, inst)) continue;
    try {
      startContainer(world, level, inst, ['lxd', 'autostart', inst.name]);
    } catch (e) {
      lxd.daemon.log.push(`WARNING Failed to auto start instance instance=${inst.name} err="${(e as Error).message}"`);
    }
  }
}

/**
 * The LXD container `level` is the inside of, with the config it runs with (the one it started
 * with); null for the host and the inside of a classic LXC container.
 */
function runningConfigOf(world: World, level: LevelState): Record<string, string> | null {
  if (level.path === '') return null;
  const parent = findLevel(world, parentPath(level.path));
  const name = level.path.slice(level.path.lastIndexOf('/') + 1);
  const inst = parent?.lxd?.instances.find((i) => i.name === name);
  if (!parent?.lxd || !inst) return null;
  return inst.started ?? instanceExpanded(parent.lxd, inst);
}

/** The container `level` runs in allows nested containers (security.nesting). */
function nestingAllowed(world: World, level: LevelState): boolean {
  if (level.path === '') return true;
  const config = runningConfigOf(world, level);
  return config !== null && isTrue(config['security.nesting']);
}

/**
 * liblxc's abort when a container starts inside an LXD container that runs without nesting: the
 * uncovered /proc and /sys LXD mounts for nesting exist only from a start with
 * security.nesting on (initLXC in lxd/instance/drivers/driver_lxc.go), so setting it on a
 * running container is not enough (wording approximate: liblxc's exact line varies).
 */
export const NESTED_PROC_REFUSAL =
  'ERROR    conf - conf.c:lxc_mount_auto_mounts - Permission denied - Failed to mount "proc" onto "/usr/lib/x86_64-linux-gnu/lxc/rootfs/proc"';

/** Whether a classic LXC container may start at `level`: not inside an LXD container running without nesting. */
export function lxcNestingAllowed(world: World, level: LevelState): boolean {
  const config = runningConfigOf(world, level);
  return config === null || isTrue(config['security.nesting']);
}

const mapArgs = (entries: LxdIdmapEntry[]): string => entries.map((e) => `${e.Nsid} ${e.Hostid} ${e.Maprange}`).join(' ');

/** Why liblxc would abort this start (its lxc.log ERROR lines), or null. */
function startRefusal(world: World, level: LevelState, inst: InstanceState, map: LxdIdmapEntry[]): string[] | null {
  if (!nestingAllowed(world, level)) return [NESTED_PROC_REFUSAL];
  if (map.length === 0) return null; // privileged: no user namespace to map
  const pid = 4000 + nextSeq(world);
  // liblxc lxc_map_ids: with newuidmap/newgidmap present it always goes through them, and they
  // accept only ranges covered by root's lines in /etc/subuid and /etc/subgid.
  if (level.lxd && flavourInfo(level.lxd.flavour).readsSubid !== 'never' && level.uidmapTools) {
    // A cluster member with a range of its own stands for a machine whose root entry is that range.
    const own = level.path === '' ? memberOf(world, inst)?.range : null;
    for (const kind of ['uid', 'gid'] as const) {
      const file = level.files[kind === 'uid' ? '/etc/subuid' : '/etc/subgid'];
      const refusal = newidmapRefusal(kind, map, own ? `root:${own.start}:${own.size}\n` : file ? file.text : null);
      const tool = kind === 'uid' ? 'newuidmap' : 'newgidmap';
      if (refusal) return mapIdsLog(tool, refusal, pid, mapArgs(map.filter((e) => (kind === 'uid' ? e.Isuid : e.Isgid))));
    }
  }
  // The kernel: a map may only use ids the level's own namespace has.
  const kernel = kernelSetOf(level.kernel);
  const bad = map.find((e) => usable(e, kernel) !== null);
  if (bad) {
    const tool = bad.Isuid ? 'newuidmap' : 'newgidmap';
    return mapIdsLog(tool, `${tool}: write to ${bad.Isuid ? 'uid' : 'gid'}_map failed: Operation not permitted`, pid, mapArgs([bad]));
  }
  return null;
}

/**
 * Start a container (driver_lxc.go startCommon): apply volatile.idmap.next — shifting the disk
 * when it differs from volatile.last_state.idmap — record it as volatile.idmap.current, boot.
 */
export function startContainer(world: World, level: LevelState, inst: InstanceState, argv: readonly string[]): void {
  const lxd = level.lxd!;
  if (inst.status === 'Running') throw lxcFailure(level.path, argv, TEXT.alreadyRunning);
  const map = idmapFromJson(inst.config['volatile.idmap.next']);
  const refusal = startRefusal(world, level, inst, map);
  if (refusal) {
    record(world, level.path, 'start-failed', inst.name);
    throw startFailed(level.path, argv, lxd.flavour, inst.name, refusal);
  }
  const json = idmapToJson(map);
  if (inst.config['volatile.last_state.idmap'] !== json) inst.config['volatile.last_state.idmap'] = json; // rootfs shifted
  inst.config['volatile.idmap.current'] = json;
  inst.config['volatile.last_state.power'] = 'RUNNING';
  delete inst.config['volatile.apply_template'];
  inst.status = 'Running';
  inst.started = instanceExpanded(lxd, inst);
  tick(world);
  record(world, level.path, 'start', inst.name);
  bootInside(world, level, inst);
}

/** Stop a container; LXD inside shuts down, leaving its own containers to come back at next boot. */
export function stopContainer(world: World, level: LevelState, inst: InstanceState, argv: readonly string[]): void {
  if (inst.status !== 'Running') throw lxcFailure(level.path, argv, TEXT.alreadyStopped);
  inst.status = 'Stopped';
  inst.config['volatile.last_state.power'] = 'STOPPED';
  shutdownInside(inst);
  tick(world);
  record(world, level.path, 'stop', inst.name);
}

/** The machine inside a freshly started container. */
function bootInside(world: World, level: LevelState, inst: InstanceState): void {
  const inside = inst.inside;
  const map = idmapFromJson(inst.config['volatile.idmap.current']);
  // /proc/self/uid_map inside: the container's map, in the parent level's ids; a privileged
  // container shares its parent's user namespace.
  inside.kernel = map.length > 0 ? map : level.kernel.map((e) => ({ ...e }));
  const lxd = inside.lxd;
  if (!lxd) return;
  // lxd.socket listens from boot (systemd); without systemd nothing starts LXD.
  lxd.daemon = inside.systemd ? { kind: 'socket' } : { kind: 'down' };
  // `lxd activateifneeded` at boot: start the daemon now if it has containers to bring back.
  if (inside.systemd && lxd.instances.some((i) => i.status === 'Stopped' && wantsAutostart(lxd, i))) {
    startDaemon(world, inside);
    autostart(world, inside);
  }
}

/** Everything inside stops with the container, classic LXC containers too; the disk (files, images, instances) stays. */
export function shutdownInside(inst: InstanceState): void {
  stopLxcInside(inst.inside);
  const lxd = inst.inside.lxd;
  if (!lxd) return;
  for (const inner of lxd.instances) {
    if (inner.status !== 'Running') continue;
    inner.status = 'Stopped'; // volatile.last_state.power stays RUNNING: LXD's shutdown keeps it
    shutdownInside(inner);
  }
  lxd.daemon = { kind: 'down' };
}

function stopLxcInside(level: LevelState): void {
  for (const c of level.lxc?.containers ?? []) {
    if (c.state !== 'RUNNING') continue;
    c.state = 'STOPPED';
    c.uidMap = [];
    if (c.inside) stopLxcInside(c.inside);
  }
}
