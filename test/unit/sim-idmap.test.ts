// LXD's id rules as the simulator applies them: the daemon's range (DefaultIdmapSet,
// kernelDefaultMap, Usable) and containers' maps (findIdmap), directly and through the API.

import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/core/errors.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import type { WorldDescription } from '../../src/sim/index.js';
import { findIdmap, type Neighbour } from '../../src/sim/find-idmap.js';
import { entry, FULL_KERNEL_SET, getIdmapSet, idmapFromJson, kernelDefaultMap, kernelSetOf } from '../../src/sim/idmap.js';
import { parseRawIdmap } from '../../src/sim/raw-idmap.js';

const inContainer = (hostid: number, size: number) => kernelSetOf([entry('u', 0, hostid, size), entry('g', 0, hostid, size)]);
const files = (line: string) => ({ subuid: line, subgid: line });
const uidRange = (set: ReturnType<typeof getIdmapSet>) => {
  const u = set.set?.find((e) => e.Isuid);
  return set.set && u ? [u.Hostid, u.Maprange] : null;
};

describe("LXD's daemon range (DefaultIdmapSet / GetIdmapSet)", () => {
  it('uses the first root entry of at least 65536 ids, per file', () => {
    const text = 'lxd:100000:65536\nroot:1000:10\nroot:500000:196608\nroot:900000:196608\n';
    expect(uidRange(getIdmapSet(files(text), FULL_KERNEL_SET))).toEqual([500000, 196608]);
    const split = getIdmapSet({ subuid: 'root:500000:196608\n', subgid: 'root:700000:65536\n' }, FULL_KERNEL_SET);
    expect(split.set).toEqual([entry('u', 0, 500000, 196608), entry('g', 0, 700000, 65536)]);
  });

  it('matches the user name case-insensitively and skips comments and unparsable numbers', () => {
    // "x" and "65536 " do not parse: no root entry at all, so LXD falls back to its own default
    expect(uidRange(getIdmapSet(files('# root:1:1\nROOT:x:65536\nRoot:300000:65536 # c\n'), FULL_KERNEL_SET))).toEqual([
      1_000_000, 1_000_000_000,
    ]);
    expect(uidRange(getIdmapSet(files('# root:1:1\nRoot:300000:65536\n'), FULL_KERNEL_SET))).toEqual([300000, 65536]);
  });

  it('falls back to its own namespace when root has no line: 1000000:1000000000 on a real host', () => {
    expect(uidRange(getIdmapSet(files('alice:100000:65536\n'), FULL_KERNEL_SET))).toEqual([1_000_000, 1_000_000_000]);
    expect(uidRange(getIdmapSet(null, FULL_KERNEL_SET))).toEqual([1_000_000, 1_000_000_000]);
  });

  it('in a container, without root lines, takes 100000 up to the end of its uid_map', () => {
    expect(kernelDefaultMap(inContainer(500000, 196608))).toEqual([entry('u', 0, 100000, 96608), entry('g', 0, 100000, 96608)]);
    // needs Endid-100000 ≥ 65536: 165536 ids are one too few
    expect(kernelDefaultMap(inContainer(500000, 165536))).toEqual([]);
    expect(kernelDefaultMap(inContainer(500000, 165537))).toEqual([entry('u', 0, 100000, 65537), entry('g', 0, 100000, 65537)]);
  });

  it('is privileged-only when the entry does not fit the level (typically due to nesting)', () => {
    const r = getIdmapSet(files('root:100000:10000001\n'), inContainer(500000, 196608));
    expect(r.set).toBeNull();
    expect(r.log).toContain("WARNING One or more uid/gid map entry isn't usable (typically due to nesting)");
    expect(getIdmapSet(files('root:65536:131072\n'), inContainer(500000, 196608)).set).not.toBeNull();
    expect(getIdmapSet(files('root:65536:131073\n'), inContainer(500000, 196608)).set).toBeNull();
  });

  it('is privileged-only when only small entries exist, and on a malformed file', () => {
    expect(getIdmapSet(files('root:100000:65535\n'), FULL_KERNEL_SET).log).toContain('WARNING No available uid/gid map could be found');
    const bad = getIdmapSet(files('root\n'), FULL_KERNEL_SET);
    expect(bad.set).toBeNull();
    expect(bad.log[0]).toContain('Unexpected values in "/etc/subuid"');
  });
});

