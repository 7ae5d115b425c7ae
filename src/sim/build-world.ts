// A world description (world-file.ts) turned into the simulator's state (state.ts), with the
// LXD rules applied as a real daemon would have applied them while that state came about.

import { sha256 } from '../core/hash.js';
import { NestctlError } from '../core/errors.js';
import { bridgeName, flavourInfo } from '../core/flavour/index.js';
import { expandedConfig } from './config.js';
import { startDaemon } from './daemon.js';
import { entry, FULL_KERNEL_SET, idmapFromJson, idmapToJson, type LxdIdmapEntry } from './idmap.js';
import { computeMap, findImage, newInside } from './instances.js';
import { containerConfigPath, defaultConfPath, lxcDir, USERNET } from '../core/lxc/paths.js';
import { createdConfig, kernelAppArmor, LXC_VERSION, lxcInside, startedMap } from './lxc.js';
import { shutdownInside } from './power.js';
import {
  type ImageDef,
  type ImageEntry,
  type InstanceState,
  joinPath,
  type LevelState,
  type LxcContainerState,
  type LxcState,
  type LxdState,
  type SimFile,
  type SimMember,
  type World,
} from './state.js';
import { DEBIAN_SUBID, DEFAULT_KERNEL, VERSIONS } from './world-file.js';
import type {
  FileDescription,
  HostDescription,
  ImageDescription,
  InstanceDescription,
  LevelDescription,
  LxcDescription,
  LxdDescription,
  MemberDescription,
  WorldDescription,
} from './world-file.js';

export type Where = Array<string | number>;

/** A description that cannot be built; `where` points into the description. */
export class DescribeError extends Error {
  constructor(
    readonly where: Where,
    message: string,
  ) {
    super(message);
  }
}

const imageFingerprint = (d: ImageDescription): string | null => {
  if (d.fingerprint) return d.fingerprint;
  const alias = d.alias ?? d.aliases?.[0];
  return alias ? sha256(`nestctl-sim-image:${alias}`) : null;
};

function imageDef(d: ImageDescription, fingerprint: string): ImageDef {
  const raw = d.lxd === true ? { flavour: 'debian' as const } : d.lxd || null;
  const lxd = raw
    ? {
        flavour: raw.flavour,
        version: raw.version ?? VERSIONS[raw.flavour],
        subuid: raw.subuid !== undefined ? raw.subuid : raw.flavour === 'debian' ? DEBIAN_SUBID : null,
        subgid: raw.subgid !== undefined ? raw.subgid : raw.flavour === 'debian' ? DEBIAN_SUBID : null,
      }
    : null;
  return {
    fingerprint,
    lxd,
    systemd: d.systemd ?? lxd !== null,
    uidmapTools: d.uidmapTools ?? (lxd !== null && flavourInfo(lxd.flavour).readsSubid !== 'never'),
    shell: d.shell ?? true,
    ...(d.lxc ? { lxc: true } : {}),
  };
}

/** Register images in the catalog; returns their store entries. */
function addImages(world: World, images: ImageDescription[] | undefined, where: Where): ImageEntry[] {
  return (images ?? []).map((d, i) => {
    const fingerprint = imageFingerprint(d);
    if (!fingerprint) throw new DescribeError([...where, i], 'an image needs an alias or a fingerprint');
    world.catalog[fingerprint] = imageDef(d, fingerprint);
    return { fingerprint, aliases: [...new Set([...(d.alias ? [d.alias] : []), ...(d.aliases ?? [])])] };
  });
}

function parseUidMap(text: string, where: Where): LxdIdmapEntry[] {
  const out: LxdIdmapEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parts = line.trim().split(/\s+/).map(Number);
    if (parts.length !== 3 || parts.some((n) => !Number.isSafeInteger(n) || n < 0))
      throw new DescribeError(where, `not a uid_map line: ${JSON.stringify(line)}`);
    out.push(entry('b', parts[0]!, parts[1]!, parts[2]!));
  }
  return out;
}

function initialise(lxd: LxdState, init: LxdDescription['initialised']): void {
  if (!init) return;
  const o = init === true ? {} : init;
  const pool = o.pool ?? 'default';
  const bridge = o.bridge ?? bridgeName(lxd.flavour);
  lxd.pools.push({ name: pool, driver: o.driver ?? 'dir', config: {} });
  lxd.networks.push({
    name: bridge,
    type: 'bridge',
    managed: true,
    config: { 'ipv4.address': o.ipv4 ?? '10.66.0.1/24', 'ipv4.nat': 'true', 'ipv6.address': 'none' },
  });
  const profile = lxd.profiles.find((p) => p.name === 'default')!;
  profile.devices.root = { path: '/', pool, type: 'disk' };
  profile.devices.eth0 = { name: 'eth0', network: bridge, type: 'nic' };
}

