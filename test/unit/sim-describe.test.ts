// World descriptions: parseWorld (YAML/JSON with positioned diagnostics) and defaultWorld.

import { lineCol } from './helpers/placed.js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { DEBIAN_SUBID, defaultWorld, parseWorld } from '../../src/sim/index.js';

const diagnostics = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).diagnostics.map((d) => `${lineCol(d)} ${d.message}`);
  }
  throw new Error('expected an InputError');
};

describe('parseWorld', () => {
  it('reads a YAML world, turning config values into strings', async () => {
    const desc = parseWorld(
      `clock: 1000
host:
  lxd: {flavour: debian, initialised: true}
  subuid: "root:500000:196608\\n"
  subgid: "root:500000:196608\\n"
  images:
    - alias: nest
      lxd: true
  instances:
    - name: c1
      image: nest
      config:
        security.nesting: true
        limits.cpu: 4
remotes:
  images:
    - {alias: debian/12, lxd: {flavour: debian}}
`,
      'w.yaml',
    );
    expect(desc.host.instances?.[0]?.config).toEqual({ 'security.nesting': 'true', 'limits.cpu': '4' });
    const world = createSimWorld(desc);
    expect(world.uidMap('c1')).toBe('0 500000 196608');
    expect(world.file('c1', '/etc/subuid')).toBe(DEBIAN_SUBID);
    expect(world.daemonRange('c1')).toEqual({ kind: 'privileged-only' });
    const obs = await world.host().probe();
    expect(obs.now).toBeGreaterThan(1000);
    expect(obs.instances[0]?.status).toBe('Running');
  });

  it('reads JSON too', () => {
    const desc = parseWorld('{"host": {"lxd": null}}', 'w.json');
    expect(desc.host.lxd).toBeNull();
  });

  it('points at unknown keys, wrong types and YAML errors', () => {
    expect(
      diagnostics(() =>
        parseWorld(
          `host:
  lxd: {flavour: debain}
  images:
    - alias: nest
      colour: blue
`,
          'w.yaml',
        ),
      ),
    ).toEqual([
      '2:18 expected one of debian, incus, snap',
      '5:15 unknown key "colour" (expected one of: alias, aliases, fingerprint, lxd, systemd, uidmapTools, shell, lxc)',
    ]);
    expect(diagnostics(() => parseWorld('host: {}\nhost: {}\n', 'w.yaml'))[0]).toMatch(/^2:1 .*unique/i);
    expect(diagnostics(() => parseWorld('clock: 5\n', 'w.yaml'))).toEqual(['1:1 missing key "host"']);
  });

  it('points at instances that cannot exist', () => {
    expect(
      diagnostics(() =>
        parseWorld(
          `host:
  lxd: {flavour: debian, initialised: true}
  images: [{alias: busybox}]
  instances:
    - name: c1
      image: nest
`,
          'w.yaml',
        ),
      ),
    ).toEqual(['6:14 image "nest" is not in the host\'s image store']);
    expect(
      diagnostics(() =>
        parseWorld(
          `host:
  lxd: {flavour: debian, initialised: true}
  subuid: "root:100000:10\\n"
  subgid: "root:100000:10\\n"
  images: [{alias: busybox}]
  instances:
    - name: c1
      image: busybox
`,
          'w.yaml',
        ),
      )[0],
    ).toMatch(/^7:7 c1 cannot be created here: Invalid config: LXD doesn't have a uid\/gid allocation/);
  });
});

describe('defaultWorld', () => {
  it("is a fresh Debian host with LXD 5.0.2 up and initialised, Debian's subid lines, and the images", async () => {
    const world = createSimWorld(
      defaultWorld([
        { alias: 'nest', hostsLxd: true },
        { alias: 'busybox', hostsLxd: false },
        { alias: 'nest', hostsLxd: false },
      ]),
    );
    const obs = await world.host().probe();
    expect(obs.flavour).toBe('debian');
    expect(obs.daemon).toMatchObject({ kind: 'up', version: '5.0.2' });
    expect(obs.systemd).toBe(true);
    expect(obs.subuid.text).toBe(DEBIAN_SUBID);
    expect(obs.subgid.text).toBe(DEBIAN_SUBID);
    expect(obs.uidMap).toEqual([{ isuid: true, isgid: false, nsid: 0, hostid: 0, maprange: 4294967295 }]);
    expect(obs.storagePools).toEqual(['default']);
    expect(obs.networks.filter((n) => n.managed)).toEqual([{ name: 'lxdbr0', managed: true, ipv4: '10.66.0.1/24' }]);
    expect(obs.defaultProfileHasRoot).toBe(true);
    expect(obs.images.map((i) => i.aliases)).toEqual([['nest'], ['busybox']]);
    expect(obs.images.every((i) => /^[0-9a-f]{64}$/.test(i.fingerprint))).toBe(true);
    expect(world.daemonRange('')).toEqual({ kind: 'range', start: 100000, size: 10000001 });
  });
});
