// One LXD host ("level"): the machine, or the LXD (or Incus) running inside a container. The
// real client implements it (adapters/lxd/level.ts: Exec and nested `lxc exec`), over this
// machine's processes or a simulated machine (sim/), so the engine cannot tell them apart; the
// planner never sees it, only what probe() returned. Every method throws EnvironmentError (CommandError, UnseenError) on failure.

import type { Flavour } from '../core/flavour/index.js';
import type {
  FileState,
  ObservedFile,
  ObservedImage,
  ObservedInstance,
  ObservedLevel,
  ObservedLxc,
  ObservedProfile,
} from '../core/observed.js';
import type { ProfileBody } from '../core/plan/model.js';
import type { ExecResult, OutputListener } from './exec.js';

/** Files of an exported image sitting at some level, ready to push or import. */
export interface ImageBundle {
  /** Level path where the files are now. */
  level: string;
  fingerprint: string;
  /** Absolute paths at that level: [metadata, rootfs] or [unified]. */
  files: string[];
}

export interface InstanceSpec {
  name: string;
  /** Image fingerprint at this level. */
  fingerprint: string;
  profiles: string[];
  config: Record<string, string>;
  /** A root container of a cluster: the member or "@group" it is created on (`--target`). */
  target?: string;
}

export interface InstanceUpdate {
  /** Keys to set (values as strings). */
  set: Record<string, string>;
  /** Keys to remove (`config unset`, one key each); each must be set. */
  unset?: string[];
  /** New profile list, when it changes. */
  profiles?: string[];
}

export type SubidFile = 'subuid' | 'subgid';

export interface SubidWriteOptions {
  /** A restore: drop the record of the original (and an empty text is allowed). */
  forgetOriginal?: boolean;
  /** The planned entry lines (core/subid/file.ts entryLines) the new text must hold. */
  entries?: readonly string[];
}

/** A file to write inside a container. */
export interface FileWrite {
  path: string;
  /** The bytes, base64. */
  data: string;
  mode: number;
  uid: number;
  gid: number;
  /** The sha256 it must have now, null: it must be absent, "any": not checked (planned before the container existed). */
  expected: string | null | 'any';
}

/** Who runs a classic LXC container: a user (with their home, as the probe found it) or root. */
export interface LxcOwner {
  /** null: root, with its containers under /var/lib/lxc. */
  user: string | null;
  /** The user's home; null for root. */
  home: string | null;
}

/** lxc-create of a classic LXC container. */
export interface LxcCreate {
  name: string;
  owner: LxcOwner;
  template: string;
  templateArgs: readonly string[];
  /** Root only: the config it is created with (lxc-create -f); a user's comes from their default.conf. */
  config: string | null;
}

/** What a probe reads beyond what the planner needs. */
export interface ProbeWants {
  /** The instances' IPv4 addresses (ObservedInstance.ipv4): only `status` shows them, nothing is planned from them. */
  addresses?: boolean;
}

