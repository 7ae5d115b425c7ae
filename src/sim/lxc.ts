// Classic LXC at a simulated level, as lxc-create, lxc-start, lxc-stop and lxc-destroy (LXC 5.0)
// and shadow's newuidmap treat it: a container's map comes from its config (lxc.idmap, copied
// from the user's default.conf or root's -f file at create), and every start, and the create's
// template run, write it through newuidmap, which accepts only ranges the caller holds in
// /etc/subuid and /etc/subgid (root too, where the uidmap tools are installed: liblxc then
// "insist[s] that root also reserve ranges in subuid", src/lxc/conf.c lxc_map_ids). The texts of
// the id-map refusal are liblxc's (idmap_utils.c lxc_map_ids, start.c lxc_spawn, as a real LXC
// 5.0 log shows them); the other refusals keep LXC's words without its source positions.

import { EnvironmentError } from '../core/errors.js';
import { lxcDir, NESTING_CONF, ownerKey, USERNET, USERNET_ORIGINAL } from '../core/lxc/paths.js';
import type { IdMapEntry, ObservedLxc, ObservedLxcOwner } from '../core/observed.js';
import type { LxcCreate, LxcOwner } from '../ports/lxd.js';
import { CommandError } from '../core/errors.js';
import { commandNotFound } from './errors.js';
import { lxcValue, parseLxcConfig } from '../core/lxc/config-file.js';
import { lxcNestingAllowed, NESTED_PROC_REFUSAL } from './power.js';
import { entry, type LxdIdmapEntry } from './idmap.js';
import { newidmapRefusal } from './newuidmap.js';
import { reach } from './reach.js';
import { joinPath, type LevelState, type LxcState, type World } from './state.js';
import { sha256 } from './subid.js';
import { nextSeq, record, tick } from './world.js';

/** Debian 12's lxc package. */
export const LXC_VERSION = '5.0.2';

function installed(world: World, path: string, argv: readonly string[]): { level: LevelState; lxc: LxcState } {
  const level = reach(world, path, argv);
  if (!level.lxc) throw commandNotFound(path, argv);
  return { level, lxc: level.lxc };
}

const configPath = (owner: LxcOwner, name: string): string => `${lxcDir(owner.user, owner.home)}/${name}/config`;

/** `everyOwner`: root and every owner with containers too, as the real probe's --every-owner finds them. */
export function probeLxc(world: World, path: string, asked: readonly string[], everyOwner = false): ObservedLxc {
  const level = reach(world, path, ['sh', '-c', '<lxc probe>']);
  const lxc = level.lxc;
  const owners = everyOwner ? [...new Set([...asked, 'root', ...(lxc?.containers ?? []).map((c) => c.owner)])] : asked;
  const file = (p: string) => {
    const f = level.files[p];
    return f ? { text: f.text, sha256: sha256(f.text) } : { text: null, sha256: null };
  };
  const byOwner: Record<string, ObservedLxcOwner> = {};
  for (const key of owners) {
    const home = key === 'root' ? null : (lxc?.users[key] ?? null);
    const exists = key === 'root' || home !== null;
    const owner: LxcOwner = { user: key === 'root' ? null : key, home };
    byOwner[key] = {
      home: key === 'root' ? '/root' : home,
      defaultConf: key === 'root' || home === null ? null : file(`${home}/.config/lxc/default.conf`),
      containers:
        !exists || !lxc
          ? []
          : lxc.containers
              .filter((c) => c.owner === key)
              .map((c) => {
                const text = level.files[configPath(owner, c.name)]?.text ?? '';
                return {
                  name: c.name,
                  state: c.state,
                  uidMap: c.state === 'RUNNING' ? c.uidMap.filter((e) => e.Isuid).map(toObserved) : [],
                  config: { text, sha256: sha256(text) },
                };
              }),
    };
  }
  return {
    version: lxc?.version ?? null,
    apparmor: lxc?.apparmor ?? false,
    usernet: file(USERNET),
    usernetOriginal: level.files[USERNET_ORIGINAL]?.text ?? null,
    owners: byOwner,
    ...(everyOwner ? { everyOwner: true as const } : {}),
  };
}

const toObserved = (e: LxdIdmapEntry): IdMapEntry => ({ isuid: true, isgid: false, nsid: e.Nsid, hostid: e.Hostid, maprange: e.Maprange });

