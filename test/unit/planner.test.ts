import { describe, expect, it } from 'vitest';
import { lineCol } from './helpers/placed.js';
import { allocate } from '../../src/core/ids/allocate.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { ObservedTree } from '../../src/core/observed.js';
import { type PlanOptions, type PlanResult, planTree } from '../../src/core/plan/planner.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { DEBIAN_SUBID, file, idmapJson, instance, level, manifest, node, seed } from './helpers/build.js';

const OPTS: PlanOptions = { hostRestart: null, tool: 'nestctl test', manifestSha256: 'x' };

function plan(m: Manifest, tree: ObservedTree, opts = OPTS): PlanResult {
  const a = allocate(m);
  if (!a.ok) throw new Error('allocation failed');
  return planTree(m, a.allocation, tree, opts);
}

function ok(r: PlanResult): Plan {
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

const ids = (p: Plan): string[] => p.steps.map((s) => s.id);
const step = <K extends Step['kind']>(p: Plan, id: string): Extract<Step, { kind: K }> => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${ids(p).join(', ')}`);
  return s as Extract<Step, { kind: K }>;
};

describe('planner: seed tree on a fresh Debian host', () => {
  const tree: ObservedTree = { levels: { '': { kind: 'observed', level: level('') } } };
  const p = ok(plan(seed(), tree));

  it('lists every step of the recipe at every level, in dependency order', () => {
    expect(ids(p)).toEqual([
      'host:write-subid:subuid',
      'host:write-subid:subgid',
      'host:restart-daemon',
      'c1:create-instance',
      'c1:start-instance',
      'c1:write-subid:subuid',
      'c1:write-subid:subgid',
      'c1:restart-daemon',
      'c1:init-daemon',
      'c1:copy-image:nest',
      'c1/c2:create-instance',
      'c1/c2:start-instance',
      'c1/c2:write-subid:subuid',
      'c1/c2:write-subid:subgid',
      'c1/c2:restart-daemon',
      'c1/c2:init-daemon',
      'c1/c2:copy-image:busybox',
      'c1/c2/c3:create-instance',
      'c1/c2/c3:start-instance',
    ]);
    const seen = new Set<string>();
    for (const s of p.steps) {
      for (const d of s.dependsOn) expect(seen.has(d), `${s.id} depends on later ${d}`).toBe(true);
      seen.add(s.id);
    }
  });

  it('derives exactly the classic numbers', () => {
    const host = step<'write-subid'>(p, 'host:write-subid:subuid');
    expect(host.before).toBe(DEBIAN_SUBID);
    expect(host.after).toBe('root:500000:196608\n');
    expect(step<'write-subid'>(p, 'c1:write-subid:subgid').edit?.[0]?.entry).toEqual({ start: 65536, size: 131072 });
    expect(step<'write-subid'>(p, 'c1/c2:write-subid:subuid').edit?.[0]?.entry).toEqual({ start: 65536, size: 65536 });
    const maps = Object.fromEntries(p.levels.flatMap((l) => l.children.map((c) => [c.path, c.map])));
    expect(maps).toEqual({
      c1: { start: 500000, size: 196608 },
      'c1/c2': { start: 65536, size: 131072 },
      'c1/c2/c3': { start: 65536, size: 65536 },
    });
  });

  it('creates hosting children with nesting and ownership markers, leaves without nesting', () => {
    const c1 = step<'create-instance'>(p, 'c1:create-instance');
    expect(c1.config).toMatchObject({ 'security.nesting': 'true', 'user.nestctl.managed': 'true', 'user.nestctl.path': 'c1' });
    expect(c1.fingerprint).toBe('a'.repeat(64));
    expect(step<'create-instance'>(p, 'c1/c2/c3:create-instance').config['security.nesting']).toBeUndefined();
  });

  it('copies images down from the host through every hop, on distinct subnets', () => {
    const bb = step<'copy-image'>(p, 'c1/c2:copy-image:busybox');
    expect(bb.source).toBe('');
    expect(bb.hops).toEqual(['c1', 'c2']);
    expect(bb.fingerprint).toBe('b'.repeat(64));
    expect(step<'init-daemon'>(p, 'c1:init-daemon').subnet).toBe('10.77.1.1/24');
    expect(step<'init-daemon'>(p, 'c1/c2:init-daemon').subnet).toBe('10.77.2.1/24');
  });

  it('marks steps of levels that do not exist yet as decided when they run', () => {
    const w = step<'write-subid'>(p, 'c1:write-subid:subuid');
    expect(w.precondition).toEqual({ kind: 'level-new' });
    expect(w.before).toBeNull();
    expect(step<'write-subid'>(p, 'host:write-subid:subuid').precondition).toEqual({
      kind: 'file-sha256',
      sha256: file(DEBIAN_SUBID).sha256,
    });
  });

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe('planner: converged tree', () => {
  const nested = (path: string, entry: string, map: number, extra = {}) =>
    level(path, {
      subuid: file(entry, 100),
      subgid: file(entry, 100),
      uidMap: [{ isuid: true, isgid: false, nsid: 0, hostid: 0, maprange: map }],
      networks: [{ name: 'lxdbr0', managed: true, ipv4: '10.77.1.1/24' }],
      ...extra,
    });
  const managed = (path: string, nesting: boolean) => ({
    ...(nesting ? { 'security.nesting': 'true' } : {}),
    'user.nestctl.managed': 'true',
    'user.nestctl.path': path,
  });
  const tree: ObservedTree = {
    levels: {
      '': {
        kind: 'observed',
        level: level('', {
          subuid: file('root:500000:196608\n'),
          subgid: file('root:500000:196608\n'),
          instances: [instance('c1', managed('c1', true))],
        }),
      },
      c1: { kind: 'observed', level: nested('c1', 'root:65536:131072\n', 196608, { instances: [instance('c2', managed('c1/c2', true))] }) },
      'c1/c2': {
        kind: 'observed',
        level: nested('c1/c2', 'root:65536:65536\n', 131072, { instances: [instance('c3', managed('c1/c2/c3', false))] }),
      },
    },
  };

  it('plans nothing', () => {
    expect(ok(plan(seed(), tree)).steps).toEqual([]);
  });

  it('plans a restart when a file changed after the daemon started', () => {
    const changed = structuredClone(tree);
    const c1 = changed.levels['c1'];
    if (c1?.kind !== 'observed') throw new Error();
    c1.level.subuid.mtime = 250;
    expect(ids(ok(plan(seed(), changed)))).toEqual(['c1:restart-daemon']);
  });

  it('starts a stopped container and updates drifted config', () => {
    const t = structuredClone(tree);
    const host = t.levels[''];
    if (host?.kind !== 'observed') throw new Error();
    // It ran before (volatile.last_state.power): a finished create, not a half-made one.
    host.level.instances = [
      instance('c1', { ...managed('c1', true), 'security.nesting': 'false', 'volatile.last_state.power': 'STOPPED' }, 'Stopped'),
    ];
    t.levels['c1'] = { kind: 'absent', reason: 'c1 is stopped' };
    delete t.levels['c1/c2'];
    const p = ok(plan(seed(), t));
    expect(ids(p).slice(0, 2)).toEqual(['c1:update-config', 'c1:start-instance']);
    expect(step<'update-config'>(p, 'c1:update-config').set).toEqual({ 'security.nesting': 'true' });
  });
});

describe("planner: LXD's verdict on a level as it is", () => {
  it("sees that a nested LXD with Debian's default entry runs privileged containers only", () => {
    const tree: ObservedTree = {
      levels: {
        '': {
          kind: 'observed',
          level: level('', {
            subuid: file('root:500000:196608\n'),
            subgid: file('root:500000:196608\n'),
            instances: [instance('c1', { 'security.nesting': 'true', 'user.nestctl.managed': 'true', 'user.nestctl.path': 'c1' })],
          }),
        },
        c1: {
          kind: 'observed',
          level: level('c1', {
            uidMap: [{ isuid: true, isgid: false, nsid: 0, hostid: 500000, maprange: 196608 }],
            storagePools: [],
            networks: [],
            defaultProfileHasRoot: false,
            images: [],
          }),
        },
      },
    };
    const p = ok(plan(seed(), tree));
    expect(p.levels.find((l) => l.path === '')!.verdictNow).toBe('unprivileged-ok');
    expect(p.levels.find((l) => l.path === 'c1')!.verdictNow).toBe('privileged-only');
    expect(p.levels.find((l) => l.path === 'c1/c2')!.verdictNow).toBe('unknown');
    expect(step<'write-subid'>(p, 'c1:write-subid:subuid').reason).toBe(
      "c1's LXD uses root:100000:10000001 (outside c1's own 196608 ids: it runs privileged containers only); the tree needs root:65536:131072",
    );
  });
});

describe('planner: hazards and refusals', () => {
  it('keeps an old root entry that a running container still uses, after the new one', () => {
    const tree: ObservedTree = {
      levels: {
        '': {
          kind: 'observed',
          level: level('', { instances: [instance('legacy', { 'volatile.idmap.current': idmapJson(100000, 10000001) })] }),
        },
      },
    };
    const p = ok(plan(manifest([node('c1')], { base: 20000000 }), tree));
    const w = step<'write-subid'>(p, 'host:write-subid:subuid');
    expect(w.after).toBe('root:20000000:65536\nroot:100000:10000001\n');
    expect(w.reason).toContain('legacy');
    expect(p.levels.find((l) => l.path === '')!.pinned).toEqual([{ range: { start: 100000, size: 10000001 }, by: ['legacy'] }]);
  });

  it("protects the ranges of containers in other LXD projects, and never takes one for the manifest's container of that name", () => {
    const elsewhere = { ...instance('c1', { 'volatile.idmap.current': idmapJson(100000, 10000001) }), project: 'team-b' };
    const tree: ObservedTree = { levels: { '': { kind: 'observed', level: level('', { instances: [elsewhere] }) } } };
    const p = ok(plan(manifest([node('c1')], { base: 20000000 }), tree));
    expect(p.levels.find((l) => l.path === '')!.pinned).toEqual([{ range: { start: 100000, size: 10000001 }, by: ['project team-b/c1'] }]);
    expect(ids(p)).toContain('c1:create-instance');
  });

  it('keeps a large-enough host entry when no base is given', () => {
    const p = ok(plan(manifest([node('c1', [node('c2')])]), { levels: { '': { kind: 'observed', level: level('') } } }));
    expect(ids(p).filter((i) => i.startsWith('host:'))).toEqual([]);
    expect(p.levels.find((l) => l.path === '')!.children[0]!.map).toEqual({ start: 100000, size: 10000001 });
  });

  it('refuses to restart a host without systemd unless told how', () => {
    const tree: ObservedTree = { levels: { '': { kind: 'observed', level: level('', { systemd: false }) } } };
    const r = plan(seed(), tree);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatchObject({ fault: 'environment', where: { path: '' } });
    const withCmd = ok(plan(seed(), tree, { ...OPTS, hostRestart: ['/lab/restart-lxd.sh'] }));
    expect(step<'restart-daemon'>(withCmd, 'host:restart-daemon').command).toEqual(['/lab/restart-lxd.sh']);
  });

  it('names a missing image with the position of the node using it', () => {
    const r = plan(manifest([node('c1', [], { image: 'nope' })]), { levels: { '': { kind: 'observed', level: level('') } } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatchObject({ fault: 'user', where: { kind: 'source', path: 'c1', line: 10, column: 5 } });
    expect(r.problems[0]!.message).toContain('"nope"');
  });

  it("warns, but plans, when the host range overlaps another user's ids (Debian adds _lxd:100000:10000001)", () => {
    const text = '_lxd:100000:10000001\nroot:100000:10000001\n';
    const tree: ObservedTree = { levels: { '': { kind: 'observed', level: level('', { subuid: file(text), subgid: file(text) }) } } };
    const p = ok(plan(seed(), tree));
    expect(step<'write-subid'>(p, 'host:write-subid:subuid').after).toBe('_lxd:100000:10000001\nroot:500000:196608\n');
    expect(p.warnings.join('\n')).toContain('overlaps _lxd:100000:10000001');
  });

  it("reports a daemon that is down or missing as the environment's fault", () => {
    const down = plan(seed(), {
      levels: { '': { kind: 'observed', level: level('', { daemon: { kind: 'down', error: 'connect: no such file' } }) } },
    });
    const missing = plan(seed(), {
      levels: { '': { kind: 'observed', level: level('', { daemon: { kind: 'missing' }, flavour: null }) } },
    });
    for (const r of [down, missing]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems[0]!.fault).toBe('environment');
    }
  });

  it("refuses a tree that no longer fits an existing container's map", () => {
    const tree: ObservedTree = {
      levels: {
        '': {
          kind: 'observed',
          level: level('', {
            instances: [instance('c1', { 'security.nesting': 'true', 'user.nestctl.managed': 'true', 'user.nestctl.path': 'c1' })],
          }),
        },
        c1: {
          kind: 'observed',
          level: level('c1', { uidMap: [{ isuid: true, isgid: false, nsid: 0, hostid: 100000, maprange: 131072 }] }),
        },
      },
    };
    const r = plan(manifest([node('c1', [node('c2', [node('c3')])])]), tree);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.message).toBe('c1 holds 131072 ids but it and its children need 196608');
    // At c1's own node (helpers/build.ts puts it on line 10), and a hint that works: replacement.
    expect(lineCol(r.problems[0]!)).toBe('10:5');
    expect(r.problems[0]!.hint).toContain('--replace c1');
    expect(r.problems[0]!.hint).not.toContain('idmap.size');
  });
});

describe('planner: which starts wait for the boot to finish', () => {
  const tree: ObservedTree = { levels: { '': { kind: 'observed', level: level('') } } };
  it('waits for a holder of containers, a Docker host and a container with setup, not for a plain leaf', () => {
    const m = manifest([node('holder', [node('leaf')]), node('dock'), node('prep'), node('plain')], { base: 500000 });
    m.containers[1]!.docker = true;
    m.containers[2]!.setup = [['true']];
    const p = ok(plan(m, tree));
    const waits = (id: string): boolean => step<'start-instance'>(p, `${id}:start-instance`).waitBoot;
    expect([waits('holder'), waits('holder/leaf'), waits('dock'), waits('prep'), waits('plain')]).toEqual([true, false, true, true, false]);
  });
});

describe('planner: images the host brings in first', () => {
  it('creates a root container from a remote:alias image only after the host fetched it', () => {
    const p = ok(
      plan(manifest([node('c1', [], { image: 'images:debian/12' })]), { levels: { '': { kind: 'observed', level: level('') } } }),
    );
    expect(step(p, 'c1:create-instance').dependsOn).toContain('host:fetch-image:images:debian/12');
  });

  const remote = manifest([node('r1', [node('r2')])], {
    place: { kind: 'remote', remote: 'nxr1', cli: null, client: 'lxc', flavour: 'debian', project: null, shell: null },
  });
  const bare = { kind: 'observed' as const, level: { ...level(''), images: [] } };
  const nest = { fingerprint: 'a'.repeat(64), aliases: ['nest'] };
  const busybox = { fingerprint: 'b'.repeat(64), aliases: ['busybox'] };

  it('relays to a remote host an image only this machine holds, and the create waits for it', () => {
    const p = ok(plan(remote, { levels: { '': bare }, relay: [nest, busybox] }));
    const relay = step<'copy-image'>(p, 'host:copy-image:nest');
    expect([relay.level, relay.relay, relay.fingerprint, relay.aliases, relay.hops]).toEqual(['', 'nxr1', nest.fingerprint, ['nest'], []]);
    expect(step(p, 'r1:create-instance').dependsOn).toContain('host:copy-image:nest');
    expect(step(p, 'host:copy-image:busybox').kind).toBe('copy-image');
  });

  it('refuses on a remote host an image in neither store', () => {
    const r = plan(remote, { levels: { '': bare }, relay: [busybox] });
    expect(r.ok ? [] : r.problems.map((x) => x.message)).toEqual([
      'image "nest" (used by r1) is neither in nxr1\'s LXD image store nor in this machine\'s',
    ]);
  });
});
