// What exists, per LXD host ("level"): the machine itself (path "") and every running
// container that hosts children (path "c1", "c1/c2", ...). Plain data, produced by the
// real probe and by the simulated LXD alike.

import type { IdRange } from './ids/range.js';
import type { Flavour } from './manifest/model.js';

/** One line of /proc/self/uid_map or an entry of volatile.idmap.current. */
export interface IdMapEntry {
  isuid: boolean;
  isgid: boolean;
  hostid: number;
  nsid: number;
  maprange: number;
}

export interface FileState {
  /** null when the file does not exist. */
  text: string | null;
  /** sha256 hex of text ("" text hashes too); null when absent. */
  sha256: string | null;
  /** Modification time, seconds since the epoch; null when absent. */
  mtime: number | null;
}

export interface ObservedImage {
  fingerprint: string;
  aliases: string[];
}

export interface ObservedInstance {
  name: string;
  /**
   * The LXD project it lives in. Every project is observed (ids are shared by all projects of a
   * daemon, so their maps must be protected too); nestctl manages only the default project.
   */
  project: string;
  /** "Running", "Stopped", ... as LXD says. */
  status: string;
  profiles: string[];
  /** The instance's own config (not expanded): every value a string. */
  config: Record<string, string>;
  /** The cluster member it is on (LXD's `location`); absent off-cluster, where LXD says "none". */
  location?: string;
  /**
   * Its global IPv4 addresses as its state lists them (empty when stopped or none); absent when
   * the state was not read. Shown by `status`, never planned from, and left out of the digest.
   */
  ipv4?: string[];
}

/** A member of a cluster, as `/1.0/cluster/members?recursion=1` lists it. */
export interface ClusterMember {
  name: string;
  /** "Online", "Offline", "Evacuated", ... as LXD says. */
  status: string;
  groups: string[];
}

/** A profile as `lxc query /1.0/profiles?recursion=1` lists it. */
export interface ObservedProfile {
  name: string;
  description: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  /** The instances (and profiles' other users) LXD lists in used_by, by name ("project P/NAME" outside the default project). */
  usedBy: string[];
}

export interface ObservedNetwork {
  name: string;
  managed: boolean;
  /** e.g. "10.77.1.1/24"; null when none or "none". */
  ipv4: string | null;
}

export type DaemonState =
  | { kind: 'missing' } // no lxd/incus installed at this level
  | { kind: 'down'; error: string } // installed, not reachable
  | { kind: 'up'; version: string; startedAt: number | null };

export interface ObservedLevel {
  path: string;
  /** The daemon the probe talked to; null when none is installed, or LXD and Incus both are and none was chosen. */
  flavour: Flavour | null;
  /** Every flavour installed, unless that is just `flavour` or nothing (absent then, so one-daemon digests stay as they were). */
  installed?: Flavour[];
  daemon: DaemonState;
  /** PID 1 is systemd (restart by systemctl). */
  systemd: boolean;
  subuid: FileState;
  subgid: FileState;
  /**
   * The files as they were before nestctl first edited them at this level
   * (/var/lib/nestctl/subuid.orig, .../subgid.orig), for `destroy --restore-ids`; null when absent.
   */
  subidOriginal: { subuid: string | null; subgid: string | null };
  /** This level's own id namespace (/proc/self/uid_map). */
  uidMap: IdMapEntry[];
  storagePools: string[];
  /** Each pool's driver (dir, zfs, btrfs, lvm, ceph…); absent when not read. */
  poolDrivers?: Record<string, string>;
  /** The kernel release (`uname -r`), shared by every level of the machine; absent when not read. */
  kernel?: string;
  networks: ObservedNetwork[];
  /** The default profile has a root disk (the level was initialised). */
  defaultProfileHasRoot: boolean;
  images: ObservedImage[];
  instances: ObservedInstance[];
  profiles: ObservedProfile[];
  /** Clock at the level when probed, seconds since the epoch. */
  now: number;
  /**
   * Classic LXC at this level; probed where the manifest has LXC containers, and for every owner
   * inside a container that may be deleted (absent otherwise).
   */
  lxc?: ObservedLxc;
  /** Why the LXC probe a deletion needed here failed (nothing may then be concluded about LXC here). */
  lxcUnseen?: string;
  /** A remote's top level that is a cluster (`environment.server_clustered`): its members; absent otherwise. */
  cluster?: { members: ClusterMember[] };
}