export function writeLxcFile(
  world: World,
  path: string,
  file: string,
  owner: string,
  text: string,
  expected: string | null,
  options: { forgetOriginal?: boolean } = {},
): void {
  const level = reach(world, path, ['sh', '-c', '<write lxc file>', 'nestctl-write-lxc-file', file]);
  if (owner !== 'root' && !level.lxc?.users[owner])
    throw new CommandError(
      ['runuser', '-u', owner],
      1,
      `runuser: user ${owner} does not exist or the user entry does not contain all the required fields\n`,
      path,
    );
  const current = level.files[file];
  const now = current ? sha256(current.text) : 'absent';
  if (now !== (expected ?? 'absent'))
    throw new EnvironmentError(
      `plan is stale: ${file} changed since it was planned (sha256 ${now}, planned ${expected ?? 'absent'})`,
      'run nestctl plan again',
      path,
    );
  if (file === USERNET) {
    if (options.forgetOriginal) delete level.files[USERNET_ORIGINAL];
    else if (!level.files[USERNET_ORIGINAL]) level.files[USERNET_ORIGINAL] = { text: current?.text ?? '', mtime: world.clock };
  }
  level.files[file] = { text, mtime: tick(world) };
  record(world, path, 'write', `${file} ${JSON.stringify(text)}`);
}

/**
 * The config `lxc-create -t TEMPLATE` leaves (LXC 5.0.2, built without OpenSSL as Debian's is):
 * the base config (default.conf or -f FILE) verbatim, blank lines and comments kept (confile.c
 * parse_line), then lxc.rootfs.path as the dir backend sets it; the template appends its own
 * lines (busyboxConfig); last, lxccontainer.c prepend_lxc_header puts its comment header first.
 * Only the busybox template's lines are simulated; the local and download ones append nothing here.
 */
export function createdConfig(template: string, templateArgs: readonly string[], base: string, dir: string, name: string): string {
  const header = [
    `# Template used to create this container: /usr/share/lxc/templates/lxc-${template}`,
    `# Parameters passed to the template:${templateArgs.map((a) => ` ${a}`).join('')}`,
    '# For additional config options, please look at lxc.container.conf(5)',
    '',
    '# Uncomment the following line to support nesting containers:',
    `#lxc.include = ${NESTING_CONF}`,
    '# (Be aware this has security implications)',
    '',
    '',
  ].join('\n');
  const body = base === '' || base.endsWith('\n') ? base : `${base}\n`;
  const rootfs = `${dir}/${name}/rootfs`;
  return `${header}${body}lxc.rootfs.path = dir:${rootfs}\n${template === 'busybox' ? busyboxConfig(name) : ''}`;
}

/**
 * What LXC 5.0.2's busybox template (templates/lxc-busybox.in, copy_configuration) appends: the
 * rootfs line is there already; a bind mount for each of lib, usr/lib, lib64 and usr/lib64 that
 * the machine has (a Debian 12 amd64 one has all four; the template makes them in the rootfs).
 */
function busyboxConfig(name: string): string {
  return [
    'lxc.signal.halt = SIGUSR1',
    'lxc.signal.reboot = SIGTERM',
    `lxc.uts.name = "${name}"`,
    'lxc.autodev = 1',
    'lxc.tty.max = 5',
    'lxc.pty.max = 1',
    'lxc.cap.drop = sys_module mac_admin mac_override sys_time',
    '',
    '# When using LXC with apparmor, uncomment the next line to run unconfined:',
    '#lxc.apparmor.profile = unconfined',
    '',
    'lxc.mount.auto = cgroup:mixed proc:mixed sys:ro',
    'lxc.mount.entry = shm dev/shm tmpfs defaults,create=dir 0 0',
    'lxc.mount.entry = mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0',
    ...['lib', 'usr/lib', 'lib64', 'usr/lib64'].map((d) => `lxc.mount.entry = /${d} ${d} none ro,bind 0 0`),
    'lxc.mount.entry = /sys/kernel/security sys/kernel/security none ro,bind,optional 0 0',
    '',
  ].join('\n');
}

/** The uid and gid maps of a config's `lxc.idmap = u|g NSID HOSTID RANGE` lines (LXC confile.c set_config_idmaps). */
export function mapsOf(config: string): LxdIdmapEntry[] {
  return parseLxcConfig(config).flatMap((l) => {
    const [kind, ...ids] = l.value.trim().split(/\s+/);
    const [nsid, hostid, range] = ids.map(Number);
    const ok =
      l.key === 'lxc.idmap' &&
      (kind === 'u' || kind === 'g') &&
      ids.length === 3 &&
      [nsid, hostid, range].every((n) => Number.isSafeInteger(n));
    return ok ? [entry(kind as 'u' | 'g', nsid!, hostid!, range!)] : [];
  });
}

/**
 * Whether AppArmor is enabled, as /sys/module/apparmor/parameters/enabled says at any level: a
 * module parameter of the one kernel (mode 0444, security/apparmor/lsm.c), not namespaced, so a
 * container reads the host's. The host's LXC says it; a host without LXC described is taken as
 * Debian's default (enabled).
 */
