// The simulated level's answers in the real tools' formats: the probe script's fact lines
// (adapters/lxd/probe-script.ts) and the JSON of `lxc query` (LXD's REST API objects,
// shared/api/*.go). core/observe/parse-probe.ts reads them as it reads a real level's;
// parseProbe(encodeProbe(level)) is the level again (test/unit/encode-probe.test.ts).

import type { Flavour } from '../core/flavour/index.js';
import { MANAGED_PROJECT, type IdMapEntry, type ObservedLevel, type ObservedProfile } from '../core/observed.js';
import { PROBE_MARK } from '../adapters/lxd/probe-script.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const fact = (name: string, status: string, body = ''): string => `${PROBE_MARK} ${name} ${status} ${b64(body)}`;

/** `/proc/self/uid_map` as the kernel prints it. */
export const procIdMap = (entries: readonly IdMapEntry[]): string => entries.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}\n`).join('');

/** `/1.0/instances?recursion=1&all-projects=true`. */
export const apiInstances = (level: ObservedLevel): unknown[] =>
  level.instances.map((i) => ({
    name: i.name,
    project: i.project,
    status: i.status,
    profiles: i.profiles,
    config: i.config,
    location: i.location ?? 'none',
  }));

/**
 * `/1.0/instances?recursion=2&all-projects=true`, as much of it as the parser reads: the state's
 * addresses (a stopped instance's state is null), for the instances whose addresses are known.
 */
export const apiAddresses = (level: ObservedLevel): unknown[] =>
  level.instances.flatMap((i) =>
    i.ipv4 === undefined
      ? []
      : [
          {
            name: i.name,
            project: i.project,
            status: i.status,
            state:
              i.status === 'Running'
                ? {
                    network: {
                      lo: { addresses: [{ family: 'inet', address: '127.0.0.1', netmask: '8', scope: 'local' }] },
                      eth0: { addresses: i.ipv4.map((address) => ({ family: 'inet', address, netmask: '24', scope: 'global' })) },
                    },
                  }
                : null,
          },
        ],
  );

/** `/1.0/images?recursion=1`. */
export const apiImages = (level: ObservedLevel): unknown[] =>
  level.images.map((i) => ({ fingerprint: i.fingerprint, aliases: i.aliases.map((name) => ({ name })) }));

/** An instance's URL in a profile's used_by ("project P/NAME" names one of another project). */
function usedByUrl(user: string): string {
  const m = /^project ([^/]+)\/(.*)$/.exec(user);
  return m
    ? `/1.0/instances/${encodeURIComponent(m[2]!)}?project=${encodeURIComponent(m[1]!)}`
    : `/1.0/instances/${encodeURIComponent(user)}`;
}

/** `/1.0/profiles?recursion=1`. */
export const apiProfiles = (profiles: readonly ObservedProfile[]): unknown[] =>
  profiles.map((p) => ({
    name: p.name,
    description: p.description,
    config: p.config,
    devices: p.devices,
    used_by: p.usedBy.map(usedByUrl),
  }));

export const apiPools = (level: ObservedLevel): unknown[] =>
  level.storagePools.map((name) => ({ name, driver: level.poolDrivers?.[name] ?? '' }));

export const apiNetworks = (level: ObservedLevel): unknown[] =>
  level.networks.map((n) => ({ name: n.name, managed: n.managed, config: n.ipv4 === null ? {} : { 'ipv4.address': n.ipv4 } }));

/** `/1.0`: who the daemon is. */
export const apiServer = (level: ObservedLevel, version: string): unknown => ({
  api_version: '1.0',
  environment: { server_version: version, server_clustered: level.cluster !== undefined },
});

export interface ProbeAnswer {
  /** The flavour the script chose itself (`asked`), when the caller named none. */
  chose?: Flavour | null;
  /** The client the script asked (`run server CLI query /1.0` and the rest); null: none asked. */
  client: string | null;
  /** The client asked is not installed there: sh's words for it. */
  missingClient?: boolean;
  /** The script was asked for the addresses (ADDRESSES_ARG): the addresses fact is there. */
  addresses?: boolean;
}

/**
 * The probe script's output for a level as the simulator holds it. `level.daemon` says what the
 * asked client got from `query /1.0`: up (then everything else is read), down (its error), or
 * missing/undecided (nothing asked).
 */
export function encodeProbe(level: ObservedLevel, answer: ProbeAnswer): string {
  const file = (name: string, f: { text: string | null; mtime?: number | null }): string =>
    f.text === null ? fact(name, 'absent') : fact(name, String(f.mtime ?? 0), f.text);
  const orig = (name: string, text: string | null): string => (text === null ? fact(name, 'absent') : fact(name, '0', text));
  const installed = level.installed ?? (level.flavour ? [level.flavour] : []);
  const has = (name: string, yes: boolean): string => fact(name, yes ? 'yes' : 'no');
  const lines = [
    fact('now', String(level.now)),
    fact('systemd', level.systemd ? 'yes' : 'no'),
    level.uidMap.length > 0 ? fact('uid_map', '0', procIdMap(level.uidMap)) : fact('uid_map', 'absent'),
    file('subuid', level.subuid),
    file('subgid', level.subgid),
    orig('subuid_orig', level.subidOriginal.subuid),
    orig('subgid_orig', level.subidOriginal.subgid),
    ...(level.kernel ? [fact('kernel', '0', `${level.kernel}\n`)] : []),
    has('has_snap_lxd', installed.includes('snap')),
    has('has_lxd', installed.includes('snap') || installed.includes('debian')),
    has('has_incus', installed.includes('incus')),
    ...(answer.chose ? [fact('asked', answer.chose)] : []),
  ];
  if (answer.client !== null) lines.push(...daemonFacts(level, answer));
  return `${lines.join('\n')}\n`;
}

function daemonFacts(level: ObservedLevel, answer: ProbeAnswer): string[] {
  const d = level.daemon;
  if (answer.missingClient) return [fact('server', '127', `sh: 1: ${answer.client}: not found\n`)];
  if (d.kind !== 'up') return d.kind === 'down' ? [fact('server', '1', `${d.error}\n`)] : [];
  const json = (v: unknown): string => `${JSON.stringify(v)}\n`;
  return [
    fact('server', '0', json(apiServer(level, d.version))),
    ...(d.startedAt !== null && d.startedAt > 0 ? [fact('daemon_started', String(d.startedAt))] : []),
    fact('instances', '0', json(apiInstances(level))),
    ...(answer.addresses ? [fact('addresses', '0', json(apiAddresses(level)))] : []),
    fact('images', '0', json(apiImages(level))),
    fact('pools', '0', json(apiPools(level))),
    fact('networks', '0', json(apiNetworks(level))),
    fact('profiles', '0', json(apiProfiles(level.profiles))),
    ...(level.cluster
      ? [fact('members', '0', json(level.cluster.members.map((m) => ({ server_name: m.name, status: m.status, groups: m.groups }))))]
      : []),
  ];
}

export { MANAGED_PROJECT };