function describedFile(world: World, f: FileDescription, where: Where): SimFile {
  if ((f.content === undefined) === (f.base64 === undefined))
    throw new DescribeError(where, 'a file needs exactly one of content (text) and base64 (bytes)');
  const bytes = f.content !== undefined ? Buffer.from(f.content, 'utf8') : Buffer.from(f.base64!, 'base64');
  return {
    text: bytes.toString('utf8'),
    data: bytes.toString('base64'),
    mtime: world.clock,
    mode: parseInt(f.mode ?? '0644', 8),
    uid: f.uid ?? 0,
    gid: f.gid ?? 0,
  };
}

/** Classic LXC at a level: its accounts, lxc-usernet, and containers as lxc-create and lxc-start left them. */
function fillLxc(world: World, level: LevelState, d: LxcDescription, where: Where): void {
  const lxc: LxcState = {
    version: d.version ?? LXC_VERSION,
    apparmor: d.apparmor ?? kernelAppArmor(world),
    users: { ...(d.users ?? {}) },
    containers: [],
  };
  level.lxc = lxc;
  if (d.usernet !== undefined) level.files[USERNET] = { text: d.usernet, mtime: world.clock };
  (d.containers ?? []).forEach((c, i) => {
    const at = [...where, 'containers', i];
    const owner = c.owner ?? 'root';
    const home = owner === 'root' ? null : lxc.users[owner];
    if (home === undefined)
      throw new DescribeError(
        [...at, 'owner'],
        `${owner} is not one of lxc.users (${Object.keys(lxc.users).join(', ') || 'none'}) nor root`,
      );
    if (lxc.containers.some((x) => x.owner === owner && x.name === c.name))
      throw new DescribeError([...at, 'name'], `${owner}'s LXC container ${c.name} is described twice`);
    const dir = lxcDir(owner === 'root' ? null : owner, home);
    const base = home === null ? '' : (level.files[defaultConfPath(home)]?.text ?? '');
    const config = c.config ?? createdConfig('busybox', [], base, dir, c.name);
    const configFile = containerConfigPath(dir, c.name);
    if (level.files[configFile]) throw new DescribeError([...at, 'config'], `give ${configFile} here, not under files`);
    level.files[configFile] = { text: config, mtime: world.clock };
    const running = (c.state ?? 'RUNNING') === 'RUNNING';
    const uidMap = !running ? [] : c.uidMap !== undefined ? parseUidMap(c.uidMap, [...at, 'uidMap']) : startedMap(config);
    const container: LxcContainerState = { owner, name: c.name, state: running ? 'RUNNING' : 'STOPPED', uidMap };
    if (c.inside) {
      if (c.inside.lxd || c.inside.images?.length || c.inside.instances?.length)
        throw new DescribeError([...at, 'inside'], `there is no LXD inside the LXC container ${c.name}: describe its files and lxc only`);
      const inside = lxcInside(world, joinPath(level.path, c.name));
      delete inside.lxc;
      inside.kernel = uidMap.map((e) => ({ ...e }));
      fillLevel(world, inside, c.inside, [...at, 'inside'], false);
      container.inside = inside;
    }
    lxc.containers.push(container);
  });
}