export const kernelAppArmor = (world: World): boolean => world.host.lxc?.apparmor ?? true;

/** Classic LXC as Debian's lxc package leaves it in a container's rootfs: root only, the kernel's AppArmor. */
export const lxcInRootfs = (world: World): LxcState => ({
  version: LXC_VERSION,
  apparmor: kernelAppArmor(world),
  users: {},
  containers: [],
});

/**
 * The machine inside a container made from a rootfs with LXC (the local or download template,
 * which the simulation takes to carry Debian's lxc and uidmap packages): root only, no systemd.
 */
export function lxcInside(world: World, path: string): LevelState {
  return { path, systemd: false, uidmapTools: true, shell: true, kernel: [], files: {}, lxd: null, beside: null, lxc: lxcInRootfs(world) };
}

/** The kernel maps only ids the level's own namespace holds: inside a container, those of its map. */
function withinOwnIds(level: LevelState, m: LxdIdmapEntry): boolean {
  return level.kernel.some((k) => m.Hostid >= k.Nsid && m.Hostid + m.Maprange <= k.Nsid + k.Maprange);
}

/** init's map once a container with this config runs: its lxc.idmap, or the whole id space (root's, unmapped). */
export function startedMap(config: string): LxdIdmapEntry[] {
  const maps = mapsOf(config);
  return maps.length > 0 ? maps : [entry('b', 0, 0, 4294967295)];
}

/** liblxc's lines when newuidmap/newgidmap refuse the map (idmap_utils.c lxc_map_ids, start.c lxc_spawn). */
function mapRefusal(level: LevelState, owner: string, maps: LxdIdmapEntry[], name: string, pid: number): string | null {
  if (owner === 'root' && !level.uidmapTools) return null;
  for (const kind of ['uid', 'gid'] as const) {
    const refused = newidmapRefusal(kind, maps, level.files[`/etc/sub${kind}`]?.text ?? null, owner);
    if (refused) {
      const e = maps.find((m) => (kind === 'uid' ? m.Isuid : m.Isgid))!;
      const tool = kind === 'uid' ? 'newuidmap' : 'newgidmap';
      return [
        `lxc-start: ${name}: ../src/lxc/idmap_utils.c: lxc_map_ids: 245 ${tool} failed to write mapping "${refused}": ${tool} ${pid} ${e.Nsid} ${e.Hostid} ${e.Maprange}`,
        `lxc-start: ${name}: ../src/lxc/start.c: lxc_spawn: 1795 Failed to set up id mapping.`,
      ].join('\n');
    }
  }
  return null;
}

export function lxcCreate(world: World, path: string, c: LxcCreate, argv: readonly string[]): void {
  const { level, lxc } = installed(world, path, argv);
  const key = ownerKey(c.owner.user);
  if (c.owner.user !== null && !lxc.users[c.owner.user])
    throw new CommandError(
      argv,
      1,
      `runuser: user ${c.owner.user} does not exist or the user entry does not contain all the required fields\n`,
      path,
    );
  if (lxc.containers.some((x) => x.owner === key && x.name === c.name))
    throw new CommandError(argv, 1, `lxc-create: ${c.name}: Container already exists\n`, path);
  if (!['busybox', 'local', 'download'].includes(c.template))
    throw new CommandError(
      argv,
      1,
      `lxc-create: ${c.name}: Unknown template "${c.template}"\nlxc-create: ${c.name}: Failed to create container ${c.name}\n`,
      path,
    );
  const base = c.owner.user === null ? (c.config ?? '') : (level.files[`${c.owner.home}/.config/lxc/default.conf`]?.text ?? '');
  const maps = mapsOf(base);
  if (c.owner.user !== null && maps.length === 0)
    throw new CommandError(
      argv,
      1,
      `lxc-create: ${c.name}: No uid mapping for container root\nlxc-create: ${c.name}: Failed to create container ${c.name}\n`,
      path,
    );
  // The template runs in the container's user namespace (lxc-usernsexec): the same newuidmap check as a start.
  const refused = maps.length > 0 ? mapRefusal(level, key, maps, c.name, nextSeq(world)) : null;
  if (refused)
    throw new CommandError(
      argv,
      1,
      `${refused.replaceAll('lxc-start', 'lxc-create')}\nlxc-create: ${c.name}: Failed to create container ${c.name}\n`,
      path,
    );
  const dir = lxcDir(c.owner.user, c.owner.home);
  level.files[`${dir}/${c.name}/config`] = { text: createdConfig(c.template, c.templateArgs, base, dir, c.name), mtime: tick(world) };
  lxc.containers.push({
    owner: key,
    name: c.name,
    state: 'STOPPED',
    uidMap: [],
    ...(c.template === 'busybox' ? {} : { inside: lxcInside(world, joinPath(path, c.name)) }),
  });
  record(world, path, 'lxc-create', `${key}/${c.name}`);
}

