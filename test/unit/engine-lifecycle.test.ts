// Saved-plan staleness, destroy, prune and --target through the whole engine on the simulated LXD.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planDifference } from '../../src/core/plan/compare.js';
import { type PipelineOptions, planManifest, savedPlanOptions } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';

function load(text: string) {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}
const SEED = load(readFileSync('examples/seed.yaml', 'utf8'));
const world = () =>
  createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );

async function plan(host: LxdLevel, m = SEED, extra: Partial<PipelineOptions> = {}): Promise<Plan> {
  const r = await planManifest(m.manifest, host, { hostRestart: null, tool: 'test', manifestText: m.text, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
/** What apply PLAN.json checks: planning the saved plan again finds a different world. */
async function isStale(p: Plan, host: LxdLevel): Promise<boolean> {
  return planDifference(p, await plan(host, SEED, savedPlanOptions(p, 'test')))?.stale ?? false;
}
async function apply(p: Plan, host: LxdLevel) {
  const s = await startApply(p, host).finished;
  expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
  return s;
}

describe('saved plans go stale when the world moves', () => {
  it('a changed subid file makes the plan stale, and the step itself refuses too', async () => {
    const w = world();
    const p = await plan(w.host());
    expect(await isStale(p, w.host())).toBe(false);
    const text = w.file('', '/etc/subuid')!;
    await w.host().writeSubid('subuid', `${text}alice:300000:65536\n`, (await w.host().probe()).subuid.sha256);
    expect(await isStale(p, w.host())).toBe(true);
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => f.error.message).join('\n')).toContain('plan is stale');
    expect(w.file('', '/etc/subuid')).toContain('alice:300000:65536');
  });

  it('a container that appeared after planning makes the plan stale, and create refuses', async () => {
    const w = world();
    const p = await plan(w.host());
    const fp = (await w.host().probe()).images.find((i) => i.aliases.includes('nest'))!.fingerprint;
    // Another nestctl run made it (a container nestctl did not make is refused outright).
    await w.host().createInstance({
      name: 'c1',
      fingerprint: fp,
      profiles: ['default'],
      config: { 'user.nestctl.managed': 'true', 'user.nestctl.path': 'c1' },
    });
    expect(await isStale(p, w.host())).toBe(true);
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => f.error.message).join('\n')).toContain('c1 appeared after the plan was made');
  });
});

describe('destroy', () => {
  it('deletes, the outermost first, only what nestctl created and restores the original subid files', async () => {
    const w = world();
    const before = { subuid: w.file('', '/etc/subuid'), subgid: w.file('', '/etc/subgid') };
    await apply(await plan(w.host()), w.host());
    const fp = (await w.host().probe()).images.find((i) => i.aliases.includes('busybox'))!.fingerprint;
    await w.host().createInstance({ name: 'bystander', fingerprint: fp, profiles: ['default'], config: {} });
    const d = await plan(w.host(), SEED, { mode: 'destroy', restoreIds: true });
    expect(d.steps.map((s) => s.id)).toEqual([
      'c1:delete-instance',
      'c1/c2:delete-instance',
      'c1/c2/c3:delete-instance',
      'host:write-subid:subuid',
      'host:write-subid:subgid',
      'host:restart-daemon',
    ]);
    await apply(d, w.host());
    const after = await w.host().probe();
    expect(after.instances.map((i) => i.name)).toEqual(['bystander']);
    expect(w.file('', '/etc/subuid')).toBe(before.subuid);
    expect(w.file('', '/etc/subgid')).toBe(before.subgid);
    expect(after.subidOriginal).toEqual({ subuid: null, subgid: null });
    expect((await plan(w.host(), SEED, { mode: 'destroy', restoreIds: true })).steps).toEqual([]);
  });

  it('--target deletes the target with what it holds, never the container it is in', async () => {
    const w = world();
    await apply(await plan(w.host()), w.host());
    const d = await plan(w.host(), SEED, { mode: 'destroy', target: 'c1/c2' });
    expect(d.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['c1/c2:delete-instance', []],
      ['c1/c2/c3:delete-instance', ['c1/c2:delete-instance']],
    ]);
    await apply(d, w.host());
    expect((await w.host().probe()).instances.map((i) => i.name)).toEqual(['c1']);
    expect((await w.level('c1').probe()).instances).toEqual([]);
  });

  it('keeps a container that holds something nestctl did not create', async () => {
    const w = world();
    await apply(await plan(w.host()), w.host());
    const c1 = w.host().child('c1', null);
    const fp = (await c1.probe()).images[0]!.fingerprint;
    await c1.createInstance({ name: 'stranger', fingerprint: fp, profiles: ['default'], config: {} });
    const d = await plan(w.host(), SEED, { mode: 'destroy' });
    expect(d.steps.map((s) => s.id)).toEqual(['c1/c2:delete-instance', 'c1/c2/c3:delete-instance']);
    expect(d.warnings).toContain('c1 is kept: it holds containers nestctl did not create or cannot prove empty (c1/stranger)');
  });

  it('leaves containers it did not create even when the manifest names them', async () => {
    const w = world();
    const fp = (await w.host().probe()).images.find((i) => i.aliases.includes('busybox'))!.fingerprint;
    await w.host().createInstance({ name: 'c1', fingerprint: fp, profiles: ['default'], config: {} });
    const leaf = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox }\n');
    const d = await plan(w.host(), leaf, { mode: 'destroy' });
    expect(d.steps).toEqual([]);
    expect(d.warnings).toContain('c1 is kept: it was not created by nestctl here (no user.nestctl.path=c1)');
  });
});