/** A text file as read: null when absent. */
export interface TextFile {
  text: string | null;
  sha256: string | null;
}

/** Classic LXC at one level (adapters/lxd/probe-script.ts, the `lxc` part). */
export interface ObservedLxc {
  /** `lxc-ls --version`; null: LXC is not installed. */
  version: string | null;
  /** AppArmor is enabled (/sys/module/apparmor/parameters/enabled is Y). */
  apparmor: boolean;
  /** /etc/lxc/lxc-usernet. */
  usernet: TextFile;
  /** What nestctl kept of lxc-usernet before its first edit (/var/lib/nestctl/lxc-usernet.orig). */
  usernetOriginal: string | null;
  /** By owner asked about: "root" (/var/lib/lxc) and each user the manifest names. */
  owners: Record<string, ObservedLxcOwner>;
  /** `owners` also holds every account that has containers here (asked for a deletion's proof). */
  everyOwner?: true;
}

export interface ObservedLxcOwner {
  /** The account's home directory; null: there is no such account. */
  home: string | null;
  /** ~/.config/lxc/default.conf; null for root (nestctl leaves /etc/lxc/default.conf alone). */
  defaultConf: TextFile | null;
  containers: ObservedLxcContainer[];
}

export interface ObservedLxcContainer {
  name: string;
  /** lxc-info's state: RUNNING, STOPPED, ... */
  state: string;
  /** init's /proc/PID/uid_map while it runs; empty when stopped. */
  uidMap: IdMapEntry[];
  /** Its config file (DIR/NAME/config). */
  config: { text: string; sha256: string };
}

export const MANAGED_PROJECT = 'default';

/** A cluster member's status when it answers (LXD shared/api/cluster.go; lxd/cluster/membership.go). */
export const ONLINE = 'Online';

/** The instance of that name that nestctl manages (the default project's), if any. */
export const managedInstance = (level: Pick<ObservedLevel, 'instances'>, name: string): ObservedInstance | undefined =>
  level.instances.find((i) => i.name === name && i.project === MANAGED_PROJECT);

/** How a plan names an instance: "c1", or "project team-b/c1" outside the default project. */
export const instanceLabel = (i: ObservedInstance): string => (i.project === MANAGED_PROJECT ? i.name : `project ${i.project}/${i.name}`);

/** What observation found for each level path. */
export type LevelObservation =
  | { kind: 'observed'; level: ObservedLevel }
  /** The container does not exist or is not running yet: its level is planned as new. */
  | { kind: 'absent'; reason: string }
  /**
   * The container runs but what it holds could not be looked at (the probe could not run in it:
   * no shell, exec refused). Nothing may be concluded about its inside.
   */
  | { kind: 'unseen'; reason: string };

/** A file inside a container, as the file probe saw it (adapters/lxd/files-script.ts). */
export type ObservedFile =
  | {
      kind: 'file';
      sha256: string;
      mode: number;
      uid: number;
      gid: number;
      size: number /** Content (base64) when small enough to show a diff, else null. */;
      data: string | null;
    }
  /** A directory, symlink or device where a file is wanted: nestctl never replaces it. */
  | { kind: 'other' };

/** The file at a path is already what a write would make of it: the same bytes, mode and owner. */
export function fileIsAsWanted(
  now: ObservedFile | null | undefined,
  want: { sha256: string; mode: number; uid: number; gid: number },
): boolean {
  return now?.kind === 'file' && now.sha256 === want.sha256 && now.mode === want.mode && now.uid === want.uid && now.gid === want.gid;
}

/** A container's files named by the manifest: each path's state, null when absent. */
export type ContainerFiles = { kind: 'observed'; files: Record<string, ObservedFile | null> } | { kind: 'unseen'; reason: string };

export interface ObservedTree {
  levels: Record<string, LevelObservation>;
  /** By container path: only running containers whose manifest entry has `files:`. */
  files?: Record<string, ContainerFiles>;
  /** This machine's image store, read for a remote host whose own store lacks an image the manifest names (relayed from here). */
  relay?: ObservedImage[];
  /** On a cluster: the daemon's uid and gid ranges of each member a root container is placed on (an empty probe instance there). */
  members?: Record<string, { uid: IdRange; gid: IdRange }>;
}
