// Daemon restarts, newuidmap at start, subid writes, flavours, and LXD's refusals, as the
// simulated LXD shows them through LxdLevel.

import { describe, expect, it } from 'vitest';
import { CommandError, EnvironmentError } from '../../src/core/errors.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, type WorldDescription } from '../../src/sim/index.js';
import { idmapFromJson } from '../../src/sim/idmap.js';
import { sha256 } from '../../src/sim/subid.js';

const debianHost = (line: string, extra: Partial<WorldDescription['host']> = {}): WorldDescription => ({
  host: {
    lxd: { flavour: 'debian', initialised: true },
    subuid: line,
    subgid: line,
    images: [{ alias: 'busybox' }, { alias: 'nest', lxd: true }],
    ...extra,
  },
});
const spec = (name: string, image = 'busybox', config: Record<string, string> = {}) => ({
  name,
  fingerprint: image,
  profiles: ['default'],
  config,
});

async function rewrite(level: ReturnType<ReturnType<typeof createSimWorld>['host']>, text: string): Promise<void> {
  const obs = await level.probe();
  await level.writeSubid('subuid', text, obs.subuid.sha256);
  await level.writeSubid('subgid', text, obs.subgid.sha256);
}

const failure = async (p: Promise<unknown>): Promise<CommandError> => {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(CommandError);
  return e as CommandError;
};

describe('daemon restarts', () => {
  it('re-read the files but never re-map existing containers', async () => {
    const world = createSimWorld(debianHost('root:500000:196608\n'));
    const host = world.host();
    await host.createInstance(spec('old'));
    await host.startInstance('old', false);
    await rewrite(host, 'root:700000:196608\n');
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 500000, size: 196608 }); // read once, at start
    const before = (await host.probe()).daemon;
    await host.restartDaemon(null);
    const after = await host.probe();
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 700000, size: 196608 });
    expect(after.daemon.kind === 'up' && before.kind === 'up' && after.daemon.startedAt! > before.startedAt!).toBe(true);
    expect(after.subuid.mtime).toBeLessThan(after.daemon.kind === 'up' ? after.daemon.startedAt! : 0);
    const old = after.instances.find((i) => i.name === 'old')!;
    expect(old.status).toBe('Running');
    expect(idmapFromJson(old.config['volatile.idmap.current'])[0]!.Hostid).toBe(500000);
    expect(idmapFromJson(old.config['volatile.idmap.next'])[0]!.Hostid).toBe(500000);
    await host.createInstance(spec('new'));
    await host.startInstance('new', false);
    expect(world.uidMap('new')).toBe('0 700000 196608');
    expect(world.uidMap('old')).toBe('0 500000 196608');
  });

  it('strand a container at its next start when root’s entry was replaced (newuidmap), not when it was kept', async () => {
    const world = createSimWorld(debianHost('root:500000:196608\n'));
    const host = world.host();
    await host.createInstance(spec('c1'));
    await host.startInstance('c1', false);
    await rewrite(host, 'root:700000:196608\n');
    await host.restartDaemon(null);
    await host.stopInstance('c1');
    const err = await failure(host.startInstance('c1', false));
    expect(err.stderr).toMatch(/^Error: Failed to run: \/usr\/bin\/lxd forkstart c1 /);
    expect(err.stderr).toContain('newuidmap: uid range [0-196608) -> [500000-696608) not allowed');
    expect((await host.probe()).instances[0]!.status).toBe('Stopped');
    // new entry first (LXD uses it), the old one kept after it (newuidmap accepts any entry)
    await rewrite(host, 'root:700000:196608\nroot:500000:196608\n');
    await host.restartDaemon(null);
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 700000, size: 196608 });
    await host.startInstance('c1', false);
    expect(world.uidMap('c1')).toBe('0 500000 196608');
  });

  it('newuidmap also accepts a map spread over adjacent entries, and checks subgid separately', async () => {
    const world = createSimWorld(debianHost('root:500000:196608\n'));
    const host = world.host();
    await host.createInstance(spec('c1'));
    const obs = await host.probe();
    await host.writeSubid('subuid', 'root:500000:100000\nroot:600000:96608\n', obs.subuid.sha256);
    await host.writeSubid('subgid', 'root:500000:100000\n', obs.subgid.sha256);
    const err = await failure(host.startInstance('c1', false));
    expect(err.stderr).toContain('newgidmap: gid range [0-196608) -> [500000-696608) not allowed');
  });

  it('need an argv, systemd or snap', async () => {
    const world = createSimWorld(debianHost('root:500000:196608\n', { systemd: false }));
    const host = world.host();
    const err = await host.restartDaemon(null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toContain('cannot run systemctl restart lxd here: no systemd');
    await host.restartDaemon(['sh', '-c', 'kill $(pidof lxd); lxd --group root &']);
    expect(world.restarts('')).toBe(1);
    expect(world.restartCommands('')).toEqual([['sh', '-c', 'kill $(pidof lxd); lxd --group root &']]);
  });

  it('start a daemon that was down; nested containers come back with their parent', async () => {
    const world = createSimWorld(debianHost('root:500000:196608\n', { lxd: { flavour: 'debian', initialised: true, daemon: 'down' } }));
    const host = world.host();
    const down = await host.probe();
    expect(down.daemon).toEqual({
      kind: 'down',
      error: 'Error: Get "http://unix.socket/1.0": dial unix /var/lib/lxd/unix.socket: connect: connection refused',
    });
    await expect(host.createInstance(spec('c1'))).rejects.toThrow(/the LXD daemon is not running on the host/);
    await host.restartDaemon(null);
    await host.createInstance(spec('c1', 'nest', { 'security.nesting': 'true' }));
    await host.startInstance('c1', true);
    const c1 = host.child('c1', null);
    await rewrite(c1, 'root:65536:131072\n');
    await c1.restartDaemon(null);
    await c1.initDaemon(
      'storage_pools: [{name: default, driver: dir}]\nprofiles: [{name: default, devices: {root: {path: /, pool: default, type: disk}}}]\n',
    );
    const bundle = await host.exportImage((await host.probe()).images.find((i) => i.aliases.includes('busybox'))!.fingerprint);
    await c1.importImage(await host.pushBundle(bundle, 'c1'), ['busybox']);
    await c1.createInstance(spec('c2'));
    await c1.startInstance('c2', false);
    await host.stopInstance('c1');
    await expect(c1.probe()).rejects.toThrow(/Instance is not running/);
    await host.startInstance('c1', true); // lxd activateifneeded brings c2 back
    expect((await c1.probe()).instances.find((i) => i.name === 'c2')?.status).toBe('Running');
  });
});

