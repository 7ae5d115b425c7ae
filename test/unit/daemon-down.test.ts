// A nested LXD stopped between two runs (systemctl stop lxd.socket lxd.service inside c1): its
// containers keep running, its pools, bridge and images stay on disk. The plan starts it again
// (the level's restart) instead of reading it as an uninitialised LXD, and apply converges.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { type LevelDescription, parseWorld, type WorldDescription } from '../../src/sim/index.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { colours } from '../../src/render/colour.js';
import { nestctl } from './helpers/cli.js';
import { hostWith, load, nestInside, ours } from './helpers/sim-worlds.js';

const m = load(`apiVersion: nestctl/v1
containers:
  - name: c1
    image: nest
    containers:
      - name: c2
        image: busybox
`);

/** c1 (converged for the manifest above) with `inside` as its inside. */
const world = (inside: LevelDescription): WorldDescription => hostWith([ours('c1', 'nest', { inside })]);
/** c1's LXD, initialised, with root:65536:65536 (what the manifest asks for), holding `instances`. */
const c1Inside = (daemon: 'up' | 'down', withC2: boolean): LevelDescription =>
  nestInside(withC2 ? [ours('c1/c2', 'busybox')] : [], daemon, 65536);

async function plan(host: LxdLevel): Promise<Plan> {
  const r = await planManifest(m.manifest, host, { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

const atC1 = (p: Plan): Step[] => p.steps.filter((s) => s.level === 'c1');

describe("a nested LXD that is down (c1's)", () => {
  it('is the only difference from a converged world (control: the same world with it up plans nothing)', async () => {
    expect((await plan(createSimWorld(world(c1Inside('up', true))).host())).steps).toEqual([]);
  });

  it('is started first; what it holds is worked out when it runs, so existing containers are not created again', async () => {
    const w = createSimWorld(world(c1Inside('down', true)));
    const p = await plan(w.host());
    const steps = atC1(p);
    expect(steps[0]?.id).toBe('c1:restart-daemon');
    expect(steps[0]?.reason).toMatch(/^c1's LXD is not running \(.*connection refused.*\): start it/);
    // Everything after the start depends on it and decides its details from the live level.
    for (const s of steps.slice(1)) expect(s.precondition, s.id).toEqual({ kind: 'level-new' });
    const restart = p.steps.find((s) => s.id === 'c1:restart-daemon')!;
    expect(p.steps.filter((s) => s.dependsOn.includes(restart.id)).length).toBeGreaterThan(0);
    // The subid files were read without the daemon and already say what the tree needs.
    expect(p.steps.filter((s) => s.kind === 'write-subid')).toEqual([]);

    expect((await w.level('c1').probe()).daemon.kind).toBe('down');
    const run = startApply(p, w.host());
    const summary = await run.finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(w.restarts('c1')).toBe(1);
    // Nothing that existed was made again: no init, no import, no create, no start at c1.
    expect(
      w
        .log()
        .filter((r) => r.path === 'c1' && r.op !== 'daemon-start')
        .map((r) => `${r.op} ${r.detail}`),
    ).toEqual([]);
    for (const id of ['c1:init-daemon', 'c1/c2:create-instance', 'c1/c2:start-instance']) {
      expect(await run.outcome(id), id).toMatchObject({ status: 'done', changed: false });
    }
    const c1 = await w.level('c1').probe();
    expect(c1.daemon.kind).toBe('up');
    expect(c1.instances.map((i) => `${i.name} ${i.status}`)).toEqual(['c2 Running']);
    expect((await plan(w.host())).steps).toEqual([]);
  });

  it("creates c1's children that do not exist once it has started it, and the plan text says why", async () => {
    const w = createSimWorld(world(c1Inside('down', false)));
    const p = await plan(w.host());
    expect(atC1(p)[0]?.id).toBe('c1:restart-daemon');
    const text = renderPlanText(p, colours(false));
    expect(text).toContain("c1's LXD is not running (");
    expect(p.steps.find((s) => s.id === 'c1/c2:create-instance')?.reason).toContain("c1's LXD was not running");
    const summary = await startApply(p, w.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect((await w.level('c1').probe()).instances.map((i) => `${i.name} ${i.status}`)).toEqual(['c2 Running']);
    expect((await plan(w.host())).steps).toEqual([]);
  });
  it("keeps every old root entry when c1's subids must change while its LXD is down: its containers may still use them", async () => {
    const old = 'root:200000:65536\n';
    const w = createSimWorld(world({ ...c1Inside('down', true), subuid: old, subgid: old }));
    const p = await plan(w.host());
    const edit = p.steps.find((s) => s.id === 'c1:write-subid:subuid');
    expect(edit?.kind === 'write-subid' && edit.after).toBe('root:65536:65536\nroot:200000:65536\n');
    expect(edit?.reason).toContain('not listed while its LXD is down');
    const ids = atC1(p).map((s) => s.id);
    expect(ids.indexOf('c1:restart-daemon')).toBeGreaterThan(ids.indexOf('c1:write-subid:subgid'));
    expect((await startApply(p, w.host()).finished).failed).toEqual([]);
    // c2 was mapped from the old entry: it must still start (newuidmap checks its map against root's entries).
    await w.level('c1').stopInstance('c2');
    await w.level('c1').startInstance('c2', false);
    expect((await plan(w.host())).steps).toEqual([]);
  });
  it("leaves a half-made c2 found once c1's LXD runs to the next plan, which replaces it", async () => {
    const halfMade = ours('c1/c2', 'busybox', { status: 'Stopped', createInterrupted: true });
    const w = createSimWorld(world(nestInside([halfMade], 'down', 65536)));
    const first = await startApply(await plan(w.host()), w.host()).finished;
    expect(first.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([
      'c1/c2:create-instance: plan is stale: c1/c2 exists, but could not be looked at when the plan was made',
    ]);
    const again = await plan(w.host());
    expect(again.steps.map((s) => s.id)).toEqual(['c1/c2:delete-instance', 'c1/c2:create-instance', 'c1/c2:start-instance']);
    expect((await startApply(again, w.host()).finished).failed).toEqual([]);
    expect((await plan(w.host())).steps).toEqual([]);
  });
});

describe('the simulator, for a nested LXD stopped by hand', () => {
  it('keeps its containers running while it is down (SIGTERM), and its restart brings it back with its state intact', async () => {
    const up = await createSimWorld(world(c1Inside('up', true)))
      .level('c1')
      .probe();
    const w = createSimWorld(world(c1Inside('down', true)));
    const down = await w.level('c1').probe();
    expect(down.daemon.kind).toBe('down');
    // c2 still runs: a probe inside it goes through c1's LXD, which is down, so it fails as lxc does.
    await expect(w.level('c1/c2').probe()).rejects.toThrow(/not running|connection refused|unix\.socket/i);
    await w.level('c1').restartDaemon(null);
    expect(w.restartCommands('c1')).toEqual([['systemctl', 'restart', 'lxd']]);
    const after = await w.level('c1').probe();
    expect(after.daemon.kind).toBe('up');
    for (const key of ['storagePools', 'networks', 'defaultProfileHasRoot', 'images', 'instances', 'subuid', 'subgid'] as const) {
      expect(after[key], key).toEqual(up[key]);
    }
    expect(after.instances.map((i) => i.status)).toEqual(['Running']);
  });
});

describe("nestctl apply --world, three levels, c1's LXD stopped (the lab's reproduction)", () => {
  const WORLD = 'test/unit/fixtures/worlds/seed-c1-daemon-down.yaml';

  it("starts c1's LXD, re-creates nothing under it, and converges", async () => {
    const r = await nestctl(['apply', '--auto-approve', '--world', WORLD, 'examples/seed.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/# c1 \(LXD, Debian package\)\n {2}~ c1: restart LXD\n {6}c1's LXD is not running \(.*\): start it\n/);
    // c2 and c3 exist but could not be listed: the plan says so instead of calling them new.
    expect(r.stdout).toContain("c1/c2 could not be looked at (c1's LXD was not running when planned)");
    expect(r.stdout).not.toContain('c1/c2 is new');
    expect(r.stdout).toContain('c1/c2: create from nest (already created');
    expect(r.stdout).toContain('c1/c2/c3: create from busybox (already created');
    expect(r.stdout).toContain('0 failed');
    expect(r.stdout).toContain('Converged: planning again in the simulated LXD finds no changes.');
  });
});

describe('deletion around a nested LXD that is down', () => {
  const WORLD = 'test/unit/fixtures/worlds/seed-c1-daemon-down.yaml';
  const seedWorld = () => createSimWorld(parseWorld(readFileSync(WORLD, 'utf8'), WORLD));

  it('destroy keeps c1 and everything under it: its containers cannot be listed', async () => {
    const seed = load(readFileSync('examples/seed.yaml', 'utf8'));
    const r = await planManifest(seed.manifest, seedWorld().host(), {
      hostRestart: null,
      tool: 'test',
      manifestText: seed.text,
      mode: 'destroy',
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.filter((s) => s.kind === 'delete-instance')).toEqual([]);
    expect(r.plan.warnings.join('\n')).toContain('c1 is kept: the LXD inside it is not running');
  });

  it('--prune deletes nothing under c1, though c1/c2/c3 is no longer in the manifest', async () => {
    const r = await planManifest(m.manifest, seedWorld().host(), { hostRestart: null, tool: 'test', manifestText: m.text, prune: true });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.filter((s) => s.kind === 'delete-instance')).toEqual([]);
    expect(r.plan.steps.map((s) => s.id)).toContain('c1:restart-daemon');
  });
});
