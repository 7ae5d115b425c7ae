// The simulated world as plain data: machines ("levels"), the LXD inside each, its instances,
// images, files. Behaviour lives in the neighbouring modules as functions over these values.

import type { Flavour } from '../core/manifest/model.js';
import type { LxdIdmapEntry } from './idmap.js';

export interface SimFile {
  text: string;
  /** Logical clock value of the last write. */
  mtime: number;
  /** Set for the files of an exported image: which image, which part. */
  image?: ImageFile;
  /** Set for files written inside a container (files.ts): the exact bytes (base64), mode and owner. */
  data?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** What an image hides in its rootfs: whether containers made from it run LXD, and how. */
export interface ImageDef {
  fingerprint: string;
  /** The LXD inside, or null for a leaf image (busybox). */
  lxd: { flavour: Flavour; version: string; subuid: string | null; subgid: string | null } | null;
  /** PID 1 is systemd (socket activation of the nested LXD, systemctl restarts). */
  systemd: boolean;
  /** newuidmap/newgidmap installed (Debian package `uidmap`). */
  uidmapTools: boolean;
  /** /bin/sh exists: without it nothing can be run inside (`lxc exec` fails). */
  shell: boolean;
  /** Debian's lxc package is installed in it (no accounts besides root). */
  lxc?: boolean;
}

export type DaemonState =
  /** Installed and socket-activated, not started yet: the first API call starts it. */
  | { kind: 'socket' }
  /** Not running and nothing will start it on demand. */
  | { kind: 'down' }
  | {
      kind: 'up';
      startedAt: number;
      /** The id range it loaded at start; null = only privileged containers. */
      idmap: LxdIdmapEntry[] | null;
      /** What it logged about ids at start. */
      log: string[];
    };

export interface PoolState {
  name: string;
  driver: string;
  config: Record<string, string>;
}

export interface NetworkState {
  name: string;
  type: string;
  managed: boolean;
  config: Record<string, string>;
}

export interface ProfileState {
  name: string;
  /** Absent: "" (as LXD's own default profile after init). */
  description?: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
}

export interface ImageEntry {
  fingerprint: string;
  aliases: string[];
}

export interface InstanceState {
  name: string;
  status: 'Running' | 'Stopped';
  profiles: string[];
  /** Local config, every value a string, volatile keys included (as `lxc config show`). */
  config: Record<string, string>;
  /**
   * The expanded config it last started with: what it runs with, since LXD applies some keys
   * only at start (core/flavour/start-keys.ts). Absent: as its config says (a described world).
   */
  started?: Record<string, string>;
  /** The container's disk and, while it runs, the machine inside it. */
  inside: LevelState;
  /** On a cluster's top level: the member it is on. */
  location?: string;
  /** Its snapshots (`lxc snapshot`), oldest first: its disk and config as they were then. */
  snapshots?: SnapshotState[];
}

/** A stateless snapshot: what the container held on disk and its config when it was taken. */
export interface SnapshotState {
  name: string;
  profiles: string[];
  config: Record<string, string>;
  inside: LevelState;
}

/** A member of a simulated cluster (the server's machine stands for them all; each hands out its own map). */
export interface SimMember {
  name: string;
  groups: string[];
  status: string;
  /** The ids its daemon hands out (uid and gid alike); null: what the machine's own daemon loaded. */
  range: { start: number; size: number } | null;
}

export interface LxdState {
  flavour: Flavour;
  version: string;
  daemon: DaemonState;
  pools: PoolState[];
  networks: NetworkState[];
  profiles: ProfileState[];
  images: ImageEntry[];
  instances: InstanceState[];
}

export interface LevelState {
  /** "" for the host, "c1/c2" inside containers. */
  path: string;
  systemd: boolean;
  uidmapTools: boolean;
  /** /bin/sh exists (the probe and every other command run through it). */
  shell: boolean;
  /**
   * /proc/self/uid_map and gid_map of the level, as LXD's CurrentIdmapSet reads them (host ids
   * are ids of the parent level). Inside a container: its volatile.idmap.current.
   */
  kernel: LxdIdmapEntry[];
  /** Absolute path → content: /etc/subuid, /etc/subgid, their backups, exported image files. */
  files: Record<string, SimFile>;
  /** The daemon the clients talk to (world.ts selectDaemon). */
  lxd: LxdState | null;
  /** A second daemon installed beside it (LXD and Incus on one machine), or null. */
  beside: LxdState | null;
  /** Classic LXC installed at this level (its files live in `files`); absent: not installed. */
  lxc?: LxcState;
}

/** Classic LXC at a level: its accounts and containers (configs, lxc-usernet, default.conf are `files`). */
export interface LxcState {
  version: string;
  apparmor: boolean;
  /** Accounts that exist: name → home. */
  users: Record<string, string>;
  containers: LxcContainerState[];
}

export interface LxcContainerState {
  /** "root" or the user running it. */
  owner: string;
  name: string;
  state: 'RUNNING' | 'STOPPED';
  /** init's map while it runs. */
  uidMap: LxdIdmapEntry[];
  /** The machine inside, for a container whose rootfs has LXC (made with the local or download template); absent for busybox's. */
  inside?: LevelState;
}

/** Where an exported image's files came from (the simulated file content). */
export interface ImageFile {
  fingerprint: string;
  part: 'meta' | 'rootfs';
}

export interface OpRecord {
  /** Clock when it happened. */
  t: number;
  path: string;
  op: string;
  detail: string;
}

export interface World {
  clock: number;
  /** The kernel release (uname -r): one kernel under every level. */
  release: string;
  /** Counter for temporary names and pids. */
  seq: number;
  /** Every image known anywhere, by fingerprint, with its hidden properties. */
  catalog: Record<string, ImageDef>;
  /** Image servers reachable from the host: remote name → images. */
  remotes: Record<string, ImageEntry[]>;
  host: LevelState;
  log: OpRecord[];
  /** Restart commands run per level path. */
  restarts: Record<string, string[][]>;
  /** Levels whose next create is cut short (interruptCreate), each in a test that asked for it. */
  interrupt?: Set<string>;
  /** A server that is a cluster: its members (the host level's instances carry a location). */
  cluster?: { members: SimMember[] };
}

export { joinPath } from '../core/paths.js';