describe('id map changes of existing containers', () => {
  it('restarts a running container whose id map changed, and then converges', async () => {
    const w = world();
    const before = load('apiVersion: nestctl/v1\nhost: { base: 500000 }\ncontainers:\n  - { name: a, image: busybox }\n');
    await apply(await plan(w.host(), before), w.host());
    expect(w.uidMap('a')).toBe('0 500000 65536');
    const after = load(
      'apiVersion: nestctl/v1\nhost: { base: 500000 }\ncontainers:\n  - { name: a, image: busybox, idmap: { isolated: true } }\n',
    );
    const p = await plan(w.host(), after);
    const ids = p.steps.map((s) => s.id);
    expect(ids).toEqual([
      'host:write-subid:subuid',
      'host:write-subid:subgid',
      'host:restart-daemon',
      'a:update-config',
      'a:restart-instance',
    ]);
    await apply(p, w.host());
    expect(w.uidMap('a')).toBe('0 565536 65536');
    const again = await plan(w.host(), after);
    expect(again.steps.map((s) => `${s.id}: ${s.reason}`)).toEqual([]);
  });
});

describe('prune and target', () => {
  const TWO = load(
    'apiVersion: nestctl/v1\nhost: { base: 500000 }\ncontainers:\n  - { name: a, image: busybox }\n  - name: b\n    image: nest\n    containers:\n      - { name: b1, image: busybox }\n',
  );
  const ONE = load('apiVersion: nestctl/v1\nhost: { base: 500000 }\ncontainers:\n  - { name: a, image: busybox }\n');

  it('--prune lists owned containers no longer in the manifest as destroy steps', async () => {
    const w = world();
    await apply(await plan(w.host(), TWO), w.host());
    // Without --prune, b is left alone (the smaller tree only narrows the host entry, keeping b's range).
    const plain = await plan(w.host(), ONE);
    expect(plain.steps.filter((s) => s.kind === 'delete-instance')).toEqual([]);
    const pruned = await plan(w.host(), ONE, { prune: true });
    // b goes with b1, inside b and made by nestctl, in one delete --force; b1's step follows it.
    expect(pruned.steps.filter((s) => s.kind === 'delete-instance').map((s) => s.id)).toEqual([
      'b:delete-instance',
      'b/b1:delete-instance',
    ]);
    await apply(pruned, w.host());
    expect((await w.host().probe()).instances.map((i) => i.name)).toEqual(['a']);
  });

  it('--target keeps the subtree and what its ancestors must do for it, nothing of siblings', async () => {
    const w = world();
    const p = await plan(w.host(), TWO, { target: 'b/b1' });
    const ids = p.steps.map((s) => s.id);
    expect(ids).toContain('b/b1:create-instance');
    expect(ids).toContain('b:create-instance');
    expect(ids).toContain('host:write-subid:subuid');
    expect(ids.filter((i) => i.startsWith('a:'))).toEqual([]);
    expect(p.target).toBe('b/b1');
    expect(p.warnings.at(-1)).toContain('targeting b/b1');
    await apply(p, w.host());
    expect((await w.host().probe()).instances.map((i) => i.name)).toEqual(['b']);
  });
});