describe('writeSubid', () => {
  it('refuses a stale file and keeps a backup otherwise', async () => {
    const world = createSimWorld(debianHost('root:100000:10000001\n'));
    const host = world.host();
    const obs = await host.probe();
    await expect(host.writeSubid('subuid', 'root:500000:196608\n', sha256('something else\n'))).rejects.toThrow(/plan is stale/);
    await expect(host.writeSubid('subuid', 'root:500000:196608\n', null)).rejects.toThrow(/plan is stale/);
    expect(world.file('', '/etc/subuid')).toBe('root:100000:10000001\n');
    await host.writeSubid('subuid', 'root:500000:196608\n', obs.subuid.sha256);
    const now = await host.probe();
    expect(now.subuid.text).toBe('root:500000:196608\n');
    expect(now.subuid.sha256).toBe(sha256('root:500000:196608\n'));
    expect(now.subuid.mtime).toBeGreaterThan(obs.subuid.mtime!);
    expect(world.file('', '/etc/subuid-')).toBe('root:100000:10000001\n');
  });

  it('creates an absent file when null was planned', async () => {
    const world = createSimWorld(debianHost('x', { subuid: null }));
    const host = world.host();
    expect((await host.probe()).subuid).toEqual({ text: null, sha256: null, mtime: null });
    await host.writeSubid('subuid', 'root:500000:196608\n', null);
    expect(world.file('', '/etc/subuid')).toBe('root:500000:196608\n');
  });
});

