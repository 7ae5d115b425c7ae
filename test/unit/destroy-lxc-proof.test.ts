// The deletion rule's proof covers classic LXC containers inside an LXD container (core/plan/deletion.ts,
// rule d): destroy, --prune and --replace delete a container only when its LXC containers of every
// owner were listed and each is nestctl's at its place; apply proves it again when it deletes.

import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import type { InstanceDescription, LevelDescription, LxcContainerDescription } from '../../src/sim/index.js';
import { DelegatingLevel } from '../../src/adapters/delegating-level.js';
import { CommandError } from '../../src/core/errors.js';
import type { Flavour } from '../../src/core/flavour/index.js';
import { MARKER_PREFIX, NESTING_CONF } from '../../src/core/lxc/paths.js';
import type { ObservedLxc } from '../../src/core/observed.js';
import { decodePlan, encodePlan } from '../../src/core/plan/codec.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { type PipelineOptions, planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { hostWith, load, nestInside, ours } from './helpers/sim-worlds.js';

type Loaded = ReturnType<typeof load>;
async function planned(w: SimWorld | LxdLevel, m: Loaded, extra: Partial<PipelineOptions> = {}) {
  return planManifest(m.manifest, 'host' in w ? w.host() : w, {
    hostRestart: null,
    tool: 'test',
    manifestText: m.text,
    mode: 'destroy',
    ...extra,
  });
}
async function plan(w: SimWorld | LxdLevel, m: Loaded, extra: Partial<PipelineOptions> = {}): Promise<Plan> {
  const r = await planned(w, m, extra);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
const deletes = (p: Plan) => p.steps.filter((s) => s.kind === 'delete-instance' || s.kind === 'delete-lxc').map((s) => s.id);
const names = async (w: SimWorld, path = '') => (await w.level(path).probe()).instances.map((i) => i.name);

/** An LXC container nestctl made at `path` (its config's marker); `nesting`: it may hold LXC containers. */
const lxcOurs = (path: string, extra: Partial<LxcContainerDescription> & { nesting?: boolean } = {}): LxcContainerDescription => {
  const { nesting, ...rest } = extra;
  return {
    name: path.split('/').at(-1)!,
    config: `${MARKER_PREFIX}${path}\n${nesting ? `lxc.include = ${NESTING_CONF}\n` : ''}lxc.uts.name = x\n`,
    ...rest,
  };
};
/** A nest container nestctl made at c1 holding these LXC containers (of root, or of bob at /home/bob). */
const c1With = (containers: LxcContainerDescription[], extra: Partial<LevelDescription> = {}): InstanceDescription =>
  ours('c1', 'nest', { inside: { ...nestInside([]), lxc: { users: { bob: '/home/bob' }, containers }, ...extra } });

const LEAF = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: nest }\n');
const WITH_BOX = load(
  'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    containers:\n      - { name: box, runtime: lxc }\n',
);
const HOLDS = 'c1 is kept: it holds containers nestctl did not create or cannot prove empty';

