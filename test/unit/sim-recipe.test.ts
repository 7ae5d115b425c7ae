// The classic three-level recipe (LAB.md), done by hand through the LxdLevel API of the
// simulated LXD, and its negative case.

import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/core/errors.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { DEBIAN_SUBID, defaultWorld } from '../../src/sim/index.js';

const preseed = (subnet: string): string => `storage_pools:
- name: default
  driver: dir
networks:
- name: lxdbr0
  type: bridge
  config:
    ipv4.address: ${subnet}
    ipv4.nat: "false"
    ipv6.address: none
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
    eth0: {name: eth0, network: lxdbr0, type: nic}
`;

async function setRoot(level: LxdLevel, line: string): Promise<void> {
  const obs = await level.probe();
  await level.writeSubid('subuid', line, obs.subuid.sha256);
  await level.writeSubid('subgid', line, obs.subgid.sha256);
}

async function fingerprintOf(level: LxdLevel, alias: string): Promise<string> {
  const img = (await level.probe()).images.find((i) => i.aliases.includes(alias));
  if (!img) throw new Error(`no ${alias}`);
  return img.fingerprint;
}

/** export at `from`, push down through `hops`, import at the end (the copy-image step by hand). */
async function copyImage(world: SimWorld, from: string, hops: string[], fingerprint: string, alias: string): Promise<void> {
  let here = from;
  let bundle = await world.level(here).exportImage(fingerprint);
  for (const hop of hops) {
    const next = await world.level(here).pushBundle(bundle, hop);
    await world.level(here).discardBundle(bundle);
    bundle = next;
    here = here === '' ? hop : `${here}/${hop}`;
  }
  await world.level(here).importImage(bundle, [alias]);
  await world.level(here).discardBundle(bundle);
}

const nesting = { 'security.nesting': 'true' };