describe('flavours', () => {
  it('snap ignores /etc/subuid and /etc/subgid, on the host and nested', async () => {
    const world = createSimWorld({
      host: {
        lxd: { flavour: 'snap', initialised: true },
        systemd: false,
        subuid: 'root:500000:196608\n',
        subgid: 'root:500000:196608\n',
        images: [{ alias: 'snapnest', lxd: { flavour: 'snap' } }],
      },
    });
    const host = world.host();
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 1_000_000, size: 1_000_000_000 });
    await host.restartDaemon(null);
    expect(world.restartCommands('')).toEqual([['snap', 'restart', '--reload', 'lxd']]);
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 1_000_000, size: 1_000_000_000 });
    // a snap LXD's containers are not checked by the machine's newuidmap either
    await host.createInstance(spec('c1', 'snapnest', { 'security.nesting': 'true' }));
    await host.startInstance('c1', true);
    expect(world.uidMap('c1')).toBe('0 1000000 1000000000');
    const c1 = host.child('c1', null);
    expect((await c1.probe()).flavour).toBe('snap');
    expect(world.daemonRange('c1')).toEqual({ kind: 'range', start: 100000, size: 999_900_000 });
  });

  it('Incus reads the files only with newuidmap installed', async () => {
    const incus = (tools: boolean) =>
      createSimWorld({
        host: { lxd: { flavour: 'incus' }, uidmapTools: tools, subuid: 'root:500000:196608\n', subgid: 'root:500000:196608\n' },
      });
    expect(incus(true).daemonRange('')).toEqual({ kind: 'range', start: 500000, size: 196608 });
    expect(incus(false).daemonRange('')).toEqual({ kind: 'range', start: 1_000_000, size: 1_000_000_000 });
    const world = incus(true);
    await world.host().restartDaemon(null);
    expect(world.restartCommands('')).toEqual([['systemctl', 'restart', 'incus']]);
  });

  it('a host without LXD says so', async () => {
    const world = createSimWorld({ host: { lxd: null } });
    const obs = await world.host().probe();
    expect(obs.flavour).toBeNull();
    expect(obs.daemon).toEqual({ kind: 'missing' });
    expect(obs.subuid.text).toBeNull();
    // The client finds no daemon to talk to before it runs anything; told which one, the shell finds no client.
    await expect(world.host().createInstance(spec('c1'))).rejects.toThrow(/no LXD or Incus to talk to on the host/);
    await expect(world.host('debian').createInstance(spec('c1'))).rejects.toThrow(/lxc: not found[\s\S]*|exit 127/);
  });
});

