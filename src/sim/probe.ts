// What the real probe (adapters/lxd/probe-script.ts + core/observe/parse-probe.ts) would read
// from this level, built from the simulated state.

import { originalPath } from './subid.js';
import {
  type DaemonState,
  type FileState,
  type IdMapEntry,
  MANAGED_PROJECT,
  type ObservedLevel,
  type ObservedNetwork,
  type ObservedProfile,
} from '../core/observed.js';
import type { Flavour } from '../core/flavour/index.js';
import type { ProbeWants } from '../ports/lxd.js';
import { installedField, undecidedDaemon } from '../core/observe/parse-probe.js';
import { noShell, socketRefused } from './errors.js';
import { selectDaemon } from './world.js';
import { activate } from './power.js';
import { reach } from './reach.js';
import type { LevelState, LxdState, SimFile, World } from './state.js';
import { sha256 } from './subid.js';
import { instanceAddresses } from './addresses.js';

function fileState(f: SimFile | undefined): FileState {
  return f ? { text: f.text, sha256: sha256(f.text), mtime: f.mtime } : { text: null, sha256: null, mtime: null };
}

/** /proc/self/uid_map lines as the probe parses them. */
function uidMapOf(level: LevelState): IdMapEntry[] {
  return level.kernel
    .filter((e) => e.Isuid)
    .map((e) => ({ isuid: true, isgid: false, nsid: e.Nsid, hostid: e.Hostid, maprange: e.Maprange }));
}

/** The profiles as `lxc query /1.0/profiles?recursion=1` lists them; used_by is worked out from the instances, as LXD does. */
export function observedProfilesOf(lxd: LxdState): ObservedProfile[] {
  return lxd.profiles.map((p) => ({
    name: p.name,
    description: p.description ?? '',
    config: { ...p.config },
    devices: Object.fromEntries(Object.entries(p.devices).map(([k, d]) => [k, { ...d }])),
    usedBy: lxd.instances.filter((i) => i.profiles.includes(p.name)).map((i) => i.name),
  }));
}

/**
 * What the probe script reads at a level when it asks the daemon of flavour `asked` (null: none;
 * machine-scripts.ts chooses as the script does); the instances' addresses only when `wants` asks.
 */
export function probeLevel(world: World, path: string, asked: Flavour | null, wants: ProbeWants = {}): ObservedLevel {
  const argv = ['sh', '-c', '<probe>'];
  const level = reach(world, path, argv);
  if (!level.shell) throw noShell(path, argv);
  const installed = [level.lxd, level.beside].flatMap((d) => (d ? [d.flavour] : []));
  if (asked) selectDaemon(level, asked);
  const lxd = asked === null ? null : level.lxd?.flavour === asked ? level.lxd : null;
  // The probe looks for a running daemon process first, then calls `lxc query /1.0`, which
  // socket-activates a daemon that was not running yet (so that first probe sees no start time).
  const wasUp = lxd?.daemon.kind === 'up' ? lxd.daemon.startedAt : null;
  let daemon: DaemonState;
  if (installed.length === 0) daemon = { kind: 'missing' };
  else if (!lxd) daemon = undecidedDaemon(installed);
  else if (lxd.daemon.kind === 'down') daemon = { kind: 'down', error: socketRefused(lxd.flavour) };
  else {
    activate(world, level, argv);
    daemon = { kind: 'up', version: lxd.version, startedAt: wasUp };
  }
  const live = daemon.kind === 'up' ? lxd : null;
  // Unmanaged interfaces show up in /1.0/networks too.
  const networks: ObservedNetwork[] = live
    ? [
        { name: 'lo', managed: false, ipv4: null },
        { name: 'eth0', managed: false, ipv4: null },
        ...live.networks.map((n) => {
          const v4 = n.config['ipv4.address'];
          return { name: n.name, managed: n.managed, ipv4: v4 && v4 !== 'none' ? v4 : null };
        }),
      ]
    : [];
  const defaultProfile = live?.profiles.find((p) => p.name === 'default');
  const addresses = live && wants.addresses ? instanceAddresses(live) : null;
  return {
    path,
    flavour: asked,
    ...installedField(installed, asked),
    daemon,
    systemd: level.systemd,
    subuid: fileState(level.files['/etc/subuid']),
    subgid: fileState(level.files['/etc/subgid']),
    subidOriginal: {
      subuid: level.files[originalPath('subuid')]?.text ?? null,
      subgid: level.files[originalPath('subgid')]?.text ?? null,
    },
    uidMap: uidMapOf(level),
    storagePools: live ? live.pools.map((p) => p.name) : [],
    ...(live && live.pools.length > 0 ? { poolDrivers: Object.fromEntries(live.pools.map((p) => [p.name, p.driver])) } : {}),
    kernel: world.release,
    networks,
    defaultProfileHasRoot: Object.values(defaultProfile?.devices ?? {}).some((d) => d.type === 'disk' && d.path === '/'),
    images: live ? live.images.map((i) => ({ fingerprint: i.fingerprint, aliases: [...i.aliases] })) : [],
    instances: live
      ? live.instances.map((i) => ({
          name: i.name,
          project: MANAGED_PROJECT,
          status: i.status,
          profiles: [...i.profiles],
          config: { ...i.config },
          ...(i.location ? { location: i.location } : {}),
          ...(addresses ? { ipv4: addresses.get(i.name) ?? [] } : {}),
        }))
      : [],
    profiles: live ? observedProfilesOf(live) : [],
    now: world.clock,
    ...(path === '' && live && world.cluster
      ? { cluster: { members: world.cluster.members.map((m) => ({ name: m.name, status: m.status, groups: [...m.groups] })) } }
      : {}),
  };
}