describe('destroy: LXC containers inside an LXD container', () => {
  it('deletes a container holding the LXC container the manifest declares there: it goes with it, and the plan says so', async () => {
    const w = createSimWorld(hostWith([c1With([lxcOurs('c1/box')])]));
    const p = await plan(w, WITH_BOX);
    expect(deletes(p)).toEqual(['c1:delete-instance']);
    expect(p.steps[0]!.reason).toBe('c1 was created by nestctl and holds nothing else; its LXC container c1/box of root goes with it');
    expect(p.steps[0]).toMatchObject({ lxc: ['LXC container c1/box of root'] });
    expect(decodePlan(encodePlan(p), 'p.json', p.tool).ok).toBe(true);
    expect((await startApply(p, w.host()).finished).failed).toEqual([]);
    expect(await names(w)).toEqual([]);
  });

  it("keeps a container holding an LXC container nobody declared, root's or a user's, and names it", async () => {
    for (const [stranger, label] of [
      [{ name: 'foreign' }, 'LXC container c1/foreign of root'],
      [{ name: 'mine', owner: 'bob' }, 'LXC container c1/mine of bob'],
      [lxcOurs('elsewhere/box'), 'LXC container c1/box of root'],
    ] as Array<[LxcContainerDescription, string]>) {
      const w = createSimWorld(hostWith([c1With([stranger])]));
      const p = await plan(w, LEAF);
      expect(deletes(p)).toEqual([]);
      expect(p.warnings).toContain(`${HOLDS} (${label})`);
    }
  });

  it('keeps it for a stopped LXC container of its own that may hold LXC containers: what that holds cannot be seen', async () => {
    const w = createSimWorld(hostWith([c1With([lxcOurs('c1/box', { nesting: true, state: 'STOPPED' })])]));
    const p = await plan(w, LEAF);
    expect(deletes(p)).toEqual([]);
    expect(p.warnings).toContain(`${HOLDS} (LXC container c1/box of root)`);
  });

  it('looks inside its own running LXC container that holds LXC containers: deleted when that holds only its own, kept when it holds a stranger', async () => {
    const NESTED = load(
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    containers:\n      - name: box\n        runtime: lxc\n        template: local\n        template_args: [--fstree, /r.tar]\n        containers:\n          - { name: inner, runtime: lxc }\n',
    );
    const boxHolding = (inside: LxcContainerDescription) =>
      c1With([lxcOurs('c1/box', { nesting: true, inside: { lxc: { containers: [inside] } } })]);
    const ok = createSimWorld(hostWith([boxHolding(lxcOurs('c1/box/inner'))]));
    const p = await plan(ok, NESTED);
    expect(deletes(p)).toEqual(['c1:delete-instance']);
    expect(p.steps[0]).toMatchObject({ lxc: ['LXC container c1/box of root', 'LXC container c1/box/inner of root'] });
    expect((await startApply(p, ok.host()).finished).failed).toEqual([]);
    const held = await plan(createSimWorld(hostWith([boxHolding({ name: 'foreign' })])), NESTED);
    expect(deletes(held)).toEqual([]);
    expect(held.warnings).toContain(`${HOLDS} (LXC container c1/box/foreign of root)`);
    // Kept, c1 still lets its own go, but not c1/box, whose lxc-destroy would take the stranger along.
    expect(held.warnings).toContain(
      'keeping LXC container c1/box of root: it holds containers nestctl did not create or cannot prove empty (LXC container c1/box/foreign of root)',
    );
  });

  it('destroy keeps an LXC container of its own on the host that holds a stranger LXC container, or may hold some unseen', async () => {
    const OUTER = load(
      'apiVersion: nestctl/v1\ncontainers:\n  - name: outer\n    runtime: lxc\n    template: local\n    template_args: [--fstree, /r.tar]\n    containers:\n      - { name: inner, runtime: lxc }\n',
    );
    const host = (outer: LxcContainerDescription) => createSimWorld(hostWith([], { lxc: { containers: [outer] } }));
    const held = await plan(
      host(lxcOurs('outer', { nesting: true, inside: { lxc: { containers: [lxcOurs('outer/inner'), { name: 'foreign' }] } } })),
      OUTER,
    );
    expect(deletes(held)).toEqual([]);
    expect(held.warnings).toContain(
      'keeping LXC container outer of root: it holds containers nestctl did not create or cannot prove empty (LXC container outer/foreign of root)',
    );
    const stopped = await plan(host(lxcOurs('outer', { nesting: true, state: 'STOPPED' })), OUTER);
    expect(deletes(stopped)).toEqual([]);
    expect(stopped.warnings).toContain(
      `keeping LXC container outer of root: it may hold LXC containers (${NESTING_CONF}) and what it holds cannot be seen without starting it; start it and run nestctl again`,
    );
    const own = await plan(host(lxcOurs('outer', { nesting: true, inside: { lxc: { containers: [lxcOurs('outer/inner')] } } })), OUTER);
    expect(deletes(own)).toEqual(['outer:delete-lxc']);
  });

  it('keeps it, as unseen, when its LXC containers cannot be listed', async () => {
    const w = createSimWorld(hostWith([c1With([lxcOurs('c1/box')])]));
    const p = await plan(new FailingLxcProbe(w.host(), 'c1'), LEAF);
    expect(deletes(p)).toEqual([]);
    expect(p.warnings.join('\n')).toContain(
      'c1 is kept: what it holds cannot be looked at (its LXC containers cannot be listed: sh -c <lxc probe> failed in c1',
    );
  });

  it('apply refuses the delete when an LXC container appeared inside after the plan; nothing is deleted', async () => {
    const w = createSimWorld(hostWith([c1With([lxcOurs('c1/box')])]));
    const p = await plan(w, WITH_BOX);
    await w
      .level('c1')
      .lxcCreate({ name: 'foreign', owner: { user: null, home: null }, template: 'busybox', templateArgs: [], config: null });
    const failed = (await startApply(p, w.host()).finished).failed.map((f) => `${f.step.id}: ${f.error.message}`);
    expect(failed).toEqual([
      'c1:delete-instance: plan is stale: c1 now holds LXC container c1/foreign of root, which nestctl did not plan to delete; nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['c1']);
  });

  it("apply refuses it too when the LXC container that appeared is marked as nestctl's there: the plan did not list it", async () => {
    const w = createSimWorld(hostWith([c1With([lxcOurs('c1/box')])]));
    const p = await plan(w, WITH_BOX);
    await w.level('c1').lxcCreate({
      name: 'late',
      owner: { user: null, home: null },
      template: 'busybox',
      templateArgs: [],
      config: `${MARKER_PREFIX}c1/late\n`,
    });
    const failed = (await startApply(p, w.host()).finished).failed.map((f) => `${f.step.id}: ${f.error.message}`);
    expect(failed).toEqual([
      'c1:delete-instance: plan is stale: c1 now holds LXC container c1/late of root, which nestctl did not plan to delete; nothing was deleted',
    ]);
    expect(await names(w)).toEqual(['c1']);
  });
});

describe('--prune and --replace prove the same', () => {
  const ONLY_A = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: a, image: busybox }\n');

  it('--prune deletes a container with its own LXC container and keeps one holding a stranger', async () => {
    const w = createSimWorld(
      hostWith([
        ours('a', 'busybox'),
        c1With([{ name: 'foreign' }]),
        ours('c2', 'nest', { inside: { ...nestInside([]), lxc: { containers: [lxcOurs('c2/box')] } } }),
      ]),
    );
    const p = await plan(w, ONLY_A, { mode: 'apply', prune: true });
    expect(deletes(p)).toEqual(['c2:delete-instance']);
    expect(p.warnings).toContain(`--prune: ${HOLDS} (LXC container c1/foreign of root)`);
  });

  it('--replace refuses to replace a container holding an LXC container nobody declared, and replaces one holding its own', async () => {
    const refused = await planned(createSimWorld(hostWith([c1With([{ name: 'foreign' }])])), LEAF, { mode: 'apply', replace: ['c1'] });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.problems.map((x) => x.message)).toEqual([
      `c1 must be replaced (--replace), but it cannot be deleted: ${HOLDS} (LXC container c1/foreign of root)`,
    ]);
    const p = await plan(createSimWorld(hostWith([c1With([lxcOurs('c1/box')])])), WITH_BOX, { mode: 'apply', replace: ['c1'] });
    const del = p.steps.find((s) => s.kind === 'delete-instance')!;
    expect(del.reason).toContain('every container inside it (LXC container c1/box of root)');
  });
});

/** The simulated host, but the LXC probe fails inside `at` (as a broken sh or lxc-info there would). */
class FailingLxcProbe extends DelegatingLevel {
  constructor(
    inner: LxdLevel,
    private readonly at: string,
  ) {
    super(inner);
  }
  override child(name: string, flavour: Flavour | null): LxdLevel {
    return new FailingLxcProbe(this.inner.child(name, flavour), this.at);
  }
  override probeLxc(owners: readonly string[], options?: { everyOwner?: boolean }): Promise<ObservedLxc> {
    if (this.path === this.at) return Promise.reject(new CommandError(['sh', '-c', '<lxc probe>'], 1, 'lxc-info: boom\n', this.path));
    return this.inner.probeLxc(owners, options);
  }
}
