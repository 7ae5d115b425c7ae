// The inverse of build (describe.ts): a world as a description, so a simulation can be saved
// (`--state FILE`) and continued. Everything is written out explicitly (fingerprints, image
// properties, every instance's volatile keys), so describe → build → describe gives the same text.
// Not kept: the log, the restart counts, the daemons' start logs (rebuilt when they start again)
// and exported image bundles left in temp files.

import { stringify } from 'yaml';
import {
  DEFAULT_KERNEL,
  type FileDescription,
  type ImageDescription,
  type InstanceDescription,
  type LevelDescription,
  type LxcDescription,
  type LxdDescription,
  type MemberDescription,
  type ProfileDescription,
  type WorldDescription,
} from './world-file.js';
import { containerConfigPath, lxcDir, USERNET } from '../core/lxc/paths.js';
import { FULL_KERNEL_SET } from './idmap.js';
import type { ImageEntry, InstanceState, LevelState, LxcContainerState, LxcState, LxdState, SimFile, World } from './state.js';

const SUBID = ['/etc/subuid', '/etc/subgid'];

function image(world: World, e: ImageEntry): ImageDescription {
  const def = world.catalog[e.fingerprint];
  return {
    fingerprint: e.fingerprint,
    ...(e.aliases.length > 0 ? { aliases: [...e.aliases] } : {}),
    lxd: def?.lxd ? { ...def.lxd } : false,
    systemd: def?.systemd ?? false,
    uidmapTools: def?.uidmapTools ?? false,
    shell: def?.shell ?? true,
    ...(def?.lxc ? { lxc: true } : {}),
  };
}

function initialised(lxd: LxdState): LxdDescription['initialised'] {
  const pool = lxd.pools[0];
  const bridge = lxd.networks.find((n) => n.managed);
  if (!pool || !bridge) return false;
  return {
    pool: pool.name,
    bridge: bridge.name,
    ipv4: bridge.config['ipv4.address'] ?? 'none',
    ...(pool.driver === 'dir' ? {} : { driver: pool.driver }),
  };
}

function daemon(lxd: LxdState): LxdDescription {
  return { flavour: lxd.flavour, version: lxd.version, daemon: lxd.daemon.kind, initialised: initialised(lxd) };
}

/** A file written inside a container keeps its bytes, mode and owner; other files are their text. */
function file(f: SimFile): string | FileDescription {
  if (f.data === undefined && f.mode === undefined) return f.text;
  const bytes = Buffer.from(f.data ?? Buffer.from(f.text, 'utf8').toString('base64'), 'base64');
  const text = bytes.toString('utf8');
  const body = Buffer.from(text, 'utf8').equals(bytes) ? { content: text } : { base64: bytes.toString('base64') };
  return { ...body, mode: (f.mode ?? 0o644).toString(8).padStart(4, '0'), uid: f.uid ?? 0, gid: f.gid ?? 0 };
}

/** The files an `lxc` description holds: lxc-usernet and each container's config. */
function lxcFiles(l: LevelState): Set<string> {
  const lxc = l.lxc;
  if (!lxc) return new Set();
  return new Set([USERNET, ...lxc.containers.map((c) => configFile(lxc, c))]);
}

const configFile = (lxc: LxcState, c: LxcContainerState): string =>
  containerConfigPath(lxcDir(c.owner === 'root' ? null : c.owner, lxc.users[c.owner] ?? null), c.name);

function describeLxc(world: World, l: LevelState, lxc: LxcState): LxcDescription {
  const usernet = l.files[USERNET];
  return {
    version: lxc.version,
    apparmor: lxc.apparmor,
    users: { ...lxc.users },
    ...(usernet ? { usernet: usernet.text } : {}),
    containers: lxc.containers.map((c) => ({
      owner: c.owner,
      name: c.name,
      state: c.state,
      config: l.files[configFile(lxc, c)]?.text ?? '',
      ...(c.state === 'RUNNING'
        ? {
            uidMap: c.uidMap
              .filter((e) => e.Isuid)
              .map((e) => `${e.Nsid} ${e.Hostid} ${e.Maprange}`)
              .join('\n'),
          }
        : {}),
      ...(c.inside ? { inside: level(world, c.inside) } : {}),
    })),
  };
}

