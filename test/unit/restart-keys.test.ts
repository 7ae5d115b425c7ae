// Config keys LXD applies only when a container starts (core/flavour/start-keys.ts): set on a
// running container they are planned with a restart of it, shown with what it costs; a stopped
// container's next start applies them. The simulator runs a container with the config it
// started with, so a nested start in a parent that got security.nesting while it ran fails as
// on a real LXD (the proc mount liblxc cannot make).

import { describe, expect, it } from 'vitest';
import { type Loaded, loadLines, planOn } from './helpers/engine.js';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { startOnlyChanges } from '../../src/core/flavour/index.js';
import { planCounts } from '../../src/core/plan/counts.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';

const load = (...lines: string[]): Loaded =>
  loadLines('restart.yaml', 'apiVersion: nestctl/v1', 'host:', '  base: 500000', 'containers:', ...lines);

// Isolated with ids to spare: a first child does not grow its map (a grown map restarts it anyway).
const C1 = ['  - name: c1', '    image: nestlxc', '    idmap: { isolated: true, size: 262144 }'];
const ALONE = load(...C1);
const WITH_DOCKER = load(...C1, '    docker: true');
const WITH_LXD_CHILD = load(...C1, '    containers:', '      - name: c2', '        image: nestlxc');
const WITH_LXC_CHILD = load(...C1, '    containers:', '      - name: box', '        runtime: lxc', '        user: alice');

function world(): SimWorld {
  const desc = defaultWorld([{ alias: 'nestlxc', hostsLxd: true }]);
  desc.host.images = desc.host.images!.map((i) => ({ ...i, lxc: true }));
  return createSimWorld(desc);
}

async function applied(w: SimWorld, p: Plan): Promise<string[]> {
  const s = await startApply(p, w.host()).finished;
  return s.failed.map((f) => `${f.step.id}: ${f.error.message}`);
}

/** c1 made and running, with nothing inside and no nesting. */
async function runningC1(): Promise<SimWorld> {
  const w = world();
  expect(await applied(w, await planOn(w.host(), ALONE))).toEqual([]);
  return w;
}

const step = (p: Plan, id: string): Step | undefined => p.steps.find((s) => s.id === id);

describe('keys LXD applies only at start, set on a running container', () => {
  it('docker: true added to a running container plans the update and a restart, applied, then nothing is left', async () => {
    const w = await runningC1();
    const p = await planOn(w.host(), WITH_DOCKER);
    expect(p.steps.map((s) => s.id)).toEqual(['c1:update-config', 'c1:restart-instance']);
    expect(step(p, 'c1:restart-instance')).toMatchObject({
      dependsOn: ['c1:update-config'],
      keys: ['security.nesting', 'security.syscalls.intercept.mknod', 'security.syscalls.intercept.setxattr'],
      waitBoot: true,
      inside: 0,
    });
    expect(step(p, 'c1:restart-instance')!.reason).toBe(
      'security.nesting, security.syscalls.intercept.mknod, security.syscalls.intercept.setxattr are set while c1 runs, and LXD applies them only at a start',
    );
    expect(renderPlanText(p, colours(false))).toContain(
      '~ c1: restart (LXD mounts what nesting needs and loads the syscall interception only when c1 starts; stops c1 for a moment)',
    );
    expect(planCounts(p)).toEqual({ add: 0, change: 1, destroy: 0, steps: 2 });
    expect(await applied(w, p)).toEqual([]);
    expect(w.log().filter((r) => r.op === 'stop' && r.detail === 'c1')).toHaveLength(1);
    expect((await planOn(w.host(), WITH_DOCKER)).steps).toEqual([]);
  });

  it('a first LXD child of a running container restarts it before its level is planned, and the child then starts', async () => {
    const w = await runningC1();
    const p = await planOn(w.host(), WITH_LXD_CHILD);
    expect(p.steps.slice(0, 2).map((s) => s.id)).toEqual(['c1:update-config', 'c1:restart-instance']);
    expect(step(p, 'c1:restart-instance')).toMatchObject({ keys: ['security.nesting'], hosting: true, waitBoot: true, grow: null });
    // c1's level starts from the restart.
    expect(step(p, 'c1:write-subid:subuid')!.dependsOn).toEqual(['c1:restart-instance']);
    expect(renderPlanText(p, colours(false))).toContain(
      '~ c1: restart (LXD mounts what nesting needs only when c1 starts; stops c1 for a moment)',
    );
    expect(await applied(w, p)).toEqual([]);
    expect((await planOn(w.host(), WITH_LXD_CHILD)).steps).toEqual([]);
  });

  it("a first LXC child of a running container restarts it; the user's LXC start waits for c1's LXD, whose bridge it links", async () => {
    const w = await runningC1();
    w.installLxc('c1', { alice: '/home/alice' }); // setup's useradd, in the lab
    const p = await planOn(w.host(), WITH_LXC_CHILD);
    expect(p.steps.slice(0, 2).map((s) => s.id)).toEqual(['c1:update-config', 'c1:restart-instance']);
    expect(step(p, 'c1/box:start-lxc')).toMatchObject({ kind: 'start-lxc', waitDaemon: true, cgroup: 'systemd-run' });
    expect(step(p, 'c1/box:create-lxc')!.dependsOn).toContain('c1:restart-instance');
    expect(await applied(w, p)).toEqual([]);
    expect(w.lxcUidMap('c1', 'alice', 'box')).not.toBeNull();
    expect((await planOn(w.host(), WITH_LXC_CHILD)).steps).toEqual([]);
  });

  it("starts a running LXC child again after its container's restart, once that level's LXD (and bridge) is back", async () => {
    const w = await runningC1();
    w.installLxc('c1', { alice: '/home/alice' });
    expect(await applied(w, await planOn(w.host(), WITH_LXC_CHILD))).toEqual([]);
    const more = load(
      ...C1,
      '    config:',
      '      raw.lxc: "lxc.apparmor.allow_nesting = 1"',
      '    containers:',
      '      - name: box',
      '        runtime: lxc',
      '        user: alice',
    );
    const p = await planOn(w.host(), more);
    // No subid write at c1, so no daemon restart there: only waitready brings lxdbr0 back.
    expect(p.steps.map((s) => s.id)).toEqual(['c1:update-config', 'c1:restart-instance', 'c1/box:start-lxc']);
    expect(step(p, 'c1:restart-instance')).toMatchObject({ keys: ['raw.lxc'], inside: 1 });
    expect(step(p, 'c1/box:start-lxc')).toMatchObject({
      dependsOn: ['c1:restart-instance'],
      waitDaemon: true,
      reason: 'c1/box stops when c1 restarts, and nothing starts it again',
    });
    expect(renderPlanText(p, colours(false))).toContain(
      '~ c1: restart (LXD applies raw.lxc only when c1 starts; stops c1 and the container inside it for a moment)',
    );
    expect(await applied(w, p)).toEqual([]);
    expect(w.lxcUidMap('c1', 'alice', 'box')).not.toBeNull();
    expect((await planOn(w.host(), more)).steps).toEqual([]);
  });

  it('says what a restart stops: the containers running inside it', async () => {
    const w = world();
    expect(await applied(w, await planOn(w.host(), WITH_LXD_CHILD))).toEqual([]);
    const withLimit = load(
      ...C1,
      '    config:',
      '      raw.lxc: "lxc.apparmor.allow_nesting = 1"',
      '    containers:',
      '      - name: c2',
      '        image: nestlxc',
    );
    const p = await planOn(w.host(), withLimit);
    expect(step(p, 'c1:restart-instance')).toMatchObject({ keys: ['raw.lxc'], inside: 1 });
    expect(renderPlanText(p, colours(false))).toContain(
      '~ c1: restart (LXD applies raw.lxc only when c1 starts; stops c1 and the container inside it for a moment)',
    );
    expect(await applied(w, p)).toEqual([]);
    expect((await planOn(w.host(), withLimit)).steps).toEqual([]);
  });

  it('a stopped container gets no restart: its next start applies the keys', async () => {
    const w = await runningC1();
    await w.host().stopInstance('c1');
    const p = await planOn(w.host(), WITH_DOCKER);
    expect(p.steps.map((s) => s.id)).toEqual(['c1:update-config', 'c1:start-instance']);
    expect(await applied(w, p)).toEqual([]);
    expect((await planOn(w.host(), WITH_DOCKER)).steps).toEqual([]);
  });

  it('plans no restart for keys LXD applies live, nor for security.nesting turned off', () => {
    expect(startOnlyChanges({}, { 'limits.cpu': '2', 'security.nesting': 'false' }, [])).toEqual([]);
    expect(startOnlyChanges({ 'security.nesting': 'true' }, {}, ['security.nesting'])).toEqual([]);
    expect(startOnlyChanges({ 'security.nesting': 'false' }, { 'security.nesting': 'yes' }, ['raw.lxc'])).toEqual([
      'security.nesting',
      'raw.lxc',
    ]);
  });
});