export interface LxdLevel {
  /** "" for the host, "c1/c2" inside containers. */
  readonly path: string;
  /**
   * One round trip that reads everything the planner needs about this level. Inside a container,
   * throws UnseenError when the probe cannot run there at all (no shell, exec refused). The
   * instances' addresses are read only when `wants.addresses` asks for them.
   */
  probe(wants?: ProbeWants): Promise<ObservedLevel>;
  /*
   * Targeted reads, one round trip each and far cheaper than probe(): what a step re-checks just
   * before it acts when it depends on that one fact only.
   */
  /** Every instance of the daemon, as probe() lists them (all projects). */
  instances(): Promise<ObservedInstance[]>;
  /** The daemon's image store, as probe() lists it. */
  images(): Promise<ObservedImage[]>;
  /** The daemon's profiles, as probe() lists them. */
  profiles(): Promise<ObservedProfile[]>;
  /** /etc/subuid or /etc/subgid as it is now (text and sha256; null when absent); no mtime. */
  readSubid(file: SubidFile): Promise<Pick<FileState, 'text' | 'sha256'>>;
  /**
   * Replace /etc/subuid or /etc/subgid atomically (temp + rename, same mode, backup to
   * /etc/subuid-, honouring /etc/subuid.lock). Refuses when the current content's sha256
   * differs from expectedSha256 (null = the file must be absent), when the file is a symlink, and
   * when `text` is not a whole subid file holding every line of `entries` (sent apart from the
   * text; core/subid/check-text.ts; an empty text only with forgetOriginal or over an empty file).
   * The first write at a level keeps the untouched file as /var/lib/nestctl/FILE.orig;
   * `forgetOriginal` (after a restore) removes that record.
   */
  writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options?: SubidWriteOptions): Promise<void>;
  /** Restart the daemon without stopping containers (argv override or detected), then wait for it. */
  restartDaemon(command: readonly string[] | null): Promise<void>;
  /** `lxd init --preseed` (Incus: `incus admin init --preseed`) with the given YAML on stdin. */
  initDaemon(preseedYaml: string): Promise<void>;
  /** Fetch "remote:alias" into this level's image store under the given alias. */
  fetchImage(remoteRef: string, alias: string): Promise<void>;
  exportImage(fingerprint: string): Promise<ImageBundle>;
  /** Push a bundle held at this level into child container `childName`; returns the copy there. */
  pushBundle(bundle: ImageBundle, childName: string): Promise<ImageBundle>;
  importImage(bundle: ImageBundle, aliases: readonly string[]): Promise<void>;
  discardBundle(bundle: ImageBundle): Promise<void>;
  createInstance(spec: InstanceSpec): Promise<void>;
  /** Start and, when `waitBoot`, wait until the container has finished booting (its daemons run). */
  startInstance(name: string, waitBoot: boolean): Promise<void>;
  stopInstance(name: string): Promise<void>;
  /** `rename NAME NEW` of a stopped container: LXD refuses a running one, and a name in use. */
  renameInstance(name: string, newName: string): Promise<void>;
  /** `snapshot NAME SNAPSHOT`, running or not (a stateless snapshot: its disk as it is now). */
  snapshotInstance(name: string, snapshot: string): Promise<void>;
  /** `copy SOURCE/SNAPSHOT NAME [--target T]`: a new stopped container from the snapshot's disk and config. */
  copyInstance(source: string, snapshot: string, name: string, target?: string): Promise<void>;
  /** `delete NAME/SNAPSHOT`. */
  deleteSnapshot(name: string, snapshot: string): Promise<void>;
  /** `restore NAME SNAPSHOT`: its disk and config as the snapshot holds them; a running container is restarted. */
  restoreSnapshot(name: string, snapshot: string): Promise<void>;
  /** `delete --force`: running or not, with everything inside it (the caller proved it all deletable). */
  deleteInstance(name: string): Promise<void>;
  updateInstance(name: string, update: InstanceUpdate): Promise<void>;
  /** `profile create NAME`, then the whole profile written (`profile edit NAME`, YAML on stdin). */
  createProfile(name: string, body: ProfileBody): Promise<void>;
  /** The whole profile written again (`profile edit NAME`): keys and devices not in `body` go. */
  writeProfile(name: string, body: ProfileBody): Promise<void>;
  /** `profile delete NAME` (LXD refuses while an instance uses it). */
  deleteProfile(name: string): Promise<void>;
  /**
   * The state of these files inside running container `name`, in one round trip; null for an
   * absent one. Throws UnseenError when nothing can run there (no shell).
   */
  readFiles(name: string, paths: readonly string[]): Promise<Record<string, ObservedFile | null>>;
  /** Write a file inside container `name` (temp + rename, owner and mode set); refuses as stale when it is not as expected. */
  writeFile(name: string, file: FileWrite): Promise<void>;
  /**
   * Run argv inside container `name`; a non-zero exit is returned, not thrown. With `onOutput`
   * the output streams there as it comes and is not kept (the result's stdout and stderr are empty).
   */
  runIn(name: string, argv: readonly string[], onOutput?: OutputListener): Promise<ExecResult>;
  /**
   * Classic LXC at this level, one round trip: whether it is installed, /etc/lxc/lxc-usernet, and
   * for each owner ("root" or a user name) the home, default.conf and containers with their
   * state, init's uid_map and config. `everyOwner`: root and every account whose
   * ~/.local/share/lxc holds containers too, besides `owners` (a deletion must see them all).
   */
  probeLxc(owners: readonly string[], options?: { everyOwner?: boolean }): Promise<ObservedLxc>;
  /**
   * Write an LXC file: /etc/lxc/lxc-usernet as root (owner "root"), or a file of a user's as that
   * user (its default.conf, a container's config). Refuses as stale when its sha256 is not
   * `expected` (null: it must be absent). The first write of lxc-usernet keeps the file as
   * /var/lib/nestctl/lxc-usernet.orig; `forgetOriginal` (after a restore) removes that record.
   */
  writeLxcFile(file: string, owner: string, text: string, expected: string | null, options?: { forgetOriginal?: boolean }): Promise<void>;
  lxcCreate(spec: LxcCreate): Promise<void>;
  /**
   * Wait until the level's daemon answers (`lxd waitready`, `incus admin waitready`); a
   * socket-activated one starts now, and with it the bridge it manages.
   */
  waitDaemon(): Promise<void>;
  /** lxc-start, daemonised, as the owner; `systemd-run`: in a delegated scope of the owner's. */
  lxcStart(name: string, owner: LxcOwner, cgroup: 'none' | 'systemd-run'): Promise<void>;
  /** lxc-stop -k (when `running`) and lxc-destroy, as the owner. */
  lxcDelete(name: string, owner: LxcOwner, running: boolean): Promise<void>;
  /**
   * The daemon inside container `name`; `flavour` is its flavour when the manifest or the plan
   * decided it (null: its first probe finds out). The way in goes through this level's client.
   */
  child(name: string, flavour: Flavour | null): LxdLevel;
  /**
   * The machine inside this level's classic LXC container `name` of `user` (null: root's): an
   * LXC level (LXC inside LXC), entered with `lxc-attach` as the owner.
   */
  lxcChild(name: string, user: string | null): LxdLevel;
}