function level(world: World, l: LevelState): LevelDescription {
  const inLxc = lxcFiles(l);
  const extra = Object.entries(l.files).filter(([name, f]) => !SUBID.includes(name) && !f.image && !inLxc.has(name));
  return {
    systemd: l.systemd,
    uidmapTools: l.uidmapTools,
    subuid: l.files['/etc/subuid']?.text ?? null,
    subgid: l.files['/etc/subgid']?.text ?? null,
    ...(extra.length > 0 ? { files: Object.fromEntries(extra.map(([name, f]) => [name, file(f)])) } : {}),
    ...(l.lxc ? { lxc: describeLxc(world, l, l.lxc) } : {}),
    ...(l.lxd
      ? {
          lxd: daemon(l.lxd),
          images: l.lxd.images.map((e) => image(world, e)),
          ...profiles(l.lxd),
          instances: l.lxd.instances.map((i) => instance(world, i)),
        }
      : {}),
  };
}

/** Every profile but default (rebuilt by `initialised`). */
function profiles(lxd: LxdState): { profiles?: ProfileDescription[] } {
  const own = lxd.profiles.filter((p) => p.name !== 'default');
  return own.length > 0
    ? {
        profiles: own.map((p) => ({
          name: p.name,
          ...(p.description ? { description: p.description } : {}),
          config: { ...p.config },
          devices: Object.fromEntries(Object.entries(p.devices).map(([k, d]) => [k, { ...d }])),
        })),
      }
    : {};
}

function instance(world: World, i: InstanceState): InstanceDescription {
  return {
    name: i.name,
    image: i.config['volatile.base_image'] ?? '',
    status: i.status,
    ...(createCutShort(i) ? { createInterrupted: true } : {}),
    ...(i.location ? { location: i.location } : {}),
    profiles: [...i.profiles],
    config: { ...i.config },
    inside: level(world, i.inside),
  };
}

const isFullKernel = (l: LevelState): boolean => JSON.stringify(l.kernel) === JSON.stringify(FULL_KERNEL_SET);

/**
 * The world as a plain
 * description that build() turns back into an equivalent world. The clock is left out: build
 * starts every world at the same time, and only the order of events inside it matters.
 */
export function describeWorld(world: World): WorldDescription {
  const host = world.host;
  const remotes = Object.entries(world.remotes);
  return {
    host: {
      ...(world.release === DEFAULT_KERNEL ? {} : { kernel: world.release }),
      ...(isFullKernel(host)
        ? {}
        : {
            uidMap: host.kernel
              .filter((e) => e.Isuid)
              .map((e) => `${e.Nsid} ${e.Hostid} ${e.Maprange}`)
              .join('\n'),
          }),
      ...level(world, host),
      ...(host.lxd ? {} : { lxd: null }),
      ...(host.beside ? { beside: { ...daemon(host.beside), images: host.beside.images.map((e) => image(world, e)) } } : {}),
    },
    ...(remotes.length > 0
      ? { remotes: Object.fromEntries(remotes.map(([name, images]) => [name, images.map((e) => image(world, e))])) }
      : {}),
  };
}

/** A cluster's members as a server's description holds them. */
function members(world: World): { members?: Record<string, MemberDescription> } {
  if (!world.cluster) return {};
  return {
    members: Object.fromEntries(
      world.cluster.members.map((m) => [
        m.name,
        {
          ...(m.range ? { range: `${m.range.start}:${m.range.size}` } : {}),
          ...(m.groups.length > 0 ? { groups: [...m.groups] } : {}),
          ...(m.status !== 'Online' ? { status: m.status } : {}),
        },
      ]),
    ),
  };
}

/** A server of a world of several machines: who it says it is, and its machine. */
export interface ServerWorld {
  serverName: string;
  fingerprint: string;
  world: World;
}

/**
 * The text a state file holds: YAML, readable and editable as a `--world` file; `servers` (by
 * remote name) are written with this machine's world.
 */
export function describeWorldText(world: World, servers: ReadonlyMap<string, ServerWorld> = new Map()): string {
  const desc: WorldDescription = describeWorld(world);
  if (servers.size > 0)
    desc.servers = Object.fromEntries(
      [...servers].map(([remote, s]) => [
        remote,
        { serverName: s.serverName, fingerprint: s.fingerprint, ...members(s.world), host: describeWorld(s.world).host },
      ]),
    );
  return `# nestctl simulated world (the format of --world; schemas/world.schema.json)\n${stringify(desc, { lineWidth: 0 })}`;
}

/**
 * A create the simulation cut short (interruptCreate): the record LXD made before unpacking the
 * image, without the volatile.apply_template that instanceCreateFromImage sets once the rootfs is
 * complete (lxd/instance.go), and never started since (no volatile.last_state.power).
 */
function createCutShort(i: InstanceState): boolean {
  return i.status !== 'Running' && i.config['volatile.apply_template'] === undefined && i.config['volatile.last_state.power'] === undefined;
}
