// A simulated world as its users see it: the machine to run commands on (machine.ts), and what a
// test may inspect that a real machine would show (cat /proc/self/uid_map, the daemon's log, …)
// or do by hand (stop a daemon, edit a file).

import type { Flavour } from '../core/flavour/index.js';
import type { Exec } from '../ports/exec.js';
import { buildWorld } from './build-world.js';
import { setFile } from './files.js';
import { LXC_VERSION } from './lxc.js';
import { simMachine } from './machine.js';
import type { LevelState, OpRecord, World } from './state.js';
import type { WorldDescription } from './world-file.js';
import { findLevel, lxcContainerAt, record, tick } from './world.js';

export type DaemonRange =
  | { kind: 'range'; start: number; size: number }
  /** LXD found no usable range: "Only privileged containers will be able to run". */
  | { kind: 'privileged-only' }
  /** No daemon running there (not started yet, down, or no LXD). */
  | { kind: 'not-running' };

/** How the client gets into one container on the way to a level: `lxc exec` into an LXD instance, or `lxc-attach` into a classic LXC container as its owner. */
export type RouteStep = { name: string; via: 'lxd'; flavour: Flavour | null } | { name: string; via: 'lxc'; user: string | null };

export interface SimulatedWorld {
  /** The host: argv in, the tools' answers out. The real client (ExecLevel) runs over it. */
  machine(): Exec;
  /** The host's daemon flavour (the one its client talks to), null without one. */
  hostFlavour(): Flavour | null;
  /** The containers on the way from the host to the level at `path`, each with the flavour of the daemon inside (lxd) or its owner (lxc); null when there is no such level. */
  route(path: string): RouteStep[] | null;
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
  /** The names of the snapshots of container `name` at the level `path`, oldest first. */
  snapshots(path: string, name: string): string[];
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

export function simulateWorld(desc: WorldDescription): SimulatedWorld {
  return simulatedWorldOf(buildWorld(desc));
}

/** The world as a SimulatedWorld (its state is shared, not copied). */
export function simulatedWorldOf(world: World): SimulatedWorld {
  return {
    machine: () => simMachine(world),
    hostFlavour: () => world.host.lxd?.flavour ?? null,
    route: (path) => route(world, path),
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
      if (daemon?.kind !== 'up') return { kind: 'not-running' };
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
      setFile(world, path, file, Buffer.from(text, 'utf8'), {
        mode: owner.mode ?? before?.mode ?? 0o644,
        uid: owner.uid ?? before?.uid ?? 0,
        gid: owner.gid ?? before?.gid ?? 0,
      });
      record(world, path, 'edit-file', file);
    },
    commands: (path) => world.log.filter((r) => r.path === path && r.op === 'exec').map((r) => JSON.parse(r.detail) as string[]),
    snapshots: (path, name) => (findLevel(world, path)?.lxd?.instances.find((i) => i.name === name)?.snapshots ?? []).map((s) => s.name),
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
      return c && c.state === 'RUNNING'
        ? c.uidMap
            .filter((e) => e.Isuid)
            .map((e) => `${e.Nsid} ${e.Hostid} ${e.Maprange}`)
            .join('\n')
        : null;
    },
    state: () => world,
  };
}

function route(world: World, path: string): RouteStep[] | null {
  const steps: RouteStep[] = [];
  let level: LevelState = world.host;
  for (const name of path === '' ? [] : path.split('/')) {
    const inst = level.lxd?.instances.find((i) => i.name === name);
    const lxc = inst ? null : lxcContainerAt(level, name);
    if (inst) steps.push({ name, via: 'lxd', flavour: inst.inside.lxd?.flavour ?? null });
    else if (lxc) steps.push({ name, via: 'lxc', user: lxc.owner === 'root' ? null : lxc.owner });
    else return null;
    level = inst ? inst.inside : lxc!.inside!;
  }
  return steps;
}