/** Apply a level description (files, LXD state, images), start its daemon as described, then its instances. */
function fillLevel(world: World, level: LevelState, d: LevelDescription, where: Where, isHost: boolean): void {
  if (d.systemd !== undefined) level.systemd = d.systemd;
  if (d.uidmapTools !== undefined) level.uidmapTools = d.uidmapTools;
  if (isHost && d.lxd !== null) {
    const l = d.lxd ?? { flavour: 'debian' as const };
    level.lxd = {
      flavour: l.flavour,
      version: l.version ?? VERSIONS[l.flavour],
      daemon: { kind: 'down' },
      pools: [],
      networks: [],
      profiles: [{ name: 'default', config: {}, devices: {} }],
      images: [],
      instances: [],
    };
  }
  const lxd = level.lxd;
  if (isHost) {
    const fallback = lxd?.flavour === 'debian' ? DEBIAN_SUBID : null;
    for (const file of ['subuid', 'subgid'] as const) {
      const text = d[file] !== undefined ? d[file] : fallback;
      if (text !== null) level.files[`/etc/${file}`] = { text, mtime: world.clock };
    }
  } else {
    for (const file of ['subuid', 'subgid'] as const) {
      const text = d[file];
      if (text === undefined) continue;
      if (text === null) delete level.files[`/etc/${file}`];
      else level.files[`/etc/${file}`] = { text, mtime: world.clock };
    }
  }
  for (const [name, text] of Object.entries(d.files ?? {})) {
    if (name === '/etc/subuid' || name === '/etc/subgid')
      throw new DescribeError([...where, 'files', name], `give ${name} as ${name.slice(5)}, not under files`);
    if (d.lxc && name === USERNET) throw new DescribeError([...where, 'files', name], `give ${name} as lxc.usernet, not under files`);
    level.files[name] = typeof text === 'string' ? { text, mtime: world.clock } : describedFile(world, text, [...where, 'files', name]);
  }
  if (d.lxc) fillLxc(world, level, d.lxc, [...where, 'lxc']);
  if (!lxd) {
    if (d.images?.length || d.instances?.length || (!isHost && d.lxd))
      throw new DescribeError(where, `${level.path || 'the host'} has no LXD: it cannot hold images or instances`);
    return;
  }
  if (!isHost && d.lxd) {
    if (d.lxd.flavour !== lxd.flavour)
      throw new DescribeError([...where, 'lxd', 'flavour'], `the image of ${level.path} carries ${lxd.flavour}, not ${d.lxd.flavour}`);
    if (d.lxd.version) lxd.version = d.lxd.version;
  }
  initialise(lxd, d.lxd?.initialised);
  lxd.images.push(...addImages(world, d.images, [...where, 'images']));
  (d.profiles ?? []).forEach((p, i) => {
    if (lxd.profiles.some((q) => q.name === p.name))
      throw new DescribeError([...where, 'profiles', i, 'name'], `profile ${p.name} is described twice (default is made by the daemon)`);
    lxd.profiles.push({
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      config: { ...(p.config ?? {}) },
      devices: Object.fromEntries(Object.entries(p.devices ?? {}).map(([k, v]) => [k, { ...v }])),
    });
  });
  const daemon = d.lxd?.daemon ?? 'up';
  const instances = d.instances ?? [];
  // Instances are made by a running daemon. One described down or socket-only was stopped after
  // (systemctl stop lxd.socket lxd.service): SIGTERM leaves its containers running (LXD
  // doc/daemon-behavior.md; only SIGPWR, sent by lxd-containers.service at shutdown, stops them).
  if (daemon === 'up' || instances.length > 0) startDaemon(world, level);
  for (const [i, inst] of instances.entries()) addInstance(world, level, lxd, inst, [...where, 'instances', i]);
  if (daemon !== 'up') lxd.daemon = { kind: daemon };
}

function buildMember(name: string, m: MemberDescription): SimMember {
  const where = ['members', name, 'range'];
  const match = m.range === undefined ? null : /^(\d+):(\d+)$/.exec(m.range);
  if (m.range !== undefined && !match) throw new DescribeError(where, `range ${JSON.stringify(m.range)} is not START:SIZE`);
  const range = match ? { start: Number(match[1]), size: Number(match[2]) } : null;
  if (range && (range.size < 65536 || range.start + range.size > 4294967296))
    throw new DescribeError(where, `range ${m.range} must hold at least 65536 ids and end by 4294967296`);
  return { name, groups: [...(m.groups ?? [])], status: m.status ?? 'Online', range };
}

/** The member a described root container of a cluster's machine is on. */
function describedMember(world: World, level: LevelState, lxd: LxdState, d: InstanceDescription, where: Where): SimMember | null {
  const members = world.cluster?.members;
  if (level.path !== '' || !members) {
    if (d.location !== undefined)
      throw new DescribeError([...where, 'location'], `location is for a root container of a server with members`);
    return null;
  }
  if (d.location === undefined)
    return members.reduce((best, m) =>
      lxd.instances.filter((i) => i.location === m.name).length < lxd.instances.filter((i) => i.location === best.name).length ? m : best,
    );
  const member = members.find((m) => m.name === d.location);
  if (!member)
    throw new DescribeError([...where, 'location'], `no member ${d.location} (members: ${members.map((m) => m.name).join(', ')})`);
  return member;
}

