// A delete step proves, when it runs, what the plan proved when it was made: the container is
// nestctl's, runs, and holds only what the plan deletes with it, each of those proved deletable
// again (`delete --force` takes them along). The world changes here between planning and
// applying, as it can while a user reads the plan.

import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { MARKER_MANAGED, MARKER_PATH } from '../../src/core/plan/desired-config.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { type PipelineOptions, planManifest } from '../../src/engine/plan-pipeline.js';
import { hostWith, load, nestInside, ours } from './helpers/sim-worlds.js';

async function plan(w: SimWorld, m: ReturnType<typeof load>, extra: Partial<PipelineOptions> = {}): Promise<Plan> {
  const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text, mode: 'destroy', ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
const names = async (w: SimWorld, path = '') => (await w.level(path).probe()).instances.map((i) => i.name).sort();
const deletes = (p: Plan) => p.steps.filter((s) => s.kind === 'delete-instance').map((s) => s.id);
/** Apply `p`; what failed, as "step id: message". */
async function failures(w: SimWorld, p: Plan): Promise<string[]> {
  const s = await startApply(p, w.host()).finished;
  return s.failed.map((f) => `${f.step.id}: ${f.error.message}`);
}
async function fingerprint(w: SimWorld, path: string, alias: string): Promise<string> {
  return (await w.level(path).probe()).images.find((i) => i.aliases.includes(alias))!.fingerprint;
}
/** Someone launches `name` inside the container at `path` (a stranger: no nestctl marker). */
async function launchInside(w: SimWorld, path: string, name: string, config: Record<string, string> = {}): Promise<void> {
  const level = w.level(path);
  await level.createInstance({ name, fingerprint: await fingerprint(w, path, 'busybox'), profiles: ['default'], config });
}

// c1 (a nest holding c1/x, both nestctl's) and an independent leaf.
const BOTH = load(
  'apiVersion: nestctl/v1\ncontainers:\n  - { name: leaf, image: busybox }\n  - name: c1\n    image: nest\n    containers:\n      - { name: x, image: busybox }\n',
);
const world = (inside = nestInside([ours('c1/x', 'busybox')])) =>
  createSimWorld(hostWith([ours('c1', 'nest', { inside }), ours('leaf', 'busybox')]));

describe('destroy re-checks each container when it deletes it', () => {
  it('happy path: one delete --force of the outermost container takes what it holds along; no stop, no delete inside', async () => {
    const w = world();
    const p = await plan(w, BOTH);
    expect(deletes(p)).toEqual(['leaf:delete-instance', 'c1:delete-instance', 'c1/x:delete-instance']);
    expect(p.steps.find((s) => s.id === 'c1/x:delete-instance')!.dependsOn).toEqual(['c1:delete-instance']);
    const summary = await startApply(p, w.host()).finished;
    expect(summary.failed).toEqual([]);
    expect(summary.done).toBe(3);
    expect(await names(w)).toEqual([]);
    expect(
      w
        .log()
        .filter((r) => r.op === 'delete')
        .map((r) => `${r.path}/${r.detail}`)
        .sort(),
    ).toEqual(['/c1', '/leaf']);
    expect(
      w
        .log()
        .filter((r) => r.op === 'stop' && r.path !== '')
        .map((r) => r.path),
    ).toEqual([]);
  });

  it('refuses a container a stranger was launched in after planning; the rest of the plan completes', async () => {
    const w = world();
    const p = await plan(w, BOTH);
    await launchInside(w, 'c1', 'web');
    expect(await failures(w, p)).toEqual([
      'c1:delete-instance: plan is stale: c1 now holds c1/web, which nestctl did not plan to delete; nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['c1']);
    // Nothing inside c1 was touched; the independent leaf went.
    expect(await names(w, 'c1')).toEqual(['web', 'x']);
    expect(
      w
        .log()
        .filter((r) => r.op === 'delete')
        .map((r) => `${r.path}/${r.detail}`),
    ).toEqual(['/leaf']);
  });

  it("refuses a container that now holds one of nestctl's half-made creates it did not plan to delete", async () => {
    const w = world(nestInside([]));
    const p = await plan(w, BOTH);
    w.interruptCreate('c1');
    await launchInside(w, 'c1', 'y', { [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1/y' }).catch(() => undefined);
    expect(await failures(w, p)).toEqual([
      'c1:delete-instance: plan is stale: c1 now holds c1/y, which nestctl did not plan to delete; nothing was deleted',
    ]);
    expect(await names(w, 'c1')).toEqual(['y']);
  });

  it('refuses a container whose inner LXD went down after planning: its containers cannot be listed', async () => {
    const w = world(nestInside([]));
    const p = await plan(w, BOTH);
    w.stopDaemon('c1');
    expect(await failures(w, p)).toEqual([
      'c1:delete-instance: plan is stale: the LXD inside c1 is no longer running, so its containers cannot be listed; nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['c1']);
  });

  it('refuses a container that was stopped after planning: what it holds cannot be seen', async () => {
    const w = world();
    const p = await plan(w, BOTH);
    // Stopped with nothing new inside: the disk of a stopped container is not looked at, so it is kept all the same.
    await w.host().stopInstance('c1');
    expect(await failures(w, p)).toEqual([
      'c1:delete-instance: plan is stale: c1 is now stopped, and what it holds cannot be seen without starting it; nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['c1']);

    const w2 = world(nestInside([]));
    const p2 = await plan(w2, BOTH);
    await w2.host().stopInstance('c1');
    expect(await failures(w2, p2)).toEqual([
      'c1:delete-instance: plan is stale: c1 is now stopped, and what it holds cannot be seen without starting it; nothing was deleted',
    ]);
    expect(await names(w2)).toEqual(['c1']);
  });

  it('refuses a container replaced, under the same name and marker, by one whose inside cannot be looked at', async () => {
    const w = world(nestInside([]));
    const p = await plan(w, BOTH);
    await w.host().stopInstance('c1');
    await w.host().deleteInstance('c1');
    await w.host().createInstance({
      name: 'c1',
      fingerprint: await fingerprint(w, '', 'noshell'),
      profiles: ['default'],
      config: { [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1' },
    });
    await w.host().startInstance('c1', false);
    const failed = await failures(w, p);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /^c1:delete-instance: plan is stale: what c1 holds can no longer be looked at \(sh -c <probe> failed in c1 \(exit 127\).*\); nothing was deleted$/,
    );
    expect(await names(w)).toEqual(['c1']);
  });

  it('refuses a container replaced by one of the same name without the marker', async () => {
    const w = world(nestInside([]));
    const p = await plan(w, BOTH);
    await w.host().stopInstance('c1');
    await w.host().deleteInstance('c1');
    await w.host().createInstance({ name: 'c1', fingerprint: await fingerprint(w, '', 'busybox'), profiles: ['default'], config: {} });
    await w.host().startInstance('c1', false);
    expect(await failures(w, p)).toEqual([
      'c1:delete-instance: plan is stale: c1 is not marked as created by nestctl (no user.nestctl.path=c1); nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['c1']);
  });
});

describe('--prune re-checks the same way', () => {
  const ONLY_A = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: a, image: busybox }\n');

  it('refuses a pruned container a stranger was launched in after planning; other prunes complete', async () => {
    const w = createSimWorld(hostWith([ours('a', 'busybox'), ours('gone', 'nest', { inside: nestInside([]) }), ours('old', 'busybox')]));
    const p = await plan(w, ONLY_A, { mode: 'apply', prune: true });
    expect(deletes(p)).toEqual(['gone:delete-instance', 'old:delete-instance']);
    await launchInside(w, 'gone', 'web');
    expect(await failures(w, p)).toEqual([
      'gone:delete-instance: plan is stale: gone now holds gone/web, which nestctl did not plan to delete; nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['a', 'gone']);
    expect(await names(w, 'gone')).toEqual(['web']);
  });
});
