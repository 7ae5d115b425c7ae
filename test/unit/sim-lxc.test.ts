// Classic LXC containers through the engine against the simulated LXD: a user's container beside
// an LXD one on the host and a root-owned one, planned, applied, converged; drift; refusals.

import { describe, expect, it } from 'vitest';
import { type Loaded, loadLines, planOn } from './helpers/engine.js';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { overlaps } from '../../src/core/ids/range.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';

const planText = (p: Plan): string => renderPlanText(p, colours(false));
const IMAGES = [
  { alias: 'nest', hostsLxd: true },
  { alias: 'busybox', hostsLxd: false },
];

const load = (...lines: string[]): Loaded => loadLines('lxc.yaml', ...lines);

const TREE = load(
  'apiVersion: nestctl/v1',
  'host:',
  '  base: 500000',
  'containers:',
  '  - name: web',
  '    image: busybox',
  '  - name: box',
  '    runtime: lxc',
  '    user: alice',
  '    config:',
  '      lxc.start.auto: 1',
  '  - name: rootbox',
  '    runtime: lxc',
);

const plan = (world: SimWorld, m: Loaded): Promise<Plan> => planOn(world.host(), m);

async function apply(world: SimWorld, m: Loaded) {
  return startApply(await plan(world, m), world.host()).finished;
}

function lxcWorld(): SimWorld {
  const world = createSimWorld(defaultWorld(IMAGES));
  world.installLxc('', { alice: '/home/alice' });
  // useradd -m on Debian 12 gives the user a range of its own
  world.editFile('', '/etc/subuid', `${world.file('', '/etc/subuid') ?? ''}alice:100000:65536\n`);
  world.editFile('', '/etc/subgid', `${world.file('', '/etc/subgid') ?? ''}alice:100000:65536\n`);
  return world;
}