/** A pre-existing instance, created by LXD's own rules unless its volatile.idmap.* keys are given. */
function addInstance(world: World, level: LevelState, lxd: LxdState, d: InstanceDescription, where: Where): void {
  if (lxd.instances.some((i) => i.name === d.name))
    throw new DescribeError([...where, 'name'], `${joinPath(level.path, d.name)} is described twice`);
  const fingerprint = findImage(lxd, d.image);
  if (!fingerprint)
    throw new DescribeError([...where, 'image'], `image ${JSON.stringify(d.image)} is not in ${level.path || 'the host'}'s image store`);
  const profiles = d.profiles ?? ['default'];
  const own = { ...(d.config ?? {}) };
  const config: Record<string, string> = { ...own, 'volatile.base_image': fingerprint };
  const member = describedMember(world, level, lxd, d, where);
  if (own['volatile.idmap.next'] === undefined) {
    const map = computeMap(lxd, d.name, expandedConfig(lxd, profiles, own), member);
    if ('error' in map) throw new DescribeError(where, `${joinPath(level.path, d.name)} cannot be created here: ${map.error}`);
    config['volatile.idmap.next'] = idmapToJson(map.set);
    config['volatile.idmap.base'] = own['volatile.idmap.base'] ?? String(map.base);
  }
  if (d.createInterrupted && d.status !== 'Stopped')
    throw new DescribeError(
      [...where, 'createInterrupted'],
      `${joinPath(level.path, d.name)}'s create was cut short: it never ran, so say status: Stopped`,
    );
  const running = (d.status ?? 'Running') === 'Running';
  const next = config['volatile.idmap.next']!;
  config['volatile.last_state.idmap'] ??= running ? next : '[]';
  if (running) config['volatile.idmap.current'] ??= next;
  if (d.createInterrupted) {
    delete config['volatile.apply_template'];
    delete config['volatile.last_state.power'];
  } else config['volatile.last_state.power'] ??= running ? 'RUNNING' : 'STOPPED';
  const inside = newInside(world, joinPath(level.path, d.name), fingerprint);
  const inst: InstanceState = {
    name: d.name,
    status: 'Running',
    profiles: [...profiles],
    config,
    inside,
    ...(member ? { location: member.name } : {}),
  };
  lxd.instances.push(inst);
  // Build the inside as a running machine, then stop it when described stopped.
  const map = idmapFromJson(config['volatile.idmap.current'] ?? next);
  inside.kernel = map.length > 0 ? map : level.kernel.map((e) => ({ ...e }));
  if (d.inside) {
    if (!inside.lxd && (d.inside.images?.length || d.inside.instances?.length || d.inside.lxd)) {
      throw new DescribeError([...where, 'inside'], `the image of ${inst.inside.path} carries no LXD`);
    }
    fillLevel(world, inside, d.inside, [...where, 'inside'], false);
  } else if (inside.lxd) startDaemon(world, inside);
  if (!running) {
    inst.status = 'Stopped';
    shutdownInside(inst);
  }
}

/** The world a description stands for. Throws DescribeError with a path into the description. */
export function build(desc: WorldDescription): World {
  const world: World = {
    clock: desc.clock ?? 1_700_000_000,
    seq: 0,
    release: desc.host.kernel ?? DEFAULT_KERNEL,
    catalog: {},
    remotes: {},
    host: {
      path: '',
      systemd: desc.host.systemd ?? true,
      uidmapTools: true,
      shell: true,
      kernel: FULL_KERNEL_SET.map((e) => ({ ...e })),
      files: {},
      lxd: null,
      beside: null,
    },
    log: [],
    restarts: {},
  };
  if (desc.host.uidMap !== undefined) world.host.kernel = parseUidMap(desc.host.uidMap, ['host', 'uidMap']);
  if (desc.cluster) world.cluster = { members: Object.entries(desc.cluster).map(([name, m]) => buildMember(name, m)) };
  for (const [remote, images] of Object.entries(desc.remotes ?? {})) world.remotes[remote] = addImages(world, images, ['remotes', remote]);
  fillLevel(world, world.host, desc.host, ['host'], true);
  if (desc.host.beside) addBeside(world, desc.host.beside);
  return world;
}

/** The second daemon on the host, built as the first was, then set beside it. */
function addBeside(world: World, d: NonNullable<HostDescription['beside']>): void {
  const host = world.host;
  const main = host.lxd;
  const where = ['host', 'beside', 'flavour'];
  if (!main || flavourInfo(main.flavour).daemonName === flavourInfo(d.flavour).daemonName) {
    throw new DescribeError(
      where,
      `beside is the other daemon: Incus beside LXD, or LXD beside Incus, not ${d.flavour} beside ${main ? main.flavour : 'nothing'}`,
    );
  }
  host.lxd = null;
  const kept = { subuid: host.files['/etc/subuid']?.text ?? null, subgid: host.files['/etc/subgid']?.text ?? null };
  fillLevel(world, host, { lxd: d, images: d.images ?? [], ...kept }, ['host', 'beside'], true);
  host.beside = host.lxd;
  host.lxd = main;
}

/** Build a world from a plain description (from code); errors are the user's. */
export function buildWorld(desc: WorldDescription): World {
  try {
    return build(desc);
  } catch (e) {
    if (e instanceof DescribeError) throw new NestctlError('user', `world description, ${e.where.join('.')}: ${e.message}`);
    throw e;
  }
}
