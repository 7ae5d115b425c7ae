// A remote's top level, observed through the client: no shell runs on that machine, so the facts
// the probe script would read there are put together from `lxc query REMOTE:/1.0/…` (the same
// queries the script asks) and the daemon's range read by an empty probe instance
// (core/ids/remote-range.ts), written as root's one entry of /etc/subuid and /etc/subgid as the
// daemon sees it. parseProbe then reads them as it reads the script's answer.

import { ask } from './bounded.js';
import { flavourInfo, type Flavour } from '../../core/flavour/index.js';
import type { IdRange } from '../../core/ids/range.js';
import type { ObservedLevel } from '../../core/observed.js';
import { parseProbe } from '../../core/observe/parse-probe.js';
import type { Exec } from '../../ports/exec.js';
import type { ProbeWants } from '../../ports/lxd.js';
import { type Cli, projectArgs, type RemoteTop } from '../nested-exec.js';
import { ADDRESSES_QUERY, IMAGES_QUERY, INSTANCES_QUERY, POOLS_QUERY, PROBE_MARK, PROFILES_QUERY } from './probe-script.js';

/** A remote's top level: where it is, and its daemon's range (read once, by the caller's probe instance). */
export interface RemoteLevelTop extends RemoteTop {
  range: () => Promise<{ uid: IdRange; gid: IdRange }>;
}

/** A cluster's members with their status and groups (LXD shared/api/cluster.go, ClusterMember). */
export const CLUSTER_MEMBERS_QUERY = '/1.0/cluster/members?recursion=1';

/** `lxc [--project P] query REMOTE:URL`. */
export const remoteQueryArgv = (cli: Cli, top: RemoteTop, url: string): string[] => [
  cli,
  ...projectArgs(top),
  'query',
  `${top.remote}:${url}`,
];

const fact = (name: string, status: string, body = ''): string => `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`;

/** `wants.addresses`: ADDRESSES_QUERY too, as the probe script reads it after its ADDRESSES_ARG. */
export async function probeRemoteTop(
  exec: Exec,
  cli: Cli,
  top: RemoteLevelTop,
  flavour: Flavour,
  wants: ProbeWants = {},
): Promise<ObservedLevel> {
  const read = async (name: string, url: string): Promise<string> => {
    const r = await ask(exec, remoteQueryArgv(cli, top, url));
    return fact(name, String(r.code), r.code === 0 ? r.stdout : r.stderr);
  };
  const queries: Array<[string, string]> = [
    ['server', '/1.0'],
    ['instances', INSTANCES_QUERY],
    ...(wants.addresses ? [['addresses', ADDRESSES_QUERY] as [string, string]] : []),
    ['images', IMAGES_QUERY],
    ['pools', POOLS_QUERY],
    ['networks', '/1.0/networks?recursion=1'],
    ['profiles', PROFILES_QUERY],
    // Answered only by a cluster (a standalone server refuses it, and /1.0 says it is not clustered).
    ['members', CLUSTER_MEMBERS_QUERY],
  ];
  const [range, answers] = await Promise.all([top.range(), Promise.all(queries.map(([name, url]) => read(name, url)))]);
  const entry = (r: IdRange): string => `root:${r.start}:${r.size}\n`;
  const installed = flavourInfo(flavour).client === 'incus' ? 'has_incus' : flavour === 'snap' ? 'has_snap_lxd' : 'has_lxd';
  const lines = [
    fact('now', String(Date.now() / 1000)),
    fact('systemd', 'yes'),
    // The machine's own namespace is not visible through the API: taken as the whole id space.
    fact('uid_map', '0', '         0          0 4294967295\n'),
    fact('subuid', '0', entry(range.uid)),
    fact('subgid', '0', entry(range.gid)),
    fact('subuid_orig', 'absent'),
    fact('subgid_orig', 'absent'),
    fact(installed, 'yes'),
    ...answers,
  ];
  return parseProbe('', `${lines.join('\n')}\n`, PROBE_MARK, flavour);
}