describe('the simulator runs a container with the config it started with', () => {
  /** The plan without its restart of c1 (what nestctl planned before it knew): the rest waits for the update instead. */
  const withoutRestart = (p: Plan): Plan => ({
    ...p,
    steps: p.steps
      .filter((s) => s.id !== 'c1:restart-instance')
      .map((s) => ({ ...s, dependsOn: s.dependsOn.map((d) => (d === 'c1:restart-instance' ? 'c1:update-config' : d)) })),
  });

  it('refuses an LXD container start in a parent that got security.nesting while it ran', async () => {
    const w = await runningC1();
    const p = withoutRestart(await planOn(w.host(), WITH_LXD_CHILD));
    const failed = await applied(w, p);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^c1\/c2:start-instance: .*Failed to mount "proc"/s);
  });

  it('refuses an LXC start there too, and starts both once the parent restarted', async () => {
    const w = await runningC1();
    w.installLxc('c1', { alice: '/home/alice' });
    const failed = await applied(w, withoutRestart(await planOn(w.host(), WITH_LXC_CHILD)));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^c1\/box:start-lxc: .*Failed to mount "proc"/s);
    await w.host().stopInstance('c1');
    await w.host().startInstance('c1', true);
    expect(await applied(w, await planOn(w.host(), WITH_LXC_CHILD))).toEqual([]);
  });

  it("refuses a user's LXC start on LXD's bridge while that LXD is not running, as lxc-user-nic does", async () => {
    const w = await runningC1();
    w.installLxc('c1', { alice: '/home/alice' });
    expect(await applied(w, await planOn(w.host(), WITH_LXC_CHILD))).toEqual([]);
    // A restart by hand: c1's LXD is socket-activated again, its bridge gone, box stopped.
    await w.host().stopInstance('c1');
    await w.host().startInstance('c1', true);
    const c1 = w.host().child('c1', null);
    const home = { user: 'alice', home: '/home/alice' };
    const err = await c1.lxcStart('box', home, 'systemd-run').catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain('Could not get MTU for netdev lxdbr0 ifindex 0');
    await c1.waitDaemon();
    await c1.lxcStart('box', home, 'systemd-run');
    expect(w.lxcUidMap('c1', 'alice', 'box')).not.toBeNull();
  });
});
