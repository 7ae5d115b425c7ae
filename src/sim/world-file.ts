// The world file's format (`--world FILE`, schemas/world.schema.json; read by parse-world.ts):
// a plain description of machines, their daemons, images, instances and files, with its defaults.

import type { Flavour } from '../core/manifest/model.js';

/** What Debian's lxd package writes into /etc/subuid and /etc/subgid at install time. */
export const DEBIAN_SUBID = 'root:100000:10000001\n';

/** A fresh world's kernel release: Debian 12's, as on the lab. */
export const DEFAULT_KERNEL = '6.1.0-28-amd64';

export const VERSIONS: Record<Flavour, string> = { debian: '5.0.2', incus: '6.0.4', snap: '5.21.3' };

/** A file with its bytes (exactly one of content and base64), mode ("0644") and owner; defaults 0644, 0:0. */
export interface FileDescription {
  content?: string;
  base64?: string;
  mode?: string;
  uid?: number;
  gid?: number;
}

export interface LxdDescription {
  flavour: Flavour;
  /** Default: 5.0.2 (Debian 12), 6.0.4 (Incus), 5.21.3 (snap). */
  version?: string;
  /** up (default on the host), socket (starts on first use), down. */
  daemon?: 'up' | 'socket' | 'down';
  /** Storage pool, managed bridge and a default profile with root disk and eth0; true = default, the flavour's bridge, 10.66.0.1/24. */
  initialised?: boolean | { pool?: string; bridge?: string; ipv4?: string; driver?: string };
}

export interface ImageLxdDescription {
  flavour: Flavour;
  version?: string;
  /** The files the image ships; default for debian: root:100000:10000001, else none. null = no file. */
  subuid?: string | null;
  subgid?: string | null;
}

export interface ImageDescription {
  alias?: string;
  aliases?: string[];
  /** Default: derived from the first alias. */
  fingerprint?: string;
  /** Containers from this image run LXD: true = Debian's LXD 5.0.2 with its default files. */
  lxd?: boolean | ImageLxdDescription | null;
  /** Default: true when it carries LXD. */
  systemd?: boolean;
  /** newuidmap/newgidmap installed; default: true when it carries a non-snap LXD. */
  uidmapTools?: boolean;
  /** /bin/sh in the image; default true. false: nothing can be run inside its containers. */
  shell?: boolean;
  /** Debian's lxc package in the image (as the lab's `nestlxc`); default false. */
  lxc?: boolean;
}

export interface LevelDescription {
  /** Absent on the host: Debian's LXD 5.0.2, up, not initialised. null: no LXD installed. */
  lxd?: LxdDescription | null;
  systemd?: boolean;
  uidmapTools?: boolean;
  /** Absent key: the flavour's default (Debian: root:100000:10000001). null: the file is absent. */
  subuid?: string | null;
  subgid?: string | null;
  /**
   * Other files at the level, path → text (e.g. the backups /etc/subuid- and
   * /var/lib/nestctl/subuid.orig), or → the file with its owner and mode (files inside containers).
   */
  files?: Record<string, string | FileDescription>;
  images?: ImageDescription[];
  /** Profiles besides "default" (which init makes). */
  profiles?: ProfileDescription[];
  instances?: InstanceDescription[];
  /** Classic LXC installed (Debian's lxc 5.0.2 unless said), its accounts, lxc-usernet and containers. Absent: not installed. */
  lxc?: LxcDescription;
}

export interface LxcDescription {
  /** `lxc-ls --version`; default 5.0.2 (Debian 12). */
  version?: string;
  /** AppArmor enabled: the kernel's, so inside containers the host's (the default there; true on the host). */
  apparmor?: boolean;
  /** Accounts that exist: name → home. */
  users?: Record<string, string>;
  /** The text of /etc/lxc/lxc-usernet; absent: no such file. */
  usernet?: string;
  containers?: LxcContainerDescription[];
}

export interface LxcContainerDescription {
  /** root (default) or one of `users`. */
  owner?: string;
  name: string;
  /** Default RUNNING. */
  state?: 'RUNNING' | 'STOPPED';
  /** The container's config file; default: what `lxc-create -t busybox` writes from the owner's default.conf. */
  config?: string;
  /** init's /proc/PID/uid_map while it runs ("0 START SIZE"); default: the config's lxc.idmap, or the whole range. */
  uidMap?: string;
  /** The machine inside, for a rootfs with LXC (local or download template): its files and LXC. Absent: a busybox rootfs. */
  inside?: LevelDescription;
}

export interface ProfileDescription {
  name: string;
  description?: string;
  config?: Record<string, string>;
  devices?: Record<string, Record<string, string>>;
}

export interface HostDescription extends LevelDescription {
  /** /proc/self/uid_map (and gid_map) text; default "0 0 4294967295". */
  uidMap?: string;
  /** The kernel release (uname -r), the same at every level; default DEFAULT_KERNEL. */
  kernel?: string;
  /** The other daemon installed beside `lxd` (Incus beside LXD, or LXD beside Incus), with its own images. */
  beside?: LxdDescription & { images?: ImageDescription[] };
}

export interface InstanceDescription {
  name: string;
  /** Alias or fingerprint in that level's image store. */
  image: string;
  /** Default Running. */
  status?: 'Running' | 'Stopped';
  /**
   * Its create was cut short (the daemon killed while it unpacked the image): stopped, never
   * started, without volatile.apply_template (core/plan/half-made.ts).
   */
  createInterrupted?: boolean;
  /** Default ["default"]. */
  profiles?: string[];
  /** Own config; volatile.idmap.* given here are taken as they are (e.g. to pin an old map). */
  config?: Record<string, string>;
  /** The LXD inside (only for images that carry one): its files, images, containers, … */
  inside?: LevelDescription;
  /** On a cluster's machine (a server with `members`): the member it is on; default: the one with the fewest instances. */
  location?: string;
}

/** A member of a simulated cluster. */
export interface MemberDescription {
  /** The ids its daemon hands out, "START:SIZE" (uid and gid alike); default: what the machine's daemon loaded from its /etc/subuid. */
  range?: string;
  /** Its cluster groups; default none. */
  groups?: string[];
  /** As /1.0/cluster/members says; default Online. */
  status?: string;
}

export interface WorldDescription {
  /** Logical clock at the start, seconds since the epoch. */
  clock?: number;
  host: HostDescription;
  /** Image servers reachable from the host: remote name → images. */
  remotes?: Record<string, ImageDescription[]>;
  /** LXD/Incus remotes of the client's configuration, by remote name: each a machine of its own. */
  servers?: Record<string, ServerDescription>;
  /** Built from a server's `members` (serverWorld): the machine is a cluster's. */
  cluster?: Record<string, MemberDescription>;
}

export interface ServerDescription {
  /** environment.server_name; default: the remote's name. */
  serverName?: string;
  /** sha256 of its certificate, hex; default: derived from the server name. */
  fingerprint?: string;
  /** A cluster: its members by name (`environment.server_clustered` true); absent: a standalone server. */
  members?: Record<string, MemberDescription>;
  host: HostDescription;
}

/** A server's machine as a world of its own, reaching the same image servers. */
export const serverWorld = (desc: WorldDescription, server: ServerDescription): WorldDescription => ({
  ...(desc.clock !== undefined ? { clock: desc.clock } : {}),
  host: server.host,
  ...(desc.remotes ? { remotes: desc.remotes } : {}),
  ...(server.members ? { cluster: server.members } : {}),
});