describe("LXD's container maps (findIdmap)", () => {
  const daemon = [entry('u', 0, 1_000_000, 196608), entry('g', 0, 1_000_000, 196608)];
  const isolated = (name: string, base: number, size?: number): Neighbour => ({
    name,
    expanded: {
      'security.idmap.isolated': 'true',
      'volatile.idmap.base': String(base),
      ...(size ? { 'security.idmap.size': String(size) } : {}),
    },
  });

  it('gives non-isolated containers the whole range', () => {
    expect(findIdmap({ flavour: 'debian', daemon, name: 'a', expanded: { 'security.idmap.size': '1000' }, neighbours: [] })).toEqual({
      ok: true,
      set: daemon,
      base: 0,
    });
  });

  it('starts isolated slices 65536 into the range, with a strict fit test', () => {
    const iso = { 'security.idmap.isolated': 'true' };
    expect(findIdmap({ flavour: 'debian', daemon, name: 'a', expanded: iso, neighbours: [] })).toMatchObject({ ok: true, base: 1_065_536 });
    // 196608 = 65536·3 holds one isolated slice, not two: 1131072 + 65536 < 1196608 is false
    expect(findIdmap({ flavour: 'debian', daemon, name: 'b', expanded: iso, neighbours: [isolated('a', 1_065_536)] })).toEqual({
      ok: false,
      error: 'Not enough uid/gid available for the container',
    });
    const bigger = [entry('u', 0, 1_000_000, 196609), entry('g', 0, 1_000_000, 196609)];
    expect(
      findIdmap({ flavour: 'debian', daemon: bigger, name: 'b', expanded: iso, neighbours: [isolated('a', 1_065_536)] }),
    ).toMatchObject({ ok: true, base: 1_131_072 });
  });

  it('ignores privileged and non-isolated neighbours, and itself', () => {
    const iso = { 'security.idmap.isolated': 'true' };
    const neighbours: Neighbour[] = [
      { name: 'p', expanded: { 'security.idmap.isolated': 'true', 'security.privileged': 'true', 'volatile.idmap.base': '1065536' } },
      { name: 'n', expanded: { 'volatile.idmap.base': '1065536' } },
      isolated('a', 1_065_536),
    ];
    expect(findIdmap({ flavour: 'debian', daemon, name: 'a', expanded: iso, neighbours })).toMatchObject({ ok: true, base: 1_065_536 });
  });

  it('takes security.idmap.base as given, and sizes from security.idmap.size', () => {
    expect(
      findIdmap({
        flavour: 'debian',
        daemon,
        name: 'a',
        expanded: { 'security.idmap.isolated': 'true', 'security.idmap.base': '5000000', 'security.idmap.size': '1000' },
        neighbours: [],
      }),
    ).toEqual({
      ok: true,
      set: [entry('u', 0, 5_000_000, 1000), entry('g', 0, 5_000_000, 1000)],
      base: 5_000_000,
    });
  });

  it('adds raw.idmap entries, splitting the range around them', () => {
    const raw = parseRawIdmap('both 1000 1000');
    expect(Array.isArray(raw)).toBe(true);
    const found = findIdmap({
      flavour: 'debian',
      daemon: [entry('u', 0, 1_000_000, 65536), entry('g', 0, 1_000_000, 65536)],
      name: 'a',
      expanded: { 'raw.idmap': 'uid 1000 1000' },
      neighbours: [],
    });
    expect(found).toEqual({
      ok: true,
      base: 0,
      set: [entry('u', 0, 1_000_000, 1000), entry('u', 1000, 1000, 1), entry('u', 1001, 1_001_001, 64535), entry('g', 0, 1_000_000, 65536)],
    });
  });
});

