// Trees that change: config on a managed container is owned like a Terraform attribute. A key
// the manifest does not name is drift and is removed; LXD's own keys (volatile.*, image.*) and
// nestctl's markers never are; `ignore_changes` leaves named keys alone.

import { lineCol } from './helpers/placed.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';

const seedText = readFileSync('examples/seed.yaml', 'utf8');
const world = () =>
  createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );

function manifest(text: string): Manifest {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.manifest;
}

async function plan(host: LxdLevel, text = seedText, replace: string[] = []): Promise<Plan> {
  const r = await planManifest(manifest(text), host, { hostRestart: null, tool: 'test', manifestText: text, replace });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

async function problems(host: LxdLevel, text: string, replace: string[] = []): Promise<string[]> {
  const r = await planManifest(manifest(text), host, { hostRestart: null, tool: 'test', manifestText: text, replace });
  return r.ok ? [] : r.problems.map((p) => p.message);
}

async function applied(host: LxdLevel, text = seedText): Promise<void> {
  const s = await startApply(await plan(host, text), host).finished;
  expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}

const step = (p: Plan, id: string): Step | undefined => p.steps.find((s) => s.id === id);

describe('config drift on a managed container', () => {
  it('plans a hand-set key at level 2 as unset, removes it, and then plans nothing', async () => {
    const w = world();
    await applied(w.host());
    const c1 = w.host().child('c1', null);
    await c1.updateInstance('c2', { set: { 'limits.cpu': '1' } });
    const p = await plan(w.host());
    expect(p.steps.map((s) => s.id)).toEqual(['c1/c2:update-config']);
    const u = step(p, 'c1/c2:update-config');
    expect(u).toMatchObject({ kind: 'update-config', level: 'c1', unset: ['limits.cpu'], set: {}, before: { 'limits.cpu': '1' } });
    expect(renderPlanText(p, colours(false))).toContain('~ limits.cpu = "1" → (unset)');
    const s = await startApply(p, w.host()).finished;
    expect(s.failed).toEqual([]);
    const c2 = (await c1.probe()).instances.find((i) => i.name === 'c2')!;
    expect(c2.config).not.toHaveProperty('limits.cpu');
    expect((await plan(w.host())).steps).toEqual([]);
  });

  it("never counts LXD's own keys or nestctl's markers as drift", async () => {
    const w = world();
    await applied(w.host());
    await w.host().updateInstance('c1', { set: { 'volatile.extra': 'x', 'image.os': 'debian', 'user.nestctl.note': 'y' } });
    expect((await plan(w.host())).steps).toEqual([]);
  });

  it('keeps keys named in ignore_changes, exactly or by a prefix.*', async () => {
    const text = 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n    ignore_changes: [limits.cpu, "user.*"]\n';
    const w = world();
    await applied(w.host(), text);
    await w.host().updateInstance('c1', { set: { 'limits.cpu': '1', 'user.team': 'a', 'limits.memory': '1GiB' } });
    const p = await plan(w.host(), text);
    expect(step(p, 'c1:update-config')).toMatchObject({ unset: ['limits.memory'] });
  });

  it('a hand-set id map key is unset and the container restarted so the map follows', async () => {
    const text = 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n';
    const w = world();
    await applied(w.host(), text);
    await w.host().updateInstance('c1', { set: { 'security.idmap.isolated': 'true' } });
    const p = await plan(w.host(), text);
    expect(p.steps.map((s) => s.id)).toEqual(['c1:update-config', 'c1:restart-instance']);
    expect((await startApply(p, w.host()).finished).failed).toEqual([]);
    expect((await plan(w.host(), text)).steps).toEqual([]);
  });
});

describe('ignore_changes in the manifest', () => {
  const errors = (list: string) => {
    const r = loadManifest(
      `apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n    ignore_changes: ${list}\n`,
      'm.yaml',
    );
    return r.ok ? [] : r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${lineCol(d)} ${d.message}`);
  };

  it('takes config keys and prefix.* wildcards', () => {
    expect(errors('[limits.cpu, "user.*", environment.HOME, "limits.*"]')).toEqual([]);
  });

  it('refuses keys that are never drift, id map keys, unknown keys and other shapes, at the entry', () => {
    expect(errors('[volatile.eth0.hwaddr]')).toEqual([
      '5:22 ignore_changes of container c1 names "volatile.eth0.hwaddr", which is never drift',
    ]);
    expect(errors('[limits.cpu, "image.*"]')).toEqual([
      '5:34 ignore_changes of container c1 names "image.*", which covers keys LXD or nestctl own',
    ]);
    expect(errors('["user.nestctl.*"]')[0]).toContain('covers keys LXD or nestctl own');
    expect(errors('[security.idmap.size]')[0]).toContain('which nestctl derives from idmap:');
    expect(errors('[limits.cpus]')[0]).toContain('unknown config key "limits.cpus" in ignore_changes of container c1');
    expect(errors('["*"]')).toHaveLength(1);
    expect(errors('["Limits.CPU"]')).toHaveLength(1);
  });
});

const twoLevels = (leafImage: string) =>
  `apiVersion: nestctl/v1\nhost: { base: 500000 }\ncontainers:\n  - name: c1\n    image: nest\n    containers:\n      - name: c2\n        image: ${leafImage}\n`;
const imageOf = async (level: LxdLevel, name: string): Promise<string | undefined> =>
  (await level.probe()).instances.find((i) => i.name === name)?.config['volatile.base_image'];
const fingerprint = async (level: LxdLevel, alias: string): Promise<string> =>
  (await level.probe()).images.find((i) => i.aliases.includes(alias))!.fingerprint;

describe('replacement', () => {
  it('plans an image change as -/+ (delete, then create from the new image), carries it out, and converges', async () => {
    const w = world();
    await applied(w.host(), twoLevels('busybox'));
    const p = await plan(w.host(), twoLevels('nest'));
    const ids = p.steps.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['c1/c2:delete-instance', 'c1/c2:create-instance', 'c1/c2:start-instance']));
    expect(step(p, 'c1/c2:create-instance')).toMatchObject({ replace: 'image busybox → nest', dependsOn: ['c1/c2:delete-instance'] });
    expect(step(p, 'c1/c2:delete-instance')?.reason).toContain('lost: the filesystem of c1/c2');
    const text = renderPlanText(p, colours(false));
    expect(text).toContain('-/+ c1/c2 (replace: image busybox → nest)');
    expect((await startApply(p, w.host()).finished).failed).toEqual([]);
    expect(await imageOf(w.host().child('c1', null), 'c2')).toBe(await fingerprint(w.host(), 'nest'));
    expect((await plan(w.host(), twoLevels('nest'))).steps).toEqual([]);
  });

  it('--replace deletes a hosting container with what it holds, names what is lost, and rebuilds the subtree', async () => {
    const w = world();
    await applied(w.host(), twoLevels('busybox'));
    const uuid = async () => (await w.host().probe()).instances.find((i) => i.name === 'c1')?.config['volatile.uuid'];
    const before = await uuid();
    const p = await plan(w.host(), twoLevels('busybox'), ['c1']);
    expect(p.options.replace).toEqual(['c1']);
    expect(step(p, 'c1/c2:delete-instance')?.dependsOn).toEqual(['c1:delete-instance']);
    expect(step(p, 'c1:create-instance')?.dependsOn).toEqual(expect.arrayContaining(['c1:delete-instance', 'c1/c2:delete-instance']));
    expect(step(p, 'c1:delete-instance')?.reason).toContain('every container inside it (c1/c2)');
    expect(step(p, 'c1:create-instance')).toMatchObject({ replace: '--replace' });
    expect(step(p, 'c1/c2:create-instance')).toBeDefined();
    expect((await startApply(p, w.host()).finished).failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(await uuid()).not.toBe(before);
    expect((await plan(w.host(), twoLevels('busybox'))).steps).toEqual([]);
  });

  it('refuses a replacement the deletion rule forbids, naming why', async () => {
    const w = world();
    await applied(w.host(), twoLevels('busybox'));
    const c1 = w.host().child('c1', null);
    await c1.createInstance({ name: 'mine', fingerprint: await fingerprint(c1, 'busybox'), profiles: ['default'], config: {} });
    expect(await problems(w.host(), twoLevels('busybox'), ['c1'])).toEqual([
      expect.stringMatching(
        /^c1 must be replaced \(--replace\), but it cannot be deleted: .*holds containers nestctl did not create .*c1\/mine/,
      ),
    ]);
    await w.host().stopInstance('c1');
    expect((await problems(w.host(), twoLevels('busybox').replace('image: nest', 'image: busybox'))).join()).toContain(
      'c1 must be replaced (image nest → busybox',
    );
  });

  it('refuses --replace of a path the manifest does not have', async () => {
    const w = world();
    expect(await problems(w.host(), twoLevels('busybox'), ['c9'])).toEqual(['--replace c9: no such container in the manifest']);
  });
});

describe('orphans', () => {
  const oneLevel =
    'apiVersion: nestctl/v1\nhost: { base: 500000 }\ncontainers:\n  - name: c1\n    image: nest\n    containers:\n      - name: c2\n        image: busybox\n      - name: old\n        image: busybox\n';
  it('a container nestctl made that the manifest no longer names is shown in every plan, and deleted only with --prune', async () => {
    const w = world();
    await applied(w.host(), oneLevel);
    const p = await plan(w.host(), twoLevels('busybox'));
    expect(p.steps).toEqual([]);
    expect(p.warnings).toContain('c1/old: in no manifest any more; --prune to delete');
    expect(renderPlanText(p, colours(false))).toContain('c1/old: in no manifest any more; --prune to delete');
    const r = await planManifest(manifest(twoLevels('busybox')), w.host(), {
      hostRestart: null,
      tool: 'test',
      manifestText: twoLevels('busybox'),
      prune: true,
    });
    expect(r.ok && r.plan.steps.map((s) => s.id)).toEqual(['c1/old:delete-instance']);
  });
});

describe('adoption', () => {
  const leaf = (extra = '') => `apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n${extra}`;
  const byHand = async (w: ReturnType<typeof world>, image = 'busybox') => {
    await w.host().createInstance({
      name: 'c1',
      fingerprint: await fingerprint(w.host(), image),
      profiles: ['default'],
      config: { 'limits.cpu': '1' },
    });
    await w.host().startInstance('c1', false);
  };

  it('refuses a container nestctl did not create, saying what differs', async () => {
    const w = world();
    await byHand(w);
    expect(await problems(w.host(), leaf())).toEqual([
      'c1 exists and was not created by nestctl; it differs from the manifest: limits.cpu is set ("1"), the manifest does not name it',
    ]);
  });

  it('adopts it with adopt: true: markers set, config owned, then nothing to do', async () => {
    const w = world();
    await byHand(w);
    const p = await plan(w.host(), leaf('    adopt: true\n'));
    expect(step(p, 'c1:update-config')).toMatchObject({
      set: { 'user.nestctl.managed': 'true', 'user.nestctl.path': 'c1' },
      unset: ['limits.cpu'],
    });
    expect((await startApply(p, w.host()).finished).failed).toEqual([]);
    expect((await plan(w.host(), leaf('    adopt: true\n'))).steps).toEqual([]);
  });

  it('refuses to adopt a container made from another image', async () => {
    const w = world();
    await byHand(w, 'nest');
    expect((await problems(w.host(), leaf('    adopt: true\n'))).join()).toContain(
      'cannot be adopted: it was made from image nest, not busybox',
    );
  });

  it('refuses, before any step, an adopted container that has no LXD to hold its children', async () => {
    const w = world();
    await byHand(w);
    const text = leaf('    adopt: true\n    config: { limits.cpu: "1" }\n    containers:\n      - name: c2\n        image: busybox\n');
    expect((await problems(w.host(), text)).join()).toMatch(/c1.*(LXD|lxd)/);
  });
});
