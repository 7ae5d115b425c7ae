// The validated, defaults-applied manifest: what the user asked for, with source positions
// kept so later stages (allocation, planning) can still point at file:line:col.

export type { Flavour } from '../flavour/model.js';
import type { Flavour } from '../flavour/model.js';

export interface SourcePos {
  line: number; // 1-based
  col: number; // 1-based
}

export interface IdmapSpec {
  isolated: boolean;
  /** security.idmap.size; when absent the allocator chooses what the subtree needs. */
  size: number | null;
}

/** A file nestctl keeps inside a container (core/manifest/files.ts checks and builds it). */
export interface FileSpec {
  /** Absolute path inside the container. */
  path: string;
  /** The manifest's `source` (relative to the manifest), or null for inline `content`. */
  source: string | null;
  /** The bytes, base64; null only until the CLI has read `source` (cli/sources.ts). */
  data: string | null;
  mode: number;
  uid: number;
  gid: number;
  pos: SourcePos;
  /** Set for a file nestctl adds itself (not in `files:`): what in the manifest implies it. */
  implied?: string;
}

/** A profile nestctl keeps on a level's LXD (core/manifest/profiles.ts checks and builds it). */
export interface ProfileSpec {
  name: string;
  description: string;
  /** Values as LXD stores them (strings), without nestctl's marker. */
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  pos: SourcePos;
}

export interface ContainerSpec {
  name: string;
  /** Address in the tree: "c1/c2/c3". */
  path: string;
  /** Alias or fingerprint on the host's LXD, or "remote:alias" (defaults applied). */
  image: string;
  /** Profiles in order (defaults applied; "default" when nothing is said). */
  profiles: string[];
  /** User config (defaults merged, node wins), every value already a string as LXD stores it. */
  config: Record<string, string>;
  /** Config keys (or `prefix.*`) left alone once created: neither updated nor unset as drift. */
  ignoreChanges: string[];
  /** An existing container nestctl did not create may be taken over (else it is refused). */
  adopt: boolean;
  idmap: IdmapSpec | null;
  docker: boolean;
  /**
   * Ids of the range Docker's userns-remap (user dockremap) gets inside the container, or null
   * without `docker.userns_remap`. Implies `docker`.
   */
  dockerRemap: number | null;
  /** Flavour of the daemon inside this container (only meaningful when it has children); null: found, or the parent's assumed. */
  flavour: Flavour | null;
  /** Files kept inside it, in manifest order. */
  files: FileSpec[];
  /** Setup commands (argv lists), run once in order after it is created; empty when none. */
  setup: string[][];
  /** The name of the host (an entry of `hosts:`, or "local" for `host:`) a root container lives on; a nested one's is its root's. */
  host: string;
  /** Cluster member or "@group" a root container is placed on, with where the manifest says so; null: the server chooses (and nested containers). */
  target: { value: string; pos: SourcePos } | null;
  containers: ContainerSpec[];
  /** Profiles declared on the LXD inside it (`inside: {profiles}`); empty when none. */
  insideProfiles: ProfileSpec[];
  /** Classic LXC containers run inside this one (`runtime: lxc` children), in manifest order. */
  lxc: LxcSpec[];
  /** `copy_of:`: created as a copy of this sibling, whose image, files, setup and containers it took (build.ts); null: from its image. */
  copyOf: CopySource | null;
  /** Position of the node's mapping (for diagnostics about the node as a whole). */
  pos: SourcePos;
}

/** The sibling a container is a copy of, and what it took from it that comes with the copy. */
export interface CopySource {
  name: string;
  path: string;
  /** How many of the copy's setup commands are its source's (the first ones): they ran in the source and come with the copy. */
  setup: number;
  /** The copy's files that are its source's (same path, content, mode and owner): they come with the copy. */
  files: string[];
  pos: SourcePos;
}

/** Where a host's daemon is reached: this machine, or a remote of the lxc/incus client's configuration. */
export type HostPlace =
  | { kind: 'local' }
  | {
      kind: 'remote';
      /** The remote's name in the client's configuration. */
      remote: string;
      /** `cli:` as written; null: not given (what is used is `client`). */
      cli: 'lxc' | 'incus' | null;
      /** The client whose configuration holds it: `cli:`, else the flavour's (core/manifest/hosts.ts, remoteDaemon). */
      client: 'lxc' | 'incus';
      /** The daemon that client talks to there: HostSpec.flavour, else the client's. HostSpec.flavour stays null when the manifest names none. */
      flavour: Flavour;
      project: string | null;
      /** argv prefix that runs a host-level step (subid edit, daemon restart) on that machine; null: none is run there. */
      shell: string[] | null;
    };

