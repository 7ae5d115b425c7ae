// A create cut short (the daemon killed while it unpacks the image) leaves a stopped instance that
// never finished: LXD's volatile.apply_template (set once the root volume is complete) and
// volatile.last_state.power (set by the first start) are both missing (core/plan/half-made.ts).
// nestctl plans such a leftover of its own as delete + create, and sets no mark of its own for it.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, describeWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { MARKER_MANAGED, MARKER_PATH } from '../../src/core/plan/desired-config.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';

const text = readFileSync('examples/seed.yaml', 'utf8');
const loaded = loadManifest(text, 'examples/seed.yaml');
if (!loaded.ok) throw new Error('seed.yaml does not load');
const seed = loaded.manifest;
const OLD_MARK = 'user.nestctl.creating';
const world = () =>
  createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );
const nestFingerprint = async (w: SimWorld): Promise<string> =>
  (await w.host().probe()).images.find((i) => i.aliases.includes('nest'))!.fingerprint;

async function plan(host: LxdLevel): Promise<Plan> {
  const r = await planManifest(seed, host, { hostRestart: null, tool: 'test', manifestText: text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

describe('an interrupted create', () => {
  it('is one client call: no create-in-progress mark is set, and none removed after', async () => {
    const w = world();
    const ran: string[] = [];
    const s = await startApply(
      await plan(w.host()),
      w.host(null, (_p, argv) => ran.push(argv.join(' '))),
    ).finished;
    expect(s.failed).toEqual([]);
    expect(ran.filter((a) => a.includes(OLD_MARK))).toEqual([]);
    expect(ran.filter((a) => / config set /.test(a))).toEqual([]);
  });

  it('is planned as delete and create again, and converges', async () => {
    const w = world();
    w.interruptCreate('');
    const first = await startApply(await plan(w.host()), w.host()).finished;
    expect(first.failed.map((f) => f.step.id)).toEqual(['c1:create-instance']);
    const c1 = (await w.host().probe()).instances.find((i) => i.name === 'c1')!;
    expect(c1.status).toBe('Stopped');
    const p = await plan(w.host());
    expect(p.steps.find((s) => s.id === 'c1:create-instance')?.dependsOn).toEqual(['c1:delete-instance']);
    expect(p.steps.find((s) => s.id === 'c1:delete-instance')?.reason).toContain('half-made');
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect((await plan(w.host())).steps.map((x) => x.id)).toEqual([]);
  });

  it("is told by LXD's keys, not by the mark an older nestctl set: a finished create that kept the mark is started, not deleted", async () => {
    const w = world();
    expect((await startApply(await plan(w.host()), w.host()).finished).failed).toEqual([]);
    await w.host().stopInstance('c1');
    await w.host().deleteInstance('c1');
    // Created in full (volatile.apply_template set), but the mark was never removed: the daemon died between the two calls.
    await w.host().createInstance({
      name: 'c1',
      fingerprint: await nestFingerprint(w),
      profiles: ['default'],
      config: { 'security.nesting': 'true', [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1', [OLD_MARK]: 'true' },
    });
    const p = await plan(w.host());
    expect(p.steps.filter((s) => s.level === '').map((s) => s.id)).toEqual(['c1:start-instance']);
  });

  it("never takes another tool's container for a leftover of nestctl's", async () => {
    const w = world();
    w.interruptCreate('');
    await expect(
      w.host().createInstance({ name: 'c1', fingerprint: await nestFingerprint(w), profiles: ['default'], config: {} }),
    ).rejects.toThrow(/connection to the daemon lost/);
    const r = await planManifest(seed, w.host(), { hostRestart: null, tool: 'test', manifestText: text });
    expect(r.ok ? r.plan.steps.map((x) => x.id) : r.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('c1 exists and was not created by nestctl'),
    ]);
  });

  it('is kept in a world description (createInterrupted), and read back as one', async () => {
    const w = world();
    w.interruptCreate('');
    await w
      .host()
      .createInstance({
        name: 'c1',
        fingerprint: await nestFingerprint(w),
        profiles: ['default'],
        config: { [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1' },
      })
      .catch(() => undefined);
    const desc = describeWorld(w.state());
    expect(desc.host.instances?.find((i) => i.name === 'c1')?.createInterrupted).toBe(true);
    const again = createSimWorld(desc);
    const p = await plan(again.host());
    expect(p.steps.find((s) => s.id === 'c1:delete-instance')?.reason).toContain('half-made');
  });
});

describe('destroy of an interrupted create', () => {
  it('deletes the stopped leftover (nothing ever ran in it), where any other stopped container is kept', async () => {
    const w = world();
    w.interruptCreate('');
    await w
      .host()
      .createInstance({
        name: 'c1',
        fingerprint: await nestFingerprint(w),
        profiles: ['default'],
        config: { [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1' },
      })
      .catch(() => undefined);
    const r = await planManifest(seed, w.host(), { hostRestart: null, tool: 'test', manifestText: text, mode: 'destroy' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.map((s) => s.id)).toEqual(['c1:delete-instance']);
  });

  it('keeps a stopped container of its own that an older nestctl marked, once LXD finished creating it', async () => {
    const w = world();
    await w.host().createInstance({
      name: 'c1',
      fingerprint: await nestFingerprint(w),
      profiles: ['default'],
      config: { [MARKER_MANAGED]: 'true', [MARKER_PATH]: 'c1', [OLD_MARK]: 'true' },
    });
    const r = await planManifest(seed, w.host(), { hostRestart: null, tool: 'test', manifestText: text, mode: 'destroy' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.steps.map((s) => s.id)).toEqual([]);
    expect(r.plan.warnings.join('\n')).toContain('c1 is kept');
  });
});
