// A remote's id range is read, not written: an empty, non-isolated instance created on it gets a
// copy of its daemon's whole map in volatile.idmap.next (findIdmap in LXD's and Incus's
// driver_lxc.go), without an image. The tree under that host (or cluster member) is sized from
// it; when it is too small, the plan either refuses with the exact lines to add on that server,
// or, with `shell:`, plans that edit and the restart there itself.

import { flavourInfo } from '../flavour/index.js';
import type { Flavour } from '../flavour/model.js';
import type { HostSpec } from '../manifest/model.js';
import { parseLxdIdmap } from './idmap.js';
import { formatRange, type IdRange } from './range.js';

/** The daemon's uid and gid ranges as an empty instance's volatile.idmap.next shows them; null when it holds no whole-range entry of each. */
export function probedRange(idmapNext: string | undefined): { uid: IdRange; gid: IdRange } | null {
  const entries = parseLxdIdmap(idmapNext).filter((e) => e.nsid === 0 && e.maprange > 0);
  const uid = entries.find((e) => e.isuid);
  const gid = entries.find((e) => e.isgid);
  if (!uid || !gid) return null;
  return { uid: { start: uid.hostid, size: uid.maprange }, gid: { start: gid.hostid, size: gid.maprange } };
}

export type RemoteRangeVerdict =
  /** The daemon hands out enough ids to every root container: nothing is done on the host. */
  | { kind: 'fits' }
  /** Too small, and `shell:` reaches the machine: root's first entry becomes this (uid and gid), then the daemon restarts. */
  | { kind: 'grow'; uid: IdRange; gid: IdRange }
  /** Too small and out of reach: what to do there by hand. */
  | { kind: 'refused'; message: string; hint: string };

export interface RemoteRangeInput {
  host: HostSpec;
  /** The cluster member probed (a root container's target), or null for the server itself. */
  member: string | null;
  range: { uid: IdRange; gid: IdRange };
  /** Ids the daemon must hand to the root containers there (the allocation's host need). */
  need: number;
  flavour: Flavour;
}

export function remoteRangeVerdict(r: RemoteRangeInput): RemoteRangeVerdict {
  const { uid, gid } = r.range;
  if (uid.size >= r.need && gid.size >= r.need) return { kind: 'fits' };
  const info = flavourInfo(r.flavour);
  const server = r.member ? `member ${r.member} of ${remoteName(r.host)}` : remoteName(r.host);
  const has = uid.size === gid.size ? `${uid.size}` : `${uid.size} uids and ${gid.size} gids`;
  const message = `the tree on host ${r.host.name} needs ${r.need} ids from the ${info.daemonName} of ${server}, which hands out ${has} (uid ${formatRange(uid)}, gid ${formatRange(gid)})`;
  if (info.readsSubid === 'never') {
    return {
      kind: 'refused',
      message,
      hint: `a snap ${info.daemonName} takes its range from its own namespace, not from /etc/subuid; give that machine (or the container it runs in) more ids, or make the tree smaller`,
    };
  }
  const grown = { uid: { start: uid.start, size: r.need }, gid: { start: gid.start, size: r.need } };
  // shell: reaches one machine, the server's: a cluster member's files are edited by hand.
  const shell = r.member === null && r.host.place.kind === 'remote' && r.host.place.shell !== null;
  if (shell) return { kind: 'grow', ...grown };
  return {
    kind: 'refused',
    message,
    hint:
      `on ${server}, make root's first entry of at least 65536 ids root:${formatRange(grown.uid)} in /etc/subuid and root:${formatRange(grown.gid)} in /etc/subgid ` +
      `(keep the old entries after it while containers use them), then restart the daemon without stopping its containers: ${info.restartArgv.join(' ')}` +
      (r.member === null ? `; or give ${r.host.section} a shell: prefix and nestctl plans both steps there` : ''),
  };
}

function remoteName(host: HostSpec): string {
  return host.place.kind === 'remote' ? `remote ${host.place.remote}` : 'this machine';
}
