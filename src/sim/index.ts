// The simulated LXD: a world of levels that implements LxdLevel with LXD's real rules, for fast
// tests, `nestctl plan|apply --simulate`, and comparison with real LXD. Plus inspection helpers
// for tests (what the real machine would show with cat /proc/self/uid_map, lxd's log, …).

import { LXC_VERSION } from './lxc.js';
import type { Flavour } from '../core/flavour/index.js';
import type { LxdLevel } from '../ports/lxd.js';
import { buildWorld } from './build-world.js';
import { type WorldDescription } from './world-file.js';
import { setFile } from './files.js';
import { SimLevel, type SimTrace } from './level.js';
import type { OpRecord, World } from './state.js';
import { findLevel, record, tick } from './world.js';

export { DEBIAN_SUBID } from './world-file.js';
export { defaultWorld, manifestImages, manifestLxcUsers } from './default-world.js';
export { parseWorld } from './parse-world.js';
export { assumedByDefault, imageProblems, WORLD_FILE_NOTE } from './assumptions.js';
export { describeWorld, describeWorldText } from './describe-world.js';
export type { FileDescription, HostDescription, ImageDescription, ImageLxdDescription, InstanceDescription, LevelDescription, LxcContainerDescription, LxcDescription, LxdDescription, WorldDescription } from './world-file.js';
export type { OpRecord, World } from './state.js';

export type DaemonRange =
  | { kind: 'range'; start: number; size: number }
  /** LXD found no usable range: "Only privileged containers will be able to run". */
  | { kind: 'privileged-only' }
  /** No daemon running there (not started yet, down, or no LXD). */
  | { kind: 'not-running' };

export interface SimWorld {
  /** The host's daemon; `flavour` chooses it where LXD and Incus are both installed (host.flavour). */
  host(flavour?: Flavour | null, trace?: SimTrace): LxdLevel;
  /** The LXD at a level path ("" host, "c1/c2"), as host().child(...).child(...). */
  level(path: string): LxdLevel;
  /** /proc/self/uid_map of a level ("0 500000 196608"), relative to its parent; null when there is no such level. */
  uidMap(path: string): string | null;
  /** The range the level's daemon loaded at its last start (its first entry: uid, normally). */
  daemonRange(path: string): DaemonRange;
  /** What the level's daemon logged about ids at its last start. */
  daemonLog(path: string): string[];
  /** Every change made to the world, in order. */
  log(): OpRecord[];
  /** How many times the level's daemon was restarted through restartDaemon. */
  restarts(path: string): number;
  /** The restart commands run at a level. */
  restartCommands(path: string): string[][];
  /** Content of a file at a level, or null. */
  file(path: string, name: string): string | null;
  /** Names of the files at a level (/etc/subuid, /etc/subuid-, /var/tmp/…). */
  files(path: string): string[];
  /** The logical clock. */
  now(): number;
  /**
   * The level's daemon stops and nothing starts it again (it crashed, or someone stopped lxd and
   * its socket); the containers it runs keep running. For tests of a world that changes under a plan.
   */
  stopDaemon(path: string): void;
  /**
   * The next create at the level is cut short, as when its daemon is killed while it unpacks the
   * image: the instance is left recorded but never finished, and the create fails.
   */
  interruptCreate(path: string): void;
  /** Edit a file inside a running container by hand (as `lxc exec PATH -- vi FILE` would), for drift tests. */
  editFile(path: string, file: string, text: string, owner?: { mode?: number; uid?: number; gid?: number }): void;
  /** The argv of every command run inside a container through runIn, in order. */
  commands(path: string): string[][];
  /**
   * Install classic LXC at a level (Debian's lxc 5.0.2) with these accounts (name → home): as
   * `apt-get install lxc` and `useradd -m` would. AppArmor is enabled unless said otherwise.
   */
  installLxc(path: string, users: Record<string, string>, options?: { apparmor?: boolean }): void;
  /** Stop an LXC container by hand (lxc-stop), for drift tests. */
  stopLxc(path: string, owner: string, name: string): void;
  /** init's uid map of a running LXC container ("0 START SIZE"), or null. */
  lxcUidMap(path: string, owner: string, name: string): string | null;
  /** The raw state (read it; changing it bypasses LXD's rules). */
  state(): World;
}

