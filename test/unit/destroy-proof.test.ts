// Destroy and --prune delete only what they can prove is nestctl's and empty (core/plan/deletion.ts),
// on simulated worlds that hold strangers, inner daemons that are down, stopped containers and
// containers without a shell.

import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { type PipelineOptions, planManifest, savedPlanOptions } from '../../src/engine/plan-pipeline.js';
import { planDifference } from '../../src/core/plan/compare.js';
import { hostWith, load, nestInside, ours, stranger } from './helpers/sim-worlds.js';

async function destroyPlan(w: SimWorld, m: ReturnType<typeof load>, extra: Partial<PipelineOptions> = {}) {
  return planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text, mode: 'destroy', ...extra });
}
async function plan(w: SimWorld, m: ReturnType<typeof load>, extra: Partial<PipelineOptions> = {}): Promise<Plan> {
  const r = await destroyPlan(w, m, extra);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
const ids = (p: Plan) => p.steps.map((s) => s.id);
const names = async (w: SimWorld, path = '') => (await w.level(path).probe()).instances.map((i) => i.name);

const LEAF = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: nest }\n');
const NEST = load(
  'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    containers:\n      - { name: c2, image: busybox }\n',
);

describe('destroy keeps what it cannot prove is its own and empty', () => {
  it('a manifest leaf holding a stranger container is kept, with the reason', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([stranger('web')]) })]));
    const p = await plan(w, LEAF);
    expect(ids(p)).toEqual([]);
    expect(p.warnings).toContain('c1 is kept: it holds containers nestctl did not create or cannot prove empty (c1/web)');
  });

  it('a leaf holding a container nestctl made for another place in some tree is kept', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([ours('elsewhere/x', 'busybox')]) })]));
    const p = await plan(w, LEAF);
    expect(ids(p)).toEqual([]);
    expect(p.warnings).toContain('c1 is kept: it holds containers nestctl did not create or cannot prove empty (c1/x)');
  });

  it('a leaf holding containers whose markers place them under it is deleted with them, the outermost first', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([ours('c1/x', 'busybox')]) })]));
    const p = await plan(w, LEAF);
    expect(ids(p)).toEqual(['c1:delete-instance', 'c1/x:delete-instance']);
    expect(p.steps[1]!.dependsOn).toEqual(['c1:delete-instance']);
    const s = await startApply(p, w.host()).finished;
    expect(s.failed).toEqual([]);
    expect(await names(w)).toEqual([]);
  });

  it('a container whose inner LXD is down is kept: its containers cannot be listed', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([], 'down') })]));
    for (const m of [LEAF, NEST]) {
      const p = await plan(w, m);
      expect(ids(p)).toEqual([]);
      expect(p.warnings.join('\n')).toContain('c1 is kept: the LXD inside it is not running, so its containers cannot be listed');
    }
  });

  it('a stopped container is kept, children in the manifest or not: its inside cannot be seen', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { status: 'Stopped', inside: nestInside([ours('c1/c2', 'busybox')]) })]));
    for (const m of [LEAF, NEST]) {
      const p = await plan(w, m);
      expect(ids(p)).toEqual([]);
      expect(p.warnings.join('\n')).toContain(
        'c1 is kept: it is stopped, and what it holds cannot be seen without starting it; start it and run nestctl again',
      );
    }
  });

  it('a container with no shell is kept: the probe cannot run in it', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'noshell')]));
    const p = await plan(w, LEAF);
    expect(ids(p)).toEqual([]);
    expect(p.warnings.join('\n')).toMatch(
      /^c1 is kept: what it holds cannot be looked at \(sh -c <probe> failed in c1 \(exit 127\).*delete it by hand \(lxc delete --force c1\)/m,
    );
  });

  it('a kept container still lets the manifest containers inside it go', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([ours('c1/c2', 'busybox'), stranger('web')]) })]));
    const p = await plan(w, NEST);
    expect(ids(p)).toEqual(['c1/c2:delete-instance']);
    await startApply(p, w.host()).finished;
    expect(await names(w, 'c1')).toEqual(['web']);
  });

  it('leaves without LXD, and nests whose daemons are up and hold only their own, are deleted, the outermost first', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([ours('c1/c2', 'busybox')]) }), ours('leaf', 'busybox')]));
    const m = load(
      'apiVersion: nestctl/v1\ncontainers:\n  - { name: leaf, image: busybox }\n  - name: c1\n    image: nest\n    containers:\n      - { name: c2, image: busybox }\n',
    );
    const p = await plan(w, m);
    expect(ids(p)).toEqual(['leaf:delete-instance', 'c1:delete-instance', 'c1/c2:delete-instance']);
    expect(p.warnings).toEqual([]);
    await startApply(p, w.host()).finished;
    expect(await names(w)).toEqual([]);
  });
});