describe('isolated containers through the API', () => {
  const desc = (size: number): WorldDescription => ({
    host: {
      lxd: { flavour: 'debian', initialised: true },
      subuid: `root:1000000:${size}\n`,
      subgid: `root:1000000:${size}\n`,
      images: [{ alias: 'busybox' }],
    },
  });
  const spec = (name: string, config: Record<string, string> = { 'security.idmap.isolated': 'true' }) => ({
    name,
    fingerprint: 'busybox',
    profiles: ['default'],
    config,
  });

  it('gives each isolated child its own slice, refuses the one that does not fit, shares the rest', async () => {
    const world = createSimWorld(desc(65536 * 4));
    const host = world.host();
    await host.createInstance(spec('a'));
    await host.createInstance(spec('b'));
    const err = await host.createInstance(spec('c')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).stderr).toBe(
      'Error: Failed creating instance record: Failed initialising instance: Not enough uid/gid available for the container\n',
    );
    await host.createInstance(spec('shared', {}));
    for (const n of ['a', 'b', 'shared']) await host.startInstance(n, false);
    expect(world.uidMap('a')).toBe('0 1065536 65536');
    expect(world.uidMap('b')).toBe('0 1131072 65536');
    expect(world.uidMap('shared')).toBe('0 1000000 262144');
    const obs = await host.probe();
    expect(obs.instances.map((i) => [i.name, i.config['volatile.idmap.base']])).toEqual([
      ['a', '1065536'],
      ['b', '1131072'],
      ['shared', '0'],
    ]);
  });

  it('fits a third slice with one id more (N isolated need more than 65536·(N+1))', async () => {
    const world = createSimWorld(desc(65536 * 4 + 1));
    const host = world.host();
    for (const n of ['a', 'b', 'c']) await host.createInstance(spec(n));
    const bases = (await host.probe()).instances.map((i) => idmapFromJson(i.config['volatile.idmap.next'])[0]!.Hostid);
    expect(bases).toEqual([1_065_536, 1_131_072, 1_196_608]);
    await expect(host.createInstance(spec('d'))).rejects.toThrow(/Not enough uid\/gid available/);
  });

  it('reuses the slice a deleted isolated container left', async () => {
    const world = createSimWorld(desc(65536 * 4));
    const host = world.host();
    await host.createInstance(spec('a'));
    await host.createInstance(spec('b'));
    await host.deleteInstance('a');
    await host.createInstance(spec('c'));
    expect(idmapFromJson((await host.probe()).instances.find((i) => i.name === 'c')!.config['volatile.idmap.next'])[0]!.Hostid).toBe(
      1_065_536,
    );
  });

  it('computes a new map only when an idmap key changes, applied at the next start', async () => {
    const world = createSimWorld(desc(65536 * 4));
    const host = world.host();
    await host.createInstance(spec('a', {}));
    await host.startInstance('a', false);
    await host.updateInstance('a', { set: { 'user.note': 'x' } });
    let cfg = (await host.probe()).instances[0]!.config;
    expect(cfg['volatile.idmap.next']).toBe(cfg['volatile.idmap.current']);
    await host.updateInstance('a', { set: { 'security.idmap.isolated': 'true' } });
    cfg = (await host.probe()).instances[0]!.config;
    expect(idmapFromJson(cfg['volatile.idmap.next'])[0]).toEqual(entry('u', 0, 1_065_536, 65536));
    expect(idmapFromJson(cfg['volatile.idmap.current'])[0]).toEqual(entry('u', 0, 1_000_000, 262144));
    expect(world.uidMap('a')).toBe('0 1000000 262144');
    await host.stopInstance('a');
    await host.startInstance('a', false);
    expect(world.uidMap('a')).toBe('0 1065536 65536');
    cfg = (await host.probe()).instances[0]!.config;
    expect(cfg['volatile.last_state.idmap']).toBe(cfg['volatile.idmap.current']);
  });
});

