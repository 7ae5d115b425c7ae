// A create cut short (the daemon killed while it unpacks the image) leaves a stopped instance that
// never starts. nestctl marks a create in progress on the instance itself and plans such a
// leftover as delete + create; a finished create carries no such mark.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld, defaultWorld } from '../../src/adapters/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { MARKER_CREATING, MARKER_MANAGED, MARKER_PATH } from '../../src/core/plan/desired-config.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';

const text = readFileSync('examples/seed.yaml', 'utf8');
const loaded = loadManifest(text, 'examples/seed.yaml');
if (!loaded.ok) throw new Error('seed.yaml does not load');
const seed = loaded.manifest;
const world = () => createSimWorld(defaultWorld([{ alias: 'nest', hostsLxd: true }, { alias: 'busybox', hostsLxd: false }]));

async function plan(host: LxdLevel): Promise<Plan> {
  const r = await planManifest(seed, host, { hostRestart: null, tool: 'test', manifestText: text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

describe('an interrupted create', () => {
  it('leaves no create-in-progress mark on containers that were created in full', async () => {
    const w = world();
    const s = await startApply(await plan(w.host()), w.host()).finished;
    expect(s.failed).toEqual([]);
    const host = await w.host().probe();
    expect(host.instances.find((i) => i.name === 'c1')?.config).not.toHaveProperty(MARKER_CREATING);
    const c1 = await w.host().child('c1', null).probe();
    expect(c1.instances.find((i) => i.name === 'c2')?.config).not.toHaveProperty(MARKER_CREATING);
  });

  it('is planned as delete and create again, and converges', async () => {
    const w = world();
    // As on a real host: the host's range is in place when the daemon dies during c1's create.
    expect((await startApply(await plan(w.host()), w.host()).finished).failed).toEqual([]);
    await w.host().stopInstance('c1');
    await w.host().deleteInstance('c1');
    const fp = (await w.host().probe()).images.find((i) => i.aliases.includes('nest'))!.fingerprint;
    await w.host().createInstance({ name: 'c1', fingerprint: fp, profiles: ['default'], config: { 'security.nesting': 'true', [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1', [MARKER_CREATING]: 'true' } });
    const p = await plan(w.host());
    const ids = p.steps.map((s) => s.id);
    expect(ids.indexOf('c1:delete-instance')).toBeGreaterThanOrEqual(0);
    expect(p.steps.find((s) => s.id === 'c1:create-instance')?.dependsOn).toEqual(['c1:delete-instance']);
    expect(p.steps.find((s) => s.id === 'c1:delete-instance')?.reason).toContain('half-made');
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect((await plan(w.host())).steps.map((x) => x.id)).toEqual([]);
  });

  it("never takes another tool's container for a leftover of nestctl's", async () => {
    const w = world();
    const fp = (await w.host().probe()).images.find((i) => i.aliases.includes('nest'))!.fingerprint;
    await w.host().createInstance({ name: 'c1', fingerprint: fp, profiles: ['default'], config: { [MARKER_CREATING]: 'true' } });
    const r = await planManifest(seed, w.host(), { hostRestart: null, tool: 'test', manifestText: text });
    expect(r.ok ? r.plan.steps.map((x) => x.id) : r.problems.map((p) => p.message)).toEqual([expect.stringContaining('c1 exists and was not created by nestctl')]);
  });
});

describe('destroy of an interrupted create', () => {
  it('deletes the stopped leftover (nothing ever ran in it), where any other stopped container is kept', async () => {
    const w = world();
    const fp = (await w.host().probe()).images.find((i) => i.aliases.includes('nest'))!.fingerprint;
    await w.host().createInstance({ name: 'c1', fingerprint: fp, profiles: ['default'], config: { [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1', [MARKER_CREATING]: 'true' } });
    const r = await planManifest(seed, w.host(), { hostRestart: null, tool: 'test', manifestText: text, mode: 'destroy' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.map((s) => s.id)).toEqual(['c1:delete-instance']);
  });
});