export function createSimWorld(desc: WorldDescription): SimWorld {
  return simWorldOf(buildWorld(desc));
}

/** The world as a SimWorld (its state is shared, not copied). */
export function simWorldOf(world: World): SimWorld {
  return {
    host: (flavour = null, trace) => new SimLevel(world, '', flavour, trace ?? null),
    level: (path) => new SimLevel(world, path),
    uidMap: (path) => {
      const level = findLevel(world, path);
      if (!level) return null;
      return level.kernel
        .filter((e) => e.Isuid)
        .map((e) => `${e.Nsid} ${e.Hostid} ${e.Maprange}`)
        .join('\n');
    },
    daemonRange: (path) => {
      const daemon = findLevel(world, path)?.lxd?.daemon;
      if (!daemon || daemon.kind !== 'up') return { kind: 'not-running' };
      // The first entry: the one LXD's isolated-slice search works in (uid, when there is one).
      const first = daemon.idmap?.[0];
      return first ? { kind: 'range', start: first.Hostid, size: first.Maprange } : { kind: 'privileged-only' };
    },
    daemonLog: (path) => {
      const daemon = findLevel(world, path)?.lxd?.daemon;
      return daemon?.kind === 'up' ? [...daemon.log] : [];
    },
    log: () => [...world.log],
    restarts: (path) => world.restarts[path]?.length ?? 0,
    restartCommands: (path) => (world.restarts[path] ?? []).map((a) => [...a]),
    file: (path, name) => findLevel(world, path)?.files[name]?.text ?? null,
    files: (path) => Object.keys(findLevel(world, path)?.files ?? {}).sort(),
    now: () => world.clock,
    stopDaemon: (path) => {
      const lxd = findLevel(world, path)?.lxd;
      if (!lxd) throw new Error(`no LXD at ${path || 'the host'}`);
      lxd.daemon = { kind: 'down' };
      tick(world);
      record(world, path, 'daemon-stop');
    },
    interruptCreate: (path) => {
      (world.interrupt ??= new Set()).add(path);
    },
    editFile: (path, file, text, owner = {}) => {
      const before = findLevel(world, path)?.files[file];
      setFile(world, path, file, Buffer.from(text, 'utf8'), { mode: owner.mode ?? before?.mode ?? 0o644, uid: owner.uid ?? before?.uid ?? 0, gid: owner.gid ?? before?.gid ?? 0 });
      record(world, path, 'edit-file', file);
    },
    commands: (path) => world.log.filter((r) => r.path === path && r.op === 'exec').map((r) => JSON.parse(r.detail) as string[]),
    installLxc: (path, users, options = {}) => {
      const level = findLevel(world, path);
      if (!level) throw new Error(`no level ${path || 'host'}`);
      level.lxc = { version: LXC_VERSION, apparmor: options.apparmor ?? true, users: { ...users }, containers: [] };
      record(world, path, 'install-lxc');
    },
    stopLxc: (path, owner, name) => {
      const c = findLevel(world, path)?.lxc?.containers.find((x) => x.owner === owner && x.name === name);
      if (!c) throw new Error(`no LXC container ${owner}/${name} at ${path || 'the host'}`);
      c.state = 'STOPPED';
      c.uidMap = [];
      tick(world);
      record(world, path, 'lxc-stop', `${owner}/${name}`);
    },
    lxcUidMap: (path, owner, name) => {
      const c = findLevel(world, path)?.lxc?.containers.find((x) => x.owner === owner && x.name === name);
      return c && c.state === 'RUNNING' ? c.uidMap.filter((e) => e.Isuid).map((e) => `${e.Nsid} ${e.Hostid} ${e.Maprange}`).join('\n') : null;
    },
    state: () => world,
  };
}
export { simServer, simServerExec, simServerOf, type SimServer } from './remote.js';
export { freshHostsWorld, simHost, simHostsOf, type SimHost, type SimHosts } from './hosts.js';
