// What a daemon flavour is, as data: every place that acts differently for Debian's LXD, the snap
// LXD or Incus reads it from one of these descriptors (debian.ts, snap.ts, incus.ts).

export type Flavour = 'debian' | 'incus' | 'snap';

export interface FlavourInfo {
  flavour: Flavour;
  /** The daemon's name in every plan word and progress line. */
  daemonName: 'LXD' | 'Incus';
  /** The daemon and how it is packaged, as the plan's level headers name it. */
  title: string;
  /** The command-line client (`lxc exec`, `lxc query`, …). */
  client: 'lxc' | 'incus';
  /** `lxd init --preseed` and its kin; the YAML goes on stdin. */
  initArgv: readonly string[];
  /** Waits for the daemon; the timeout in seconds is appended. */
  waitReadyArgv: readonly string[];
  socket: string;
  /** The group whose members may use the socket. */
  adminGroup: string;
  /** The systemd unit whose start time says when the daemon last read its files. */
  unit: string;
  /** Restarts the daemon without stopping its containers. */
  restartArgv: readonly string[];
  /** Needs systemd to run restartArgv (the snap has its own restart). */
  restartNeedsSystemd: boolean;
  /** The managed bridge `init` creates. */
  bridge: string;
  /**
   * When the daemon reads /etc/subuid and /etc/subgid at start:
   * 'with-files' (LXD: both files exist), 'with-newuidmap' (Incus: both files and
   * newuidmap/newgidmap), 'never' (the snap sees its own /etc).
   */
  readsSubid: 'with-files' | 'with-newuidmap' | 'never';
  /**
   * How an isolated slice must fit the end of the daemon's range in findIdmap: LXD strict
   * `offset+size < end` (lxd/instance/drivers/driver_lxc.go), Incus >= 6.0.3 `<=`
   * (internal/server/instance/drivers/driver_lxc.go, "Fix off by one idmap check"). The gaps
   * between other slices are tested strictly by both.
   */
  idmapFit: 'strict' | 'inclusive';
  /**
   * What security.idmap.size does to a container that is not isolated: LXD ignores it (the
   * container gets a copy of the daemon's whole map); Incus >= 6.0.3 shortens every entry of
   * that copy longer than the size to the size (findIdmap, "Respect restrict.idmap.size on
   * un-isolated containers").
   */
  nonIsolatedSize: 'ignored' | 'shortens';
  /**
   * How findIdmap counts an isolated neighbour without volatile.idmap.base (no map computed
   * yet): LXD as a slice at base 0, Incus >= 6.0.3 not at all ("Skip instances without idmap
   * allocation yet").
   */
  unallocatedNeighbour: 'at-zero' | 'skipped';
  /** Where the daemon's files live, for its own error messages (the simulator quotes them). */
  paths: { bin: string; containers: string; logs: string };
}

/** The five keys whose change makes the daemon compute a new map (LXD and Incus driver_lxc.go Update). */
export const IDMAP_KEYS: readonly string[] = [
  'security.idmap.isolated',
  'security.idmap.base',
  'security.idmap.size',
  'raw.idmap',
  'security.privileged',
];
