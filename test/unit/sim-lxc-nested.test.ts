// LXC inside LXC through the engine against the simulated LXD: the inside of an LXC container is a
// level entered with lxc-attach, with root's lines for its children's slices, planned, applied,
// converged, kept by --state's world text; what a container without LXC inside gets.

import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { describe, expect, it } from 'vitest';
import { type Loaded, loadLines, planOn } from './helpers/engine.js';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, describeWorldText, parseWorld } from '../../src/sim/index.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';

const load = (...lines: string[]): Loaded => loadLines('nested.yaml', ...lines);

const TREE = load(
  'apiVersion: nestctl/v1',
  'host:',
  '  base: 500000',
  'containers:',
  '  - name: web',
  '    image: busybox',
  '  - name: outer',
  '    runtime: lxc',
  '    template: local',
  '    template_args: [--metadata, /srv/meta.tar.xz, --fstree, /srv/rootfs.tar.xz]',
  '    containers:',
  '      - name: inner',
  '        runtime: lxc',
  '      - name: second',
  '        runtime: lxc',
  '  - name: mine',
  '    runtime: lxc',
  '    user: alice',
  '    template: download',
  '    containers:',
  '      - name: deep',
  '        runtime: lxc',
  '        template: local',
  '        containers:',
  '          - name: deepest',
  '            runtime: lxc',
);

const plan = (world: SimWorld, m: Loaded): Promise<Plan> => planOn(world.host(), m);

function lxcWorld(): SimWorld {
  const world = createSimWorld(defaultWorld([{ alias: 'busybox', hostsLxd: false }]));
  world.installLxc('', { alice: '/home/alice' });
  return world;
}

describe('LXC inside LXC (simulated)', () => {
  it("plans root's lines and the containers inside each LXC container, entered with lxc-attach, applies them and converges", async () => {
    const world = lxcWorld();
    const first = await plan(world, TREE);
    expect(first.lxcLevels).toEqual({ outer: { user: null }, mine: { user: 'alice' }, 'mine/deep': { user: null } });
    const at = (level: string) => first.steps.filter((s) => s.level === level).map((s) => s.id);
    expect(at('outer')).toEqual([
      'outer:write-subid:subuid',
      'outer:write-subid:subgid',
      'outer/inner:create-lxc',
      'outer/inner:configure-lxc',
      'outer/inner:start-lxc',
      'outer/second:create-lxc',
      'outer/second:configure-lxc',
      'outer/second:start-lxc',
    ]);
    // The inside waits for its container's start.
    expect(first.steps.find((s) => s.id === 'outer:write-subid:subuid')!.dependsOn).toEqual(['outer:start-lxc']);
    expect(first.steps.find((s) => s.id === 'mine/deep:write-subid:subuid')!.dependsOn).toEqual(['mine/deep:start-lxc']);
    const outerSet = first.steps.find((s) => s.id === 'outer:configure-lxc');
    expect(outerSet?.kind === 'configure-lxc' && outerSet.set).toContainEqual(['lxc.include', '/usr/share/lxc/config/nesting.conf']);

    const summary = await startApply(first, world.host()).finished;
    expect(summary.failed.map((f) => f.error.message)).toEqual([]);
    // outer holds 65536 ids for itself and a slice each for inner and second; its /etc/subuid has root's lines for them.
    expect(world.file('outer', '/etc/subuid')).toBe('root:65536:65536\nroot:131072:65536\n');
    expect(world.lxcUidMap('outer', 'root', 'inner')).toBe('0 65536 65536');
    expect(world.lxcUidMap('outer', 'root', 'second')).toBe('0 131072 65536');
    expect(world.uidMap('outer')?.split(' ').slice(2)).toEqual(['196608']);
    expect(world.lxcUidMap('mine/deep', 'root', 'deepest')).toBe('0 65536 65536');
    expect(world.file('mine', '/etc/subuid')).toBe('root:65536:131072\n');
    expect(world.file('', '/home/alice/.local/share/lxc/mine/config')).toContain('lxc.include = /usr/share/lxc/config/nesting.conf');
    expect(world.file('outer', '/var/lib/lxc/inner/config')).toContain('lxc.net.0.link = lxcbr0');
    expect((await plan(world, TREE)).steps).toEqual([]);

    // Saved as a world and read back (--state), the same tree has nothing to do.
    const again = createSimWorld(parseWorld(describeWorldText(world.state()), 'state.yaml'));
    expect((await plan(again, TREE)).steps).toEqual([]);
  });

  it("runs what it does inside through the owner's lxc-attach (the argv a real run executes on the host)", async () => {
    const world = lxcWorld();
    const seen: string[][] = [];
    const p = await plan(world, TREE);
    const machine = world.machine();
    const host = new ExecLevel((argv, options) => (seen.push([...argv]), machine(argv, options)), '');
    const summary = await startApply(p, host).finished;
    expect(summary.failed).toEqual([]);
    const deepest = seen.find((a) => a.includes('lxc-create') && a.includes('deepest'));
    expect(deepest?.slice(0, 17)).toEqual([
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-attach',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'mine',
      '--',
      'lxc-attach',
      '-P',
      '/var/lib/lxc',
      '-n',
      'deep',
    ]);
  });

  it("the inner containers cannot start without root's lines inside (the simulated newuidmap checks them)", async () => {
    const world = lxcWorld();
    const p = await plan(world, TREE);
    const withoutLines = {
      ...p,
      steps: p.steps
        .filter((s) => s.level !== 'outer' || s.kind !== 'write-subid')
        .map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => !d.startsWith('outer:write-subid')) })),
    };
    const summary = await startApply(withoutLines, world.host()).finished;
    expect(summary.failed.map((f) => f.step.id)).toEqual(['outer/inner:create-lxc', 'outer/second:create-lxc']);
  });

  it('an LXC container whose rootfs has no LXC: the plan says so at the node', async () => {
    const world = createSimWorld(
      parseWorld(
        [
          'host:',
          '  lxd: {flavour: debian, initialised: true}',
          '  images: [{alias: busybox}]',
          '  lxc:',
          '    users: {alice: /home/alice}',
          '    containers:',
          '      - name: outer',
          '        config: "lxc.idmap = u 0 10223616 196608\\nlxc.idmap = g 0 10223616 196608\\n"',
          '        inside: {}',
        ].join('\n'),
        'w.yaml',
      ),
    );
    const r = await planManifest(TREE.manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: TREE.text });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((d) => [d.message, d.hint])).toContainEqual([
      'outer runs LXC containers in the manifest, but LXC is not installed there',
      'install it (apt-get install lxc), or create outer again from a rootfs that has it',
    ]);
  });
});