export function lxcStart(world: World, path: string, name: string, owner: LxcOwner, argv: readonly string[]): void {
  const { level, lxc } = installed(world, path, argv);
  const key = ownerKey(owner.user);
  const c = lxc.containers.find((x) => x.owner === key && x.name === name);
  if (!c) throw new CommandError(argv, 1, `lxc-start: ${name}: No container config specified\n`, path);
  if (c.state === 'RUNNING') throw new CommandError(argv, 2, `lxc-start: ${name}: Container is already running.\n`, path);
  const config = level.files[configPath(owner, name)]?.text ?? '';
  const aborted = (lines: string): CommandError =>
    new CommandError(
      argv,
      1,
      `${lines}\nlxc-start: ${name}: Received container state "ABORTING" instead of "RUNNING"\nlxc-start: ${name}: The container failed to start\n`,
      path,
    );
  if (!lxcNestingAllowed(world, level)) throw aborted(`lxc-start: ${name}: ${NESTED_PROC_REFUSAL}`);
  const link = lxcValue(config, 'lxc.net.0.link');
  // The bridge of the level's LXD exists only while that daemon runs (socket-activated, nothing
  // starts it after its container restarts): lxc-user-nic, or root's veth attach, finds no device.
  if (link !== null && level.lxd?.networks.some((n) => n.name === link) && level.lxd.daemon.kind !== 'up') {
    throw aborted(
      key === 'root'
        ? `lxc-start: ${name}: ../src/lxc/network.c: lxc_netdev_move: Failed to attach veth to bridge "${link}": No such device`
        : `lxc-start: ${name}: ../src/lxc/network.c: lxc_create_network_unpriv_exec: lxc-user-nic failed to configure requested network: cmd/lxc_user_nic.c: get_mtu: Could not get MTU for netdev ${link} ifindex 0`,
    );
  }
  const maps = mapsOf(config);
  const refused = maps.length > 0 ? mapRefusal(level, key, maps, name, nextSeq(world)) : null;
  if (refused) throw aborted(refused);
  const outside = maps.find((m) => !withinOwnIds(level, m));
  if (outside)
    throw new CommandError(
      argv,
      1,
      `lxc-start: ${name}: ../src/lxc/idmap_utils.c: lxc_map_ids: 245 newuidmap failed to write mapping "newuidmap: write to uid_map failed: Operation not permitted": newuidmap ${nextSeq(world)} ${outside.Nsid} ${outside.Hostid} ${outside.Maprange}\nlxc-start: ${name}: The container failed to start\n`,
      path,
    );
  c.state = 'RUNNING';
  c.uidMap = startedMap(config);
  if (c.inside) c.inside.kernel = c.uidMap.map((e) => ({ ...e }));
  tick(world);
  record(world, path, 'lxc-start', `${key}/${name}`);
}

/** `lxc-stop -k`: killed at once, its machine gone with it. */
export function lxcStop(world: World, path: string, name: string, owner: LxcOwner, argv: readonly string[]): void {
  const { lxc } = installed(world, path, argv);
  const key = ownerKey(owner.user);
  const c = lxc.containers.find((x) => x.owner === key && x.name === name);
  if (!c) throw new CommandError(argv, 1, `lxc-stop: ${name}: Container is not defined\n`, path);
  if (c.state !== 'RUNNING') throw new CommandError(argv, 2, `lxc-stop: ${name}: Container is not running\n`, path);
  c.state = 'STOPPED';
  c.uidMap = [];
  tick(world);
  record(world, path, 'lxc-stop', `${key}/${name}`);
}

export function lxcDelete(world: World, path: string, name: string, owner: LxcOwner, running: boolean, argv: readonly string[]): void {
  const { level, lxc } = installed(world, path, argv);
  const key = ownerKey(owner.user);
  const c = lxc.containers.find((x) => x.owner === key && x.name === name);
  if (!c) throw new CommandError(argv, 1, `lxc-destroy: ${name}: Container is not defined\n`, path);
  if (c.state === 'RUNNING' && !running) throw new CommandError(argv, 1, `lxc-destroy: ${name}: Container is running\n`, path);
  lxc.containers = lxc.containers.filter((x) => x !== c);
  const prefix = `${lxcDir(owner.user, owner.home)}/${name}/`;
  for (const f of Object.keys(level.files)) if (f.startsWith(prefix)) delete level.files[f];
  tick(world);
  record(world, path, 'lxc-destroy', `${key}/${name}`);
}
