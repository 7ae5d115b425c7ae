// Docker inside a container: the keys nestctl adds and why, shown in the plan.

import { describe, expect, it } from 'vitest';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import type { WorldDescription } from '../../src/sim/world-file.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { parseProbe } from '../../src/core/observe/parse-probe.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { allocate } from '../../src/core/ids/allocate.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { ObservedTree } from '../../src/core/observed.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { type PlanOptions, planTree } from '../../src/core/plan/planner.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { instance, level, manifest, node } from './helpers/build.js';

/** Observed profiles whose root disks are on the given pools. */
const rooted = (pools: Record<string, string>) =>
  Object.entries(pools).map(([name, pool]) => ({
    name,
    description: '',
    config: {},
    devices: { root: { type: 'disk', path: '/', pool } },
    usedBy: [],
  }));

const OPTS: PlanOptions = { hostRestart: null, tool: 'nestctl test', manifestSha256: 'x' };

function plan(m: Manifest, tree: ObservedTree): Plan {
  const a = allocate(m);
  if (!a.ok) throw new Error('allocation failed');
  const r = planTree(m, a.allocation, tree, OPTS);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

const step = <K extends Step['kind']>(p: Plan, id: string): Extract<Step, { kind: K }> => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${p.steps.map((x) => x.id).join(', ')}`);
  return s as Extract<Step, { kind: K }>;
};

/** builder holds runner; runner runs Docker. */
function dockerTree(): Manifest {
  const m = manifest([node('builder', [node('runner')])], { base: 400000 });
  m.containers[0]!.containers[0]!.docker = true;
  return m;
}

const fresh: ObservedTree = { levels: { '': { kind: 'observed', level: level('') }, builder: { kind: 'absent', reason: 'new' } } };

describe('docker: the plan says why each implied key is there', () => {
  it('carries a reason for each Docker key and for the nesting of a container that holds containers (JSON)', () => {
    const p = plan(dockerTree(), fresh);
    expect(step<'create-instance'>(p, 'builder/runner:create-instance').implied).toEqual({
      'security.nesting': 'docker: true; Docker creates namespaces',
      'security.syscalls.intercept.mknod': 'docker: true; overlay2 whiteouts need mknod',
      'security.syscalls.intercept.setxattr': 'docker: true; overlay2 needs trusted.* xattrs',
    });
    expect(step<'create-instance'>(p, 'builder:create-instance').implied).toEqual({ 'security.nesting': 'it holds containers' });
  });

  it('shows the reason next to each key in the plan text', () => {
    const text = renderPlanText(plan(dockerTree(), fresh), colours(false));
    expect(text).toContain('+ security.syscalls.intercept.mknod = "true"  (docker: true; overlay2 whiteouts need mknod)');
    expect(text).toContain('+ security.syscalls.intercept.setxattr = "true"  (docker: true; overlay2 needs trusted.* xattrs)');
    expect(text).toContain('+ security.nesting = "true"  (it holds containers)');
  });

  it("gives reasons only for the implied keys an update sets, not for the manifest's own", () => {
    const m = manifest([node('web', [], { config: { 'limits.cpu': '2' } })], { base: 400000 });
    m.containers[0]!.docker = true;
    const marks = { 'user.nestctl.managed': 'true', 'user.nestctl.path': 'web' };
    const tree: ObservedTree = {
      levels: {
        '': {
          kind: 'observed',
          level: level('', { instances: [instance('web', { ...marks, 'limits.cpu': '1', 'security.nesting': 'true' })] }),
        },
      },
    };
    const p = plan(m, tree);
    const u = step<'update-config'>(p, 'web:update-config');
    expect(Object.keys(u.set).sort()).toEqual(['limits.cpu', 'security.syscalls.intercept.mknod', 'security.syscalls.intercept.setxattr']);
    expect(u.implied).toEqual({
      'security.syscalls.intercept.mknod': 'docker: true; overlay2 whiteouts need mknod',
      'security.syscalls.intercept.setxattr': 'docker: true; overlay2 needs trusted.* xattrs',
    });
    expect(renderPlanText(p, colours(false))).toContain('~ limits.cpu = "1" → "2"\n');
  });

  it('says both reasons when a container that holds containers also runs Docker', () => {
    const m = manifest([node('both', [node('inner')])], { base: 400000 });
    m.containers[0]!.docker = true;
    const p = plan(m, { levels: { '': { kind: 'observed', level: level('') } } });
    expect(step<'create-instance'>(p, 'both:create-instance').implied?.['security.nesting']).toBe(
      'it holds containers; docker: true; Docker creates namespaces',
    );
  });
});

/** A docker container on the host, with the host's kernel and pool as given. */
function hostDocker(over: Parameters<typeof level>[1]): Plan {
  const m = manifest([node('web')], { base: 400000 });
  m.containers[0]!.docker = true;
  return plan(m, {
    levels: {
      '': {
        kind: 'observed',
        level: level('', { kernel: '6.1.0-28-amd64', poolDrivers: { default: 'dir' }, profiles: rooted({ default: 'default' }), ...over }),
      },
    },
  });
}

describe('docker: checks before anything runs', () => {
  it('plans no warning on a 6.1 kernel with a dir pool', () => {
    expect(hostDocker({}).warnings).toEqual([]);
  });

  it('warns, at the container, that a kernel older than 5.11 gives no overlay2 in an unprivileged container', () => {
    const w = hostDocker({ kernel: '5.10.0-28-amd64' }).warnings;
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(
      /^test\.yaml:10:5: web: docker: true, but the kernel is 5\.10\.0-28-amd64: an unprivileged container mounts overlayfs only from Linux 5\.11/,
    );
  });

  it("warns when the container's root disk is on a zfs pool, naming the pool", () => {
    const w = hostDocker({ poolDrivers: { default: 'dir', tank: 'zfs' }, profiles: rooted({ default: 'tank' }) }).warnings;
    expect(w).toEqual([
      expect.stringContaining(
        'web: docker: true, but its root disk is on host\'s pool "tank" (zfs): Docker refuses overlay2 on zfs unless it is OpenZFS 2.2 or later',
      ),
    ]);
  });

  it('follows the last of its profiles that has a root disk', () => {
    const m = manifest([node('web')], { base: 400000 });
    m.containers[0]!.docker = true;
    m.containers[0]!.profiles = ['default', 'fast'];
    const obs = level('', {
      kernel: '6.1.0',
      poolDrivers: { default: 'zfs', ssd: 'dir' },
      profiles: rooted({ default: 'default', fast: 'ssd' }),
    });
    expect(plan(m, { levels: { '': { kind: 'observed', level: obs } } }).warnings).toEqual([]);
    m.containers[0]!.profiles = ['fast', 'default'];
    expect(plan(m, { levels: { '': { kind: 'observed', level: obs } } }).warnings).toEqual([
      expect.stringContaining('on host\'s pool "default" (zfs)'),
    ]);
  });

  it('checks nothing for a privileged container', () => {
    const m = manifest([node('web', [], { config: { 'security.privileged': 'true' } })], { base: 400000 });
    m.containers[0]!.docker = true;
    expect(
      plan(m, {
        levels: {
          '': {
            kind: 'observed',
            level: level('', { kernel: '4.19.0', poolDrivers: { default: 'zfs' }, profiles: rooted({ default: 'default' }) }),
          },
        },
      }).warnings,
    ).toEqual([]);
  });

  it('says "not checked" for what it could not read: the kernel, and the pools of a new level', () => {
    expect(hostDocker({ kernel: undefined }).warnings).toEqual([
      expect.stringMatching(/web: docker: true: overlay2 not checked: the kernel release was not read$/),
    ]);
    const p = plan(dockerTree(), {
      levels: { '': { kind: 'observed', level: level('', { kernel: '6.1.0' }) }, builder: { kind: 'absent', reason: 'new' } },
    });
    expect(p.warnings).toEqual([
      expect.stringMatching(
        /builder\/runner: docker: true: overlay2 not checked: the pool under its root disk \(builder's pools are known only after apply\)$/,
      ),
    ]);
  });
});

describe("docker: the probe reads the kernel and each pool's driver", () => {
  const line = (name: string, status: string, body = '') => `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`;

  it("reads uname -r, /1.0/storage-pools?recursion=1 and each profile's root disk pool", () => {
    const out = [
      line('has_lxd', 'yes'),
      line('kernel', '0', '6.8.0-49-generic\n'),
      line('server', '0', '{"environment":{"server_version":"5.0.2"}}'),
      line(
        'pools',
        '0',
        JSON.stringify([
          { name: 'default', driver: 'dir' },
          { name: 'tank', driver: 'zfs' },
        ]),
      ),
      line(
        'profiles',
        '0',
        JSON.stringify([
          { name: 'default', devices: { root: { type: 'disk', path: '/', pool: 'tank' } } },
          { name: 'net', devices: {} },
        ]),
      ),
    ].join('\n');
    const l = parseProbe('', out, PROBE_MARK, 'debian');
    expect(l.kernel).toBe('6.8.0-49-generic');
    expect(l.storagePools).toEqual(['default', 'tank']);
    expect(l.poolDrivers).toEqual({ default: 'dir', tank: 'zfs' });
    expect(l.profiles.find((p) => p.name === 'default')?.devices['root']?.pool).toBe('tank');
  });
});

const IMAGES = [
  { alias: 'nest', hostsLxd: true },
  { alias: 'busybox', hostsLxd: false },
];

async function simPlan(world: SimWorld, text: string): Promise<Plan> {
  const r = loadManifest(text, 'docker.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const p = await planManifest(r.manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: text });
  if (!p.ok) throw new Error(JSON.stringify(p.problems));
  return p.plan;
}

describe('docker: the simulator carries the kernel and the pool drivers', () => {
  const text = [
    'apiVersion: nestctl/v1',
    'host:',
    '  base: 400000',
    'containers:',
    '  - name: web',
    '    image: busybox',
    '    docker: true',
    '',
  ].join('\n');
  const world = (host: Partial<WorldDescription['host']>): SimWorld => {
    const d = defaultWorld(IMAGES);
    return createSimWorld({ ...d, host: { ...d.host, lxd: { flavour: 'debian', initialised: true }, ...host } });
  };

  it('plans no warning in the default world (kernel 6.1, dir pool)', async () => {
    expect((await simPlan(world({}), text)).warnings).toEqual([]);
  });

  it('warns for a world with an old kernel and for one whose pool is zfs', async () => {
    expect((await simPlan(world({ kernel: '5.4.0-150-generic' }), text)).warnings).toEqual([
      expect.stringContaining('docker.yaml:5:5: web: docker: true, but the kernel is 5.4.0-150-generic'),
    ]);
    expect((await simPlan(world({ lxd: { flavour: 'debian', initialised: { driver: 'zfs' } } }), text)).warnings).toEqual([
      expect.stringContaining('its root disk is on host\'s pool "default" (zfs)'),
    ]);
  });
});