/** The name `host:` gives the one host it describes. */
export const LOCAL_HOST = 'local';

/**
 * A classic LXC container (`runtime: lxc`), run by lxc-create/lxc-start rather than by the
 * level's LXD. Kept apart from ContainerSpec so that nothing planning LXD instances can ever
 * take one for an LXD container.
 */
export interface LxcSpec {
  runtime: 'lxc';
  name: string;
  /** Address in the tree: "c1/box". */
  path: string;
  /** The account that runs it unprivileged (under ~USER/.local/share/lxc); null: root-owned, under /var/lib/lxc. */
  user: string | null;
  /** lxc-create's template (`-t`) and the words after `--`. */
  template: string;
  templateArgs: string[];
  /** Raw lxc.* keys merged into the container's config after lxc-create, values as one-line text. */
  config: Record<string, string>;
  /** The bridge its veth joins; null: the level's LXD bridge (its flavour's). */
  bridge: string | null;
  /** The host it lives on, as ContainerSpec.host: its root container's, or the one its top-level entry names. */
  host: string;
  /** LXC containers inside this one (it then includes LXC's nesting.conf). */
  containers: LxcSpec[];
  pos: SourcePos;
}

export interface HostSpec {
  /** The key in `hosts:`, or LOCAL_HOST. */
  name: string;
  /** Where the manifest describes it, for messages: "host" or "hosts.NAME". */
  section: string;
  place: HostPlace;
  /** Owner of the subordinate id lines nestctl manages (LXD reads only root's). */
  owner: string;
  /** Start of the host allocation; null keeps a large-enough existing entry. */
  base: number | null;
  /** argv that restarts the host daemon without stopping containers; null = detect. */
  restart: string[] | null;
  /** Override of the detected host flavour. */
  flavour: Flavour | null;
  /** Position of the host's mapping (its key in `hosts:`, or `host:`). */
  pos: SourcePos;
  /** Profiles declared on the host's LXD; empty when none. */
  profiles: ProfileSpec[];
}

/**
 * A `moved:` entry: the container once at `from` is the one now at `to`, beside it (the same
 * parent; core/manifest/moved.ts checks the entries, core/plan/moves.ts plans them).
 */
export interface MoveSpec {
  from: string;
  to: string;
  /** The entry's mapping. */
  pos: SourcePos;
}

export interface Manifest {
  apiVersion: 'nestctl/v1';
  /** Path as given by the user, used in diagnostics. */
  file: string;
  /** The first host (the only one of a `host:` manifest): the one today's planner and engine work on. */
  host: HostSpec;
  /** Every host, in manifest order; `host:` (or neither) gives one, named LOCAL_HOST. */
  hosts: HostSpec[];
  containers: ContainerSpec[];
  /** Classic LXC containers on a host itself (each names its host; only this machine runs them so far). */
  lxc: LxcSpec[];
  /** Source positions of a few host keys, for allocation diagnostics. */
  hostPos: SourcePos;
  /** `moved:` entries, in manifest order; empty when none. */
  moves: MoveSpec[];
}

/** The container runs containers of its own, LXD's or classic LXC's (it then needs nesting). */
export const hostsContainers = (spec: ContainerSpec): boolean => spec.containers.length > 0 || spec.lxc.length > 0;
/** Its inside is a level of the plan: it hosts containers, or its subid files hold Docker's dockremap entries. */
export const hasLevel = (spec: ContainerSpec): boolean => hostsContainers(spec) || spec.dockerRemap !== null;

/** An LXD container of the manifest's, at any depth. */
export function hasPath(manifest: Pick<Manifest, 'containers'>, path: string): boolean {
  const walk = (specs: ContainerSpec[]): boolean => specs.some((s) => s.path === path || walk(s.containers));
  return walk(manifest.containers);
}

/** A classic LXC container of the manifest's, at the host or in an LXD container. */
export function hasLxcPath(manifest: Pick<Manifest, 'containers' | 'lxc'>, path: string): boolean {
  const walk = (specs: ContainerSpec[]): boolean => specs.some((s) => s.lxc.some((l) => l.path === path) || walk(s.containers));
  return manifest.lxc.some((l) => l.path === path) || walk(manifest.containers);
}