describe('--prune follows the same rules', () => {
  const ONLY_A = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: a, image: busybox }\n');
  const prunePlan = (w: SimWorld) => plan(w, ONLY_A, { mode: 'apply', prune: true });

  it('keeps a pruned container that holds a stranger, a down daemon, or cannot be looked into', async () => {
    const w = createSimWorld(
      hostWith([
        ours('a', 'busybox'),
        ours('b', 'nest', { inside: nestInside([stranger('web')]) }),
        ours('d', 'nest', { inside: nestInside([], 'down') }),
        ours('s', 'noshell'),
        ours('t', 'busybox', { status: 'Stopped' }),
        ours('gone', 'nest', { inside: nestInside([ours('gone/x', 'busybox')]) }),
      ]),
    );
    const p = await prunePlan(w);
    expect(p.steps.filter((s) => s.kind === 'delete-instance').map((s) => s.id)).toEqual([
      'gone:delete-instance',
      'gone/x:delete-instance',
    ]);
    const kept = p.warnings.filter((x) => x.startsWith('--prune: '));
    expect(kept.map((x) => x.split(':')[1]!.trim().split(' ')[0])).toEqual(['b', 'd', 's', 't']);
    expect(kept[0]).toContain('(b/web)');
  });
});

describe('destroy --restore-ids refuses a host restart apply would refuse', () => {
  it('on a host with neither systemd nor snap nor a restart command: a plan problem, nothing changed', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'busybox')], { systemd: false }));
    // What nestctl wrote before: the original is kept, so --restore-ids has something to restore.
    await w.host().writeSubid('subuid', 'root:500000:1000000\nroot:100000:65536\n', (await w.host().probe()).subuid.sha256);
    const before = w.log().length;
    const r = await destroyPlan(w, load('apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox }\n'), { restoreIds: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((x) => x.message)).toEqual(['the host LXD must be restarted, but this host runs neither systemd nor snap']);
    expect(r.problems[0]!.hint).toContain('--host-restart');
    expect(w.log().length).toBe(before);
    // Told how, the same destroy plans the restart with that command.
    const told = await plan(w, load('apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox }\n'), {
      restoreIds: true,
      hostRestart: ['/usr/local/bin/restart-lxd'],
    });
    expect(told.steps.find((s) => s.kind === 'restart-daemon')).toMatchObject({ command: ['/usr/local/bin/restart-lxd'] });
  });
});

describe('observation that cannot see inside', () => {
  it('apply refuses to plan into a container whose inside cannot be looked at', async () => {
    const w = createSimWorld(hostWith([ours('c1', 'noshell')]));
    const r = await destroyPlan(
      w,
      load(
        'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: noshell\n    containers:\n      - { name: c2, image: busybox }\n',
      ),
      { mode: 'apply' },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.message).toMatch(/^cannot look inside c1: sh -c <probe> failed in c1 \(exit 127\)/);
  });

  it('a saved --prune plan goes stale when a stranger appears inside a container it deletes', async () => {
    const w = createSimWorld(hostWith([ours('gone', 'nest', { inside: nestInside([]) })]));
    const m = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: a, image: busybox }\n');
    const p = await plan(w, m, { mode: 'apply', prune: true });
    /** What apply PLAN.json checks: planning the saved plan again finds a different world. */
    const stale = async (saved: Plan, mm: typeof m): Promise<boolean> =>
      planDifference(saved, await plan(w, mm, savedPlanOptions(saved, saved.tool)))?.stale ?? false;
    expect(ids(p)).toContain('gone:delete-instance');
    expect(await stale(p, m)).toBe(false);
    const gone = w.level('gone');
    await gone.createInstance({ name: 'web', fingerprint: (await gone.probe()).images[0]!.fingerprint, profiles: ['default'], config: {} });
    expect(await stale(p, m)).toBe(true);
  });
});