describe("LXD's refusals", () => {
  it('for unknown, running and duplicate instances, and unknown images', async () => {
    const world = createSimWorld(defaultWorld([{ alias: 'busybox', hostsLxd: false }]));
    const host = world.host();
    expect((await failure(host.startInstance('nope', false))).stderr).toBe('Error: Instance not found\n');
    expect((await failure(host.updateInstance('nope', { set: { a: 'b' } }))).stderr).toBe('Error: Instance not found\n');
    expect((await failure(host.createInstance(spec('c1', 'f'.repeat(64))))).stderr).toBe('Error: Image not found\n');
    await host.createInstance(spec('c1'));
    expect((await failure(host.createInstance(spec('c1')))).stderr).toContain('Instance "c1" already exists');
    expect((await failure(host.stopInstance('c1'))).stderr).toBe('Error: The instance is already stopped\n');
    await host.startInstance('c1', false);
    expect((await failure(host.startInstance('c1', false))).stderr).toBe('Error: The instance is already running\n');
    // nestctl deletes with --force (everything inside was proved deletable): running is no refusal.
    await host.deleteInstance('c1');
    expect(
      world
        .log()
        .slice(-2)
        .map((r) => r.op),
    ).toEqual(['stop', 'delete']);
    expect((await host.probe()).instances).toEqual([]);
    await expect(host.child('c1', null).probe()).rejects.toThrow(/Instance not found/);
    expect((await failure(host.createInstance({ ...spec('c2'), profiles: [] }))).stderr).toContain('No root device could be found');
  });

  it('for importing an image that is already there, and for remotes the world does not have', async () => {
    const world = createSimWorld({
      host: { lxd: { flavour: 'debian', initialised: true }, images: [{ alias: 'busybox' }] },
      remotes: { images: [{ alias: 'debian/12', lxd: true }] },
    });
    const host = world.host();
    const fp = (await host.probe()).images[0]!.fingerprint;
    const bundle = await host.exportImage(fp);
    expect(bundle.files.map((f) => f.split('/').pop())).toEqual([`meta-${fp}.tar.xz`, `${fp}.tar.xz`]);
    expect((await failure(host.importImage(bundle, ['again']))).stderr).toBe('Error: Image with same fingerprint already exists\n');
    await host.discardBundle(bundle);
    expect(world.files('').filter((f) => f.startsWith('/var/tmp'))).toEqual([]);
    await host.fetchImage('images:debian/12', 'deb');
    expect((await host.probe()).images.map((i) => i.aliases)).toEqual([['busybox'], ['deb']]);
    await expect(host.fetchImage('ubuntu:24.04', 'u')).rejects.toThrow(/Temporary failure in name resolution/);
    await expect(host.fetchImage('nowhere:x', 'u')).rejects.toThrow(/The remote "nowhere" doesn't exist/);
  });

  it('for a preseed changing a pool driver; re-applying the same preseed updates', async () => {
    const world = createSimWorld(defaultWorld([]));
    const host = world.host();
    await host.initDaemon(
      'storage_pools: [{name: default, driver: dir, config: {}}]\nnetworks: [{name: lxdbr0, config: {ipv4.address: 10.66.0.1/24}}]\n',
    );
    const err = await failure(host.initDaemon('storage_pools: [{name: default, driver: zfs}]\n'));
    expect(err.stderr).toBe('Error: Storage pool "default" is of type "dir" instead of "zfs"\n');
    expect(err.argv).toEqual(['lxd', 'init', '--preseed']);
  });

  it('for nested containers when the parent lacks security.nesting', async () => {
    const world = createSimWorld(debianHost('root:500000:196608\n'));
    const host = world.host();
    await host.createInstance(spec('c1', 'nest'));
    await host.startInstance('c1', true);
    const c1 = host.child('c1', null);
    await rewrite(c1, 'root:65536:131072\n');
    await c1.restartDaemon(null);
    await c1.initDaemon(
      'storage_pools: [{name: default, driver: dir}]\nprofiles: [{name: default, devices: {root: {path: /, pool: default, type: disk}}}]\n',
    );
    const b = await host.pushBundle(await host.exportImage('busybox'), 'c1');
    await c1.importImage(b, ['busybox']);
    await c1.createInstance(spec('c2'));
    expect((await failure(c1.startInstance('c2', false))).stderr).toContain('Failed to mount "proc"');
  });
});

describe('world descriptions', () => {
  it('pre-existing containers, nested levels and pinned maps', async () => {
    const world = createSimWorld({
      host: {
        lxd: { flavour: 'debian', initialised: true },
        subuid: 'root:500000:196608\n',
        subgid: 'root:500000:196608\n',
        images: [{ alias: 'nest', lxd: true }, { alias: 'busybox' }],
        instances: [
          {
            name: 'c1',
            image: 'nest',
            config: { 'security.nesting': 'true' },
            inside: {
              subuid: 'root:65536:131072\n',
              subgid: 'root:65536:131072\n',
              lxd: { flavour: 'debian', initialised: true },
              images: [{ alias: 'busybox' }],
              instances: [{ name: 'c2', image: 'busybox' }],
            },
          },
          {
            name: 'pinned',
            image: 'busybox',
            status: 'Stopped',
            config: {
              'volatile.idmap.next':
                '[{"Isuid":true,"Isgid":false,"Hostid":300000,"Nsid":0,"Maprange":65536},{"Isuid":false,"Isgid":true,"Hostid":300000,"Nsid":0,"Maprange":65536}]',
            },
          },
        ],
      },
    });
    expect(world.uidMap('c1')).toBe('0 500000 196608');
    expect(world.uidMap('c1/c2')).toBe('0 65536 131072');
    expect(world.daemonRange('c1')).toEqual({ kind: 'range', start: 65536, size: 131072 });
    const err = await failure(world.host().startInstance('pinned', false));
    expect(err.stderr).toContain('newuidmap: uid range [0-65536) -> [300000-365536) not allowed');
  });
});
