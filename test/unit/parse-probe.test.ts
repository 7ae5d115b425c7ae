// Probe output captured from real LXD 5.0.2 (Debian 12): the host and a nesting container (the
// installed-daemon lines in the probe's current shape).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { installedFlavours, observedProfiles, parseProbe } from '../../src/core/observe/parse-probe.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseProbe on real LXD output', () => {
  it('reads the host: flavour, daemon, files, pool, bridge, images and instances', () => {
    const l = parseProbe('', fixture('probe-host.txt'), PROBE_MARK, 'debian');
    expect(l.flavour).toBe('debian');
    expect(l.installed).toBeUndefined();
    expect(l.daemon).toMatchObject({ kind: 'up', version: '5.0.2' });
    expect(l.systemd).toBe(false);
    expect(l.subuid.text).toBe('_lxd:100000:10000001\nroot:500000:196608\n');
    expect(l.subuid.sha256).toBe('c4a3d817612c9921102729a0ee5963c171eae625167853b02f8e9e3bc801e7ad');
    expect(l.uidMap).toEqual([{ isuid: true, isgid: false, nsid: 0, hostid: 0, maprange: 4294967295 }]);
    expect(l.storagePools).toEqual(['default']);
    expect(l.networks.filter((n) => n.managed)).toEqual([{ name: 'lxdbr0', managed: true, ipv4: '10.66.0.1/24' }]);
    expect(l.defaultProfileHasRoot).toBe(true);
    expect(l.images.map((i) => i.aliases[0]).sort()).toEqual(['busybox', 'nest']);
    expect(l.instances.map((i) => [i.name, i.status])).toEqual([['lab-c1', 'Running']]);
    expect(JSON.parse(l.instances[0]!.config['volatile.idmap.current']!)[0]).toMatchObject({ Hostid: 500000, Maprange: 196608 });
    expect(l.daemon.kind === 'up' && l.daemon.startedAt).toBeGreaterThan(1.7e9);
    expect(l.profiles.map((p) => [p.name, p.devices['root']?.['path'], p.usedBy])).toEqual([['default', '/', ['lab-c1']]]);
  });

  it('reads profiles with their config, devices and users, by name (with the project outside the default one)', () => {
    const api = [
      {
        name: 'ci',
        description: 'd',
        config: { 'limits.cpu': '1' },
        devices: { d: { type: 'disk', path: '/d' } },
        used_by: ['/1.0/instances/c1', '/1.0/instances/web?project=team'],
      },
    ];
    expect(observedProfiles(api, '')).toEqual([
      {
        name: 'ci',
        description: 'd',
        config: { 'limits.cpu': '1' },
        devices: { d: { type: 'disk', path: '/d' } },
        usedBy: ['c1', 'project team/web'],
      },
    ]);
  });

  it('reads a fresh nested level: its own map, Debian defaults, nothing initialised', () => {
    const l = parseProbe('lab-c1', fixture('probe-nested.txt'), PROBE_MARK, 'debian');
    expect(l.systemd).toBe(true);
    expect(l.uidMap).toEqual([{ isuid: true, isgid: false, nsid: 0, hostid: 500000, maprange: 196608 }]);
    expect(l.subuid.text).toBe('_lxd:100000:10000001\nroot:100000:10000001\n');
    expect(l.storagePools).toEqual([]);
    expect(l.defaultProfileHasRoot).toBe(false);
    expect(l.images).toEqual([]);
    expect(l.instances).toEqual([]);
  });

  it('tells a missing LXD from a daemon that does not answer', () => {
    const line = (name: string, status: string, body = '') => `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`;
    const missing = parseProbe('', [line('has_lxd', 'no'), line('has_incus', 'no'), line('subuid', 'absent')].join('\n'), PROBE_MARK, null);
    expect(missing.daemon).toEqual({ kind: 'missing' });
    expect(missing.subuid).toEqual({ text: null, sha256: null, mtime: null });
    const down = parseProbe(
      '',
      [line('has_lxd', 'yes'), line('server', '1', 'Error: connect: no such file or directory')].join('\n'),
      PROBE_MARK,
      'debian',
    );
    expect(down.daemon).toEqual({ kind: 'down', error: 'Error: connect: no such file or directory' });
  });

  it("reports the daemons installed as raw facts; the snap's own lxd on the PATH is no Debian package", () => {
    const line = (name: string, status: string) => `${PROBE_MARK} ${name} ${status} `;
    expect(
      installedFlavours([line('has_snap_lxd', 'no'), line('has_lxd', 'yes'), line('has_incus', 'yes')].join('\n'), PROBE_MARK, ''),
    ).toEqual(['debian', 'incus']);
    expect(
      installedFlavours([line('has_snap_lxd', 'yes'), line('has_lxd', 'yes'), line('has_incus', 'no')].join('\n'), PROBE_MARK, ''),
    ).toEqual(['snap']);
    const both = parseProbe('', [line('has_lxd', 'yes'), line('has_incus', 'yes')].join('\n'), PROBE_MARK, null);
    expect(both).toMatchObject({ flavour: null, installed: ['debian', 'incus'], daemon: { kind: 'down' } });
  });
});
