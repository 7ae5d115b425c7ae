// The simulator answers the real probe in the script's format (src/sim/encode-probe.ts,
// encode-lxc.ts), and the real parsers read it: for any level the simulator can hold, what
// core/observe reads back is that level, field for field. A fact the encoder dropped or wrote
// in another shape than the script would make the simulated and the real observation differ.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { flavourInfo, type Flavour } from '../../src/core/flavour/index.js';
import { sha256 } from '../../src/core/hash.js';
import type { DaemonState, FileState, ObservedLevel, ObservedLxc, ObservedProfile } from '../../src/core/observed.js';
import { parseLxcProbe } from '../../src/core/observe/parse-lxc.js';
import { installedField, parseProbe, undecidedDaemon } from '../../src/core/observe/parse-probe.js';
import { encodeLxcProbe } from '../../src/sim/encode-lxc.js';
import { encodeProbe } from '../../src/sim/encode-probe.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
/** An instance name LXD accepts (a hostname label). */
const instanceName = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const id = fc.nat({ max: 4_000_000_000 });
const config = fc.dictionary(fc.stringMatching(/^[a-z][a-z.]{0,15}$/), text, { maxKeys: 4 });
const file: fc.Arbitrary<FileState> = fc.oneof(
  fc.constant({ text: null, sha256: null, mtime: null }),
  fc
    .record({ text, mtime: fc.integer({ min: 1, max: 2_000_000_000 }) })
    .map((f) => ({ text: f.text, sha256: sha256(f.text), mtime: f.mtime })),
);
const uidMap = fc.array(
  fc
    .record({ nsid: id, hostid: id, maprange: fc.integer({ min: 1, max: 1_000_000_000 }) })
    .map((e) => ({ isuid: true, isgid: false, ...e })),
  { maxLength: 3 },
);
const profile: fc.Arbitrary<ObservedProfile> = fc.record({
  name: word,
  description: text,
  config,
  devices: fc.dictionary(word, fc.dictionary(fc.constantFrom('type', 'path', 'pool', 'nictype'), word, { maxKeys: 3 }), { maxKeys: 2 }),
  usedBy: fc.array(
    fc.oneof(
      word,
      fc.tuple(word, word).map(([p, n]) => `project ${p}/${n}`),
    ),
    { maxLength: 3 },
  ),
});

/** What a running daemon lists. */
const live = fc.record({
  version: fc.stringMatching(/^[0-9]\.[0-9]{1,2}(\.[0-9])?$/),
  startedAt: fc.option(fc.integer({ min: 1, max: 2_000_000_000 }), { nil: null }),
  pools: fc.uniqueArray(fc.tuple(word, fc.constantFrom('dir', 'zfs', 'btrfs')), { maxLength: 2, selector: ([n]) => n }),
  networks: fc.array(
    fc.record({ name: word, managed: fc.boolean(), ipv4: fc.option(fc.constantFrom('10.0.3.1/24', '192.0.2.1/24'), { nil: null }) }),
    { maxLength: 3 },
  ),
  // As a real daemon lists them (core/observe/untrusted.ts refuses anything else): no fingerprint or alias twice.
  images: fc
    .uniqueArray(fc.record({ fingerprint: fc.stringMatching(/^[0-9a-f]{64}$/), aliases: fc.uniqueArray(word, { maxLength: 2 }) }), {
      maxLength: 2,
      selector: (i) => i.fingerprint,
    })
    .filter((images) => new Set(images.flatMap((i) => i.aliases)).size === images.flatMap((i) => i.aliases).length),
  instances: fc.uniqueArray(
    fc
      .record({
        name: instanceName,
        project: fc.constantFrom('default', 'other'),
        status: fc.constantFrom('Running', 'Stopped'),
        profiles: fc.array(word, { maxLength: 2 }),
        config,
        location: fc.option(word, { nil: undefined }),
        // The state's addresses: none while stopped (its state is null), absent when not read.
        ipv4: fc.option(fc.array(fc.ipV4(), { maxLength: 2 }), { nil: undefined }),
      })
      .map(({ location, ipv4, ...i }) => ({
        ...i,
        ...(location === undefined ? {} : { location }),
        ...(ipv4 === undefined ? {} : { ipv4: i.status === 'Running' ? ipv4 : [] }),
      })),
    { maxLength: 3, selector: (i) => `${i.project}/${i.name}` },
  ),
  profiles: fc.uniqueArray(profile, { maxLength: 3, selector: (p) => p.name }),
  members: fc.option(
    fc.array(fc.record({ name: word, status: fc.constantFrom('Online', 'Offline'), groups: fc.array(word, { maxLength: 2 }) }), {
      minLength: 1,
      maxLength: 3,
    }),
    { nil: undefined },
  ),
});

const installedArb: fc.Arbitrary<Flavour[]> = fc.constantFrom<Flavour[]>(
  [],
  ['debian'],
  ['snap'],
  ['incus'],
  ['debian', 'incus'],
  ['snap', 'incus'],
);