describe('classic LXC on the host (simulated)', () => {
  it('plans the user line, lxc-usernet, default.conf and the containers, applies them, and converges', async () => {
    const world = lxcWorld();
    const first = await plan(world, TREE);
    const kinds = first.steps.filter((s) => s.kind.includes('lxc') || s.id.includes('alice')).map((s) => s.id);
    expect(kinds).toEqual([
      'host:write-lxc-file:/etc/lxc/lxc-usernet',
      'host:write-lxc-file:/home/alice/.config/lxc/default.conf',
      'box:create-lxc',
      'box:configure-lxc',
      'box:start-lxc',
      'rootbox:create-lxc',
      'rootbox:configure-lxc',
      'rootbox:start-lxc',
    ]);
    // the host runs systemd: a user's container starts in a delegated scope, root's needs none
    expect(first.steps.flatMap((s) => (s.kind === 'start-lxc' ? [[s.path, s.cgroup]] : []))).toEqual([
      ['box', 'systemd-run'],
      ['rootbox', 'none'],
    ]);
    const text = planText(first);
    expect(text).toContain('+alice veth lxdbr0 1');
    expect(text).toContain('box: lxc-create -t busybox (LXC, as alice)');
    expect(text).toMatch(/Plan: 3 containers to add, 0 to change, 0 to destroy/);
    const r = await apply(world, TREE);
    expect(r.failed).toEqual([]);
    // alice's useradd range collides with nothing once root's Debian default is replaced: kept
    const subuid = world.file('', '/etc/subuid')!;
    const alice = /^alice:(\d+):(\d+)$/m.exec(subuid)!;
    expect(world.lxcUidMap('', 'alice', 'box')).toBe(`0 ${alice[1]} ${alice[2]}`);
    const root = world.lxcUidMap('', 'root', 'rootbox')!.split(' ').map(Number);
    // root's slice lies outside LXD's range and is recorded as a root entry after it
    expect(root[1]! >= 500000 + 65536).toBe(true);
    expect(subuid).toContain(`root:${root[1]}:${root[2]}`);
    expect(world.file('', '/home/alice/.config/lxc/default.conf')).toBe(
      [
        `lxc.idmap = u 0 ${alice[1]} 65536`,
        `lxc.idmap = g 0 ${alice[1]} 65536`,
        'lxc.net.0.type = veth',
        'lxc.net.0.link = lxdbr0',
        'lxc.net.0.flags = up',
        'lxc.apparmor.profile = unconfined',
        '',
      ].join('\n'),
    );
    expect(world.file('', '/home/alice/.local/share/lxc/box/config')).toMatch(/^lxc\.start\.auto = 1$/m);
    const again = await plan(world, TREE);
    expect(again.steps).toEqual([]);
  });

  it("moves a user range that would overlap LXD's, and plans a stopped container as a start and a changed key as drift", async () => {
    const world = lxcWorld();
    world.editFile('', '/etc/subuid', `${world.file('', '/etc/subuid')!.replace('alice:100000:65536', 'alice:520000:65536')}`);
    world.editFile('', '/etc/subgid', `${world.file('', '/etc/subgid')!.replace('alice:100000:65536', 'alice:520000:65536')}`);
    expect((await apply(world, TREE)).failed).toEqual([]);
    const alice = /^alice:(\d+):(\d+)$/m.exec(world.file('', '/etc/subuid')!)!;
    expect(Number(alice[1])).toBeGreaterThanOrEqual(500000 + 65536);
    world.stopLxc('', 'alice', 'box');
    const cfg = '/home/alice/.local/share/lxc/box/config';
    world.editFile('', cfg, world.file('', cfg)!.replace('lxc.start.auto = 1', 'lxc.start.auto = 0'));
    const drift = await plan(world, TREE);
    expect(drift.steps.map((s) => s.id)).toEqual(['box:configure-lxc', 'box:start-lxc']);
    expect(planText(drift)).toContain('-lxc.start.auto = 0');
    expect(planText(drift)).toMatch(/Plan: 0 containers to add, 1 to change/);
    expect((await apply(world, TREE)).failed).toEqual([]);
    expect((await plan(world, TREE)).steps).toEqual([]);
  });

  it("drops a user's old line that overlaps LXD's range when the range moves, keeps an unrelated one, and says so", async () => {
    const world = lxcWorld();
    for (const f of ['/etc/subuid', '/etc/subgid'])
      world.editFile('', f, world.file('', f)!.replace('alice:100000:65536', 'alice:520000:65536\nalice:900000000:100'));
    const first = await plan(world, TREE);
    expect(planText(first)).toContain("dropping alice:520000:65536 (it overlaps root's LXD entry 500000:65536)");
    expect((await startApply(first, world.host()).finished).failed).toEqual([]);
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      const lines = world
        .file('', f)!
        .split('\n')
        .filter((l) => l.startsWith('alice:'));
      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe('alice:900000000:100');
      expect(overlaps({ start: Number(lines[0]!.split(':')[1]), size: 65536 }, { start: 500000, size: 65536 })).toBe(false);
    }
    expect((await plan(world, TREE)).steps).toEqual([]);
  });

  it('destroys what it made with lxc-stop and lxc-destroy and, with --restore-ids, puts back the subid files and lxc-usernet', async () => {
    const world = lxcWorld();
    world.editFile('', '/etc/subuid', world.file('', '/etc/subuid')!.replace('alice:100000:65536', 'alice:520000:65536'));
    world.editFile('', '/etc/subgid', world.file('', '/etc/subgid')!.replace('alice:100000:65536', 'alice:520000:65536'));
    const before = { subuid: world.file('', '/etc/subuid'), subgid: world.file('', '/etc/subgid') };
    expect((await apply(world, TREE)).failed).toEqual([]);
    world.stopLxc('', 'alice', 'box');
    const r = await planManifest(TREE.manifest, world.host(), {
      hostRestart: null,
      tool: 'test',
      manifestText: TREE.text,
      mode: 'destroy',
      restoreIds: true,
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.map((s) => s.id)).toEqual([
      'box:delete-lxc',
      'rootbox:delete-lxc',
      'web:delete-instance',
      'host:write-subid:subuid',
      'host:write-subid:subgid',
      'host:write-lxc-file:/etc/lxc/lxc-usernet',
      'host:restart-daemon',
    ]);
    expect(renderPlanText(r.plan, colours(false))).toContain('- box: lxc-stop -k and lxc-destroy (LXC, as alice)');
    expect((await startApply(r.plan, world.host()).finished).failed).toEqual([]);
    expect(world.file('', '/etc/subuid')).toBe(before.subuid);
    expect(world.file('', '/etc/subgid')).toBe(before.subgid);
    expect(world.file('', '/etc/lxc/lxc-usernet')).toBe('');
    expect((await world.host().probeLxc(['alice', 'root'])).owners).toMatchObject({ alice: { containers: [] }, root: { containers: [] } });
  });

  it("runs a root-owned LXC container inside an LXD container whose image has LXC, on a slice after that LXD's range", async () => {
    const desc = defaultWorld([{ alias: 'nestlxc', hostsLxd: true }]);
    desc.host.images = desc.host.images!.map((i) => ({ ...i, lxc: true }));
    const world = createSimWorld(desc);
    const m = load(
      'apiVersion: nestctl/v1',
      'host:',
      '  base: 500000',
      'containers:',
      '  - name: c1',
      '    image: nestlxc',
      '    containers:',
      '      - name: rbox',
      '        runtime: lxc',
    );
    const first = await plan(world, m);
    expect(first.steps.filter((s) => s.level === 'c1').map((s) => s.id)).toEqual([
      'c1:write-subid:subuid',
      'c1:write-subid:subgid',
      'c1:restart-daemon',
      'c1:init-daemon',
      'c1/rbox:create-lxc',
      'c1/rbox:configure-lxc',
      'c1/rbox:start-lxc',
    ]);
    // It links to the bridge c1's LXD makes when it is initialised: created after that.
    expect(first.steps.find((s) => s.id === 'c1/rbox:create-lxc')?.dependsOn).toContain('c1:init-daemon');
    expect((await apply(world, m)).failed).toEqual([]);
    // c1 holds 65536 ids of its own, 65536 for its LXD and rbox's slice after them
    expect(world.uidMap('c1')).toBe('0 500000 196608');
    expect(world.lxcUidMap('c1', 'root', 'rbox')).toBe('0 131072 65536');
    expect(world.file('c1', '/etc/subuid')).toBe('root:65536:65536\nroot:131072:65536\n');
    expect(world.state().host.lxd!.instances.find((i) => i.name === 'c1')!.config['security.nesting']).toBe('true');
    expect((await plan(world, m)).steps).toEqual([]);
  });

  it("moves a user's range in the level's one subid write, an owner entry beside root's, which the user's container waits for", async () => {
    const world = lxcWorld();
    world.editFile('', '/etc/subuid', world.file('', '/etc/subuid')!.replace('alice:100000:65536', 'alice:520000:65536'));
    world.editFile('', '/etc/subgid', world.file('', '/etc/subgid')!.replace('alice:100000:65536', 'alice:520000:65536'));
    const p = await plan(world, TREE);
    const writes = p.steps.filter((s) => s.kind === 'write-subid');
    expect(writes.map((s) => s.id)).toEqual(['host:write-subid:subuid', 'host:write-subid:subgid']);
    const uid = writes[0]!;
    if (uid.kind !== 'write-subid') throw new Error('not a write-subid step');
    expect(uid.edit?.map((e) => e.owner)).toEqual(['root', 'alice']);
    const alice = uid.edit!.find((e) => e.owner === 'alice')!;
    expect(alice.entry.start).toBeGreaterThanOrEqual(500000 + 65536);
    expect(uid.reason).toContain(`alice runs LXC containers on host: it needs alice:${alice.entry.start}:65536`);
    expect(p.steps.find((s) => s.id === 'box:create-lxc')?.dependsOn).toEqual(
      expect.arrayContaining(['host:write-subid:subuid', 'host:write-subid:subgid']),
    );
  });

  it("places an LXC slice clear of dockremap's range in a container that also remaps Docker, both in its one subid write", async () => {
    const desc = defaultWorld([{ alias: 'nestlxc', hostsLxd: true }]);
    desc.host.images = desc.host.images!.map((i) => ({ ...i, lxc: true }));
    const world = createSimWorld(desc);
    const m = load(
      'apiVersion: nestctl/v1',
      'host:',
      '  base: 500000',
      'containers:',
      '  - name: c1',
      '    image: nestlxc',
      '    docker: { userns_remap: true }',
      '    containers:',
      '      - name: rbox',
      '        runtime: lxc',
    );
    const first = await plan(world, m);
    const uid = first.steps.find((s) => s.id === 'c1:write-subid:subuid');
    if (uid?.kind !== 'write-subid') throw new Error("no write of c1's /etc/subuid");
    expect(uid.edit?.map((e) => e.owner)).toEqual(['root', 'dockremap']);
    const [root, dockremap] = uid.edit!;
    expect(root!.keep).toHaveLength(1);
    expect(overlaps(root!.keep[0]!, dockremap!.entry)).toBe(false);
    expect(overlaps(root!.keep[0]!, root!.entry)).toBe(false);
    expect((await apply(world, m)).failed).toEqual([]);
    const slice = world.lxcUidMap('c1', 'root', 'rbox')!.split(' ').map(Number);
    expect(slice[1]).toBe(root!.keep[0]!.start);
    // c1 holds its own 65536, its LXD's 65536, dockremap's 65536 and rbox's slice
    expect(world.uidMap('c1')).toBe('0 500000 262144');
    expect((await plan(world, m)).steps).toEqual([]);
  });

  it('plans --target for an LXC container alone, and refuses --replace of one', async () => {
    const world = lxcWorld();
    const r = await planManifest(TREE.manifest, world.host(), {
      hostRestart: null,
      tool: 'test',
      manifestText: TREE.text,
      target: 'rootbox',
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.map((s) => s.id)).toEqual([
      'host:write-subid:subuid',
      'host:write-subid:subgid',
      'host:restart-daemon',
      'rootbox:create-lxc',
      'rootbox:configure-lxc',
      'rootbox:start-lxc',
    ]);
    const replaced = await planManifest(TREE.manifest, world.host(), {
      hostRestart: null,
      tool: 'test',
      manifestText: TREE.text,
      replace: ['box'],
    });
    expect(replaced.ok ? [] : replaced.problems.map((p) => p.message)).toEqual([
      '--replace box: it is an LXC container, which nestctl does not replace',
    ]);
  });

  it('refuses a user who does not exist, a host without LXC, and a container nestctl did not make', async () => {
    const noUser = createSimWorld(defaultWorld(IMAGES));
    noUser.installLxc('', {});
    const r1 = await planManifest(TREE.manifest, noUser.host(), { hostRestart: null, tool: 'test', manifestText: TREE.text });
    expect(r1.ok ? [] : r1.problems.map((p) => p.message)).toEqual(['there is no account alice on host to run its LXC containers']);
    const noLxc = createSimWorld(defaultWorld(IMAGES));
    const r2 = await planManifest(TREE.manifest, noLxc.host(), { hostRestart: null, tool: 'test', manifestText: TREE.text });
    expect(r2.ok ? [] : r2.problems.map((p) => [p.message, p.fault])).toEqual([
      ['host runs LXC containers in the manifest, but LXC is not installed there', 'environment'],
    ]);
    const theirs = lxcWorld();
    await theirs
      .host()
      .lxcCreate({ name: 'rootbox', owner: { user: null, home: null }, template: 'busybox', templateArgs: [], config: null });
    const r3 = await planManifest(TREE.manifest, theirs.host(), { hostRestart: null, tool: 'test', manifestText: TREE.text });
    expect(r3.ok ? [] : r3.problems.map((p) => p.message)).toEqual([
      'an LXC container rootbox of root exists on host, but nestctl did not create it',
    ]);
  });

  it("fails to start a user's container whose map the user holds no subuid line for, with liblxc's words", async () => {
    const world = lxcWorld();
    const host = world.host();
    const alice = { user: 'alice', home: '/home/alice' };
    await host.writeLxcFile(
      '/home/alice/.config/lxc/default.conf',
      'alice',
      'lxc.idmap = u 0 300000 65536\nlxc.idmap = g 0 300000 65536\n',
      null,
    );
    // the template runs in the container's namespace: refused at create already
    const create = await host
      .lxcCreate({ name: 'x', owner: alice, template: 'busybox', templateArgs: [], config: null })
      .catch((e: unknown) => e);
    expect(String((create as { stderr?: string }).stderr)).toMatch(
      /^lxc-create: x: \.\.\/src\/lxc\/idmap_utils\.c: lxc_map_ids: 245 newuidmap failed to write mapping "newuidmap: uid range \[0-65536\) -> \[300000-365536\) not allowed"/,
    );
    // made while alice held the range, started after her line went
    await host.writeLxcFile(
      '/home/alice/.config/lxc/default.conf',
      'alice',
      'lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n',
      (await host.probeLxc(['alice'])).owners['alice']!.defaultConf!.sha256,
    );
    await host.lxcCreate({ name: 'x', owner: alice, template: 'busybox', templateArgs: [], config: null });
    world.editFile('', '/etc/subuid', world.file('', '/etc/subuid')!.replace('alice:100000:65536\n', ''));
    const err = await host.lxcStart('x', alice, 'none').catch((e: unknown) => e);
    expect(String((err as { stderr?: string }).stderr)).toContain(
      'newuidmap failed to write mapping "newuidmap: uid range [0-65536) -> [100000-165536) not allowed"',
    );
    expect(String((err as { stderr?: string }).stderr)).toContain('lxc-start: x: The container failed to start');
    expect((await host.probeLxc(['alice'])).owners['alice']!.containers.map((c) => c.state)).toEqual(['STOPPED']);
  });
});