describe('simulated LXD: the classic recipe by hand', () => {
  it('gives c1, c2, c3 the maps 0 500000 196608 / 0 65536 131072 / 0 65536 65536', async () => {
    const world = createSimWorld(
      defaultWorld([
        { alias: 'nest', hostsLxd: true },
        { alias: 'busybox', hostsLxd: false },
      ]),
    );
    const host = world.host();
    const nest = await fingerprintOf(host, 'nest');
    const busybox = await fingerprintOf(host, 'busybox');

    // host
    await setRoot(host, 'root:500000:196608\n');
    await host.restartDaemon(null);
    expect(world.restartCommands('')).toEqual([['systemctl', 'restart', 'lxd']]);
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 500000, size: 196608 });
    await host.createInstance({ name: 'c1', fingerprint: nest, profiles: ['default'], config: nesting });
    await host.startInstance('c1', true);
    expect(world.uidMap('c1')).toBe('0 500000 196608');

    // c1: starts with Debian's default files, its LXD socket-activated on first use
    const c1 = host.child('c1', null);
    const first = await c1.probe();
    expect(first.subuid.text).toBe(DEBIAN_SUBID);
    expect(first.daemon).toEqual({ kind: 'up', version: '5.0.2', startedAt: null });
    expect(first.uidMap).toEqual([{ isuid: true, isgid: false, nsid: 0, hostid: 500000, maprange: 196608 }]);
    expect(first.storagePools).toEqual([]);
    expect(first.defaultProfileHasRoot).toBe(false);
    await setRoot(c1, 'root:65536:131072\n');
    await c1.restartDaemon(null);
    expect(world.daemonRange('c1')).toEqual({ kind: 'range', start: 65536, size: 131072 });
    await c1.initDaemon(preseed('10.77.1.1/24'));
    await copyImage(world, '', ['c1'], nest, 'nest');
    await c1.createInstance({ name: 'c2', fingerprint: nest, profiles: ['default'], config: nesting });
    await c1.startInstance('c2', true);
    expect(world.uidMap('c1/c2')).toBe('0 65536 131072');

    // c2
    const c2 = c1.child('c2', null);
    await setRoot(c2, 'root:65536:65536\n');
    await c2.restartDaemon(null);
    await c2.initDaemon(preseed('10.77.2.1/24'));
    await copyImage(world, '', ['c1', 'c2'], busybox, 'busybox');
    await c2.createInstance({ name: 'c3', fingerprint: busybox, profiles: ['default'], config: {} });
    await c2.startInstance('c3', false);
    expect(world.uidMap('c1/c2/c3')).toBe('0 65536 65536');

    // what probes show
    const o1 = await c1.probe();
    expect(o1.daemon.kind === 'up' && o1.daemon.startedAt).toBeGreaterThan(0);
    expect(o1.storagePools).toEqual(['default']);
    expect(o1.defaultProfileHasRoot).toBe(true);
    expect(o1.networks.filter((n) => n.managed)).toEqual([{ name: 'lxdbr0', managed: true, ipv4: '10.77.1.1/24' }]);
    expect(o1.images).toEqual([{ fingerprint: nest, aliases: ['nest'] }]);
    const c2obs = o1.instances.find((i) => i.name === 'c2')!;
    expect(c2obs.status).toBe('Running');
    expect(c2obs.config['security.nesting']).toBe('true');
    expect(c2obs.config['volatile.base_image']).toBe(nest);
    expect(c2obs.config['volatile.idmap.base']).toBe('0');
    const map =
      '[{"Isuid":true,"Isgid":false,"Hostid":65536,"Nsid":0,"Maprange":131072},{"Isuid":false,"Isgid":true,"Hostid":65536,"Nsid":0,"Maprange":131072}]';
    expect(c2obs.config['volatile.idmap.current']).toBe(map);
    expect(c2obs.config['volatile.idmap.next']).toBe(map);
    expect(c2obs.config['volatile.last_state.idmap']).toBe(map);
    const o3 = await c2.child('c3', null).probe();
    expect(o3.flavour).toBeNull();
    expect(o3.daemon).toEqual({ kind: 'missing' });

    // no temp files left behind at any level
    for (const path of ['', 'c1', 'c1/c2']) expect(world.files(path).filter((f) => f.startsWith('/var/tmp/'))).toEqual([]);
    // the untouched files are recorded once, for destroy --restore-ids
    expect(world.files('c1')).toEqual([
      '/etc/subgid',
      '/etc/subgid-',
      '/etc/subuid',
      '/etc/subuid-',
      '/var/lib/nestctl/subgid.orig',
      '/var/lib/nestctl/subuid.orig',
    ]);
    // c1's LXD restart kept c2 (and c3 inside it) running
    await c1.restartDaemon(null);
    expect((await c1.probe()).instances.find((i) => i.name === 'c2')?.status).toBe('Running');
    expect((await c2.probe()).instances.find((i) => i.name === 'c3')?.status).toBe('Running');
  });

  it("refuses unprivileged children while a nested level keeps Debian's root:100000:10000001", async () => {
    const world = createSimWorld(defaultWorld([{ alias: 'nest', hostsLxd: true }]));
    const host = world.host();
    const nest = await fingerprintOf(host, 'nest');
    await setRoot(host, 'root:500000:196608\n');
    await host.restartDaemon(null);
    await host.createInstance({ name: 'c1', fingerprint: nest, profiles: ['default'], config: nesting });
    await host.startInstance('c1', true);
    const c1 = host.child('c1', null);
    await c1.initDaemon(preseed('10.77.1.1/24'));
    await copyImage(world, '', ['c1'], nest, 'nest');

    expect(world.daemonRange('c1')).toEqual({ kind: 'privileged-only' });
    expect(world.daemonLog('c1')).toContain("WARNING One or more uid/gid map entry isn't usable (typically due to nesting)");
    expect(world.daemonLog('c1')).toContain('INFO  - u 0 100000 10000001 (unusable)');
    const err = await c1.createInstance({ name: 'c2', fingerprint: nest, profiles: ['default'], config: nesting }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    const stderr = (err as CommandError).stderr;
    expect(stderr).toContain("LXD doesn't have a uid/gid allocation. In this mode, only privileged containers are supported");
    expect(stderr).toMatch(
      /^Error: Failed creating instance record: Failed initialising instance: Invalid config: LXD doesn't have a uid\/gid allocation/,
    );
    expect((err as CommandError).level).toBe('c1');
    expect((await c1.probe()).instances).toEqual([]);

    // privileged containers still work there, and share c1's namespace
    await c1.createInstance({ name: 'p', fingerprint: nest, profiles: ['default'], config: { ...nesting, 'security.privileged': 'true' } });
    await c1.startInstance('p', true);
    expect(world.uidMap('c1/p')).toBe('0 500000 196608');
  });
});