const level: fc.Arbitrary<ObservedLevel> = fc
  .record({
    path: fc.oneof(fc.constant(''), word),
    installed: installedArb,
    pick: fc.nat(),
    down: fc.option(
      text.map((t) => `Error: ${t}`.trim()),
      { nil: null },
    ),
    live,
    systemd: fc.boolean(),
    subuid: file,
    subgid: file,
    orig: fc.tuple(fc.option(text, { nil: null }), fc.option(text, { nil: null })),
    uidMap,
    kernel: fc.option(fc.stringMatching(/^[0-9]\.[0-9]+\.[0-9a-z.-]{1,12}$/), { nil: undefined }),
    now: fc.integer({ min: 0, max: 2_000_000_000 }),
  })
  .map((g) => {
    const flavour = g.installed.length === 0 ? null : (g.installed[g.pick % (g.installed.length + 1)] ?? null);
    const daemon: DaemonState =
      flavour === null
        ? g.installed.length === 0
          ? { kind: 'missing' }
          : undecidedDaemon(g.installed)
        : g.down !== null
          ? { kind: 'down', error: g.down }
          : { kind: 'up', version: g.live.version, startedAt: g.live.startedAt };
    const up = daemon.kind === 'up';
    const profiles = up ? g.live.profiles : [];
    const defaultProfile = profiles.find((p) => p.name === 'default');
    return {
      path: g.path,
      flavour,
      ...installedField(g.installed, flavour),
      daemon,
      systemd: g.systemd,
      subuid: g.subuid,
      subgid: g.subgid,
      subidOriginal: { subuid: g.orig[0], subgid: g.orig[1] },
      uidMap: g.uidMap,
      storagePools: up ? g.live.pools.map(([n]) => n) : [],
      ...(up && g.live.pools.length > 0 ? { poolDrivers: Object.fromEntries(g.live.pools) } : {}),
      ...(g.kernel ? { kernel: g.kernel } : {}),
      networks: up ? g.live.networks : [],
      defaultProfileHasRoot: Object.values(defaultProfile?.devices ?? {}).some((d) => d.type === 'disk' && d.path === '/'),
      images: up ? g.live.images : [],
      instances: up ? g.live.instances : [],
      profiles,
      now: g.now,
      ...(up && g.live.members ? { cluster: { members: g.live.members } } : {}),
    };
  });

describe('encodeProbe', () => {
  it('what the real parser reads from the simulated probe answer is the level the simulator holds', () => {
    fc.assert(
      fc.property(level, (l) => {
        const out = encodeProbe(l, { client: l.flavour ? flavourInfo(l.flavour).client : null, addresses: true });
        expect(parseProbe(l.path, out, PROBE_MARK, l.flavour)).toEqual(l);
      }),
      { numRuns: RUNS },
    );
  });

  it('a probe not asked for the addresses answers without them, as the script does: the level without ipv4', () => {
    fc.assert(
      fc.property(level, (l) => {
        const out = encodeProbe(l, { client: l.flavour ? flavourInfo(l.flavour).client : null });
        expect(out).not.toContain(`${PROBE_MARK} addresses `);
        const unread = { ...l, instances: l.instances.map(({ ipv4: _ipv4, ...i }) => i) };
        expect(parseProbe(l.path, out, PROBE_MARK, l.flavour)).toEqual(unread);
      }),
      { numRuns: RUNS },
    );
  });

  it("a probe asking a client that is not installed reads as its daemon down, with sh's words", () => {
    const l = fc.sample(level, { seed: 1, numRuns: 1 })[0]!;
    const parsed = parseProbe(
      'c1',
      encodeProbe({ ...l, installed: ['debian'], flavour: null, daemon: { kind: 'missing' } }, { client: 'incus', missingClient: true }),
      PROBE_MARK,
      'incus',
    );
    expect(parsed.daemon).toEqual({ kind: 'down', error: 'sh: 1: incus: not found' });
  });
});

const lxcArb: fc.Arbitrary<ObservedLxc> = fc.record({
  version: fc.option(fc.constantFrom('5.0.2', '6.0.0'), { nil: null }),
  apparmor: fc.boolean(),
  usernet: file.map((f) => ({ text: f.text, sha256: f.sha256 })),
  usernetOriginal: fc.option(text, { nil: null }),
  owners: fc
    .dictionary(
      word,
      fc.option(
        fc.record({
          home: fc.constantFrom('/home/a', '/home/b'),
          defaultConf: file.map((f) => ({ text: f.text, sha256: f.sha256 })),
          containers: fc.uniqueArray(
            fc.record({
              name: word,
              state: fc.constantFrom('RUNNING', 'STOPPED'),
              uidMap,
              config: text.map((t) => ({ text: t, sha256: sha256(t) })),
            }),
            { maxLength: 2, selector: (c) => c.name },
          ),
        }),
        { nil: null },
      ),
      { maxKeys: 3 },
    )
    .map((owners) =>
      Object.fromEntries(Object.entries(owners).map(([name, o]) => [name, o ?? { home: null, defaultConf: null, containers: [] }])),
    ),
});

describe('encodeLxcProbe', () => {
  it('what the real LXC parser reads back is the LXC the simulator holds', () => {
    fc.assert(
      fc.property(lxcArb, (lxc) => {
        expect(parseLxcProbe(encodeLxcProbe(lxc), PROBE_MARK, '', 'any')).toEqual(lxc);
      }),
      { numRuns: RUNS },
    );
  });
});