describe("where Incus's findIdmap differs from LXD's (the level's flavour decides)", () => {
  const daemon = [entry('u', 0, 1_000_000, 196608), entry('g', 0, 1_000_000, 196608)];
  const iso = { 'security.idmap.isolated': 'true' };
  const first: Neighbour = { name: 'a', expanded: { ...iso, 'volatile.idmap.base': '1065536' } };

  it('fits a slice that ends exactly at the end of the range on Incus, not on LXD', () => {
    // 1131072 + 65536 = 1196608, the range's end: LXD tests <, Incus >= 6.0.3 tests <=
    expect(findIdmap({ flavour: 'incus', daemon, name: 'b', expanded: iso, neighbours: [first] })).toMatchObject({
      ok: true,
      base: 1_131_072,
    });
    for (const flavour of ['debian', 'snap'] as const) {
      expect(findIdmap({ flavour, daemon, name: 'b', expanded: iso, neighbours: [first] })).toEqual({
        ok: false,
        error: 'Not enough uid/gid available for the container',
      });
    }
  });

  it('shortens a non-isolated copy to security.idmap.size on Incus; LXD copies the whole range', () => {
    const expanded = { 'security.idmap.size': '65536' };
    expect(findIdmap({ flavour: 'incus', daemon, name: 'a', expanded, neighbours: [] })).toEqual({
      ok: true,
      set: [entry('u', 0, 1_000_000, 65536), entry('g', 0, 1_000_000, 65536)],
      base: 0,
    });
    expect(findIdmap({ flavour: 'debian', daemon, name: 'a', expanded, neighbours: [] })).toEqual({ ok: true, set: daemon, base: 0 });
    // an entry already shorter than the size is kept; "auto" is the whole first range
    const split = [entry('u', 0, 1_000_000, 196608), entry('g', 0, 2_000_000, 65536)];
    expect(
      findIdmap({ flavour: 'incus', daemon: split, name: 'a', expanded: { 'security.idmap.size': '100000' }, neighbours: [] }),
    ).toMatchObject({
      set: [entry('u', 0, 1_000_000, 100000), entry('g', 0, 2_000_000, 65536)],
    });
    expect(findIdmap({ flavour: 'incus', daemon, name: 'a', expanded: { 'security.idmap.size': 'auto' }, neighbours: [] })).toMatchObject({
      set: daemon,
    });
    expect(findIdmap({ flavour: 'incus', daemon, name: 'a', expanded: { 'security.idmap.size': 'x' }, neighbours: [] })).toEqual({
      ok: false,
      error: 'strconv.ParseInt: parsing "x": invalid syntax',
    });
  });

  it('skips an isolated neighbour without volatile.idmap.base on Incus; LXD counts it at 0', () => {
    const unallocated: Neighbour = { name: 'u', expanded: { ...iso } };
    expect(findIdmap({ flavour: 'incus', daemon, name: 'b', expanded: iso, neighbours: [unallocated] })).toMatchObject({
      ok: true,
      base: 1_065_536,
    });
    // LXD's slice at 0..65535 moves the search to 65536, below its own range, and fits there
    expect(findIdmap({ flavour: 'debian', daemon, name: 'b', expanded: iso, neighbours: [unallocated] })).toMatchObject({
      ok: true,
      base: 65536,
    });
  });

  describe('through the API', () => {
    const world = (flavour: 'debian' | 'incus') =>
      createSimWorld({
        host: {
          lxd: { flavour, initialised: true },
          subuid: 'root:1000000:196608\n',
          subgid: 'root:1000000:196608\n',
          images: [{ alias: 'busybox' }],
        },
      });
    const spec = (name: string, config: Record<string, string>) => ({ name, fingerprint: 'busybox', profiles: ['default'], config });

    it('Incus accepts the isolated slice that ends at the range end; LXD refuses it with its own words', async () => {
      const incus = world('incus');
      await incus.host().createInstance(spec('a', iso));
      await incus.host().createInstance(spec('b', iso));
      await incus.host().startInstance('b', false);
      expect(incus.uidMap('b')).toBe('0 1131072 65536');

      const lxd = world('debian');
      await lxd.host().createInstance(spec('a', iso));
      const err = await lxd
        .host()
        .createInstance(spec('b', iso))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandError);
      expect((err as CommandError).stderr).toBe(
        'Error: Failed creating instance record: Failed initialising instance: Not enough uid/gid available for the container\n',
      );
    });

    it('a non-isolated container with security.idmap.size gets a shorter map on Incus, the full copy on LXD', async () => {
      const maps: string[] = [];
      for (const flavour of ['incus', 'debian'] as const) {
        const w = world(flavour);
        await w.host().createInstance(spec('s', { 'security.idmap.size': '65536' }));
        await w.host().startInstance('s', false);
        maps.push(w.uidMap('s') ?? 'none');
      }
      expect(maps).toEqual(['0 1000000 65536', '0 1000000 196608']);
    });
  });
});
