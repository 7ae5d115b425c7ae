// The whole engine (observe → allocate → plan → apply) against the simulated LXD: the example
// manifests converge, and the simulator agrees with what the planner predicted.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { createSimWorld, defaultWorld, manifestImages } from '../../src/adapters/sim/index.js';

function load(file: string, edit: (text: string) => string = (t) => t): { manifest: Manifest; text: string } {
  const text = edit(readFileSync(file, 'utf8'));
  const r = loadManifest(text, file);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}


async function plan(host: LxdLevel, m: { manifest: Manifest; text: string }) {
  const r = await planManifest(m.manifest, host, { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

describe('the engine on the simulated LXD', () => {
  it('applies examples/seed.yaml, giving the classic maps, and converges', async () => {
    const m = load('examples/seed.yaml');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest)));
    const summary = await startApply(await plan(world.host(), m), world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(world.uidMap('c1')).toBe('0 500000 196608');
    expect(world.uidMap('c1/c2')).toBe('0 65536 131072');
    expect(world.uidMap('c1/c2/c3')).toBe('0 65536 65536');
    expect(world.restarts('')).toBe(1);
    expect((await plan(world.host(), m)).steps).toEqual([]);
  });

  it('applies examples/isolated.yaml with the slices the planner predicted', async () => {
    const m = load('examples/isolated.yaml');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest)));
    const p = await plan(world.host(), m);
    const summary = await startApply(p, world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    const predicted = p.levels.find((l) => l.path === 'ci')!.children;
    for (const child of predicted) {
      expect(world.uidMap(child.path)).toBe(`0 ${child.map.start} ${child.map.size}`);
    }
    expect((await plan(world.host(), m)).steps).toEqual([]);
  });
});

describe('the engine on a simulated Incus host', () => {
  // nestctl sizes ranges for LXD's strict fit, which Incus's inclusive one also accepts: the
  // maps are the same on both flavours.
  const onIncus = (text: string) => text.replace(/^host:\n/m, 'host:\n  flavour: incus\n');

  it('applies examples/incus.yaml and converges', async () => {
    const m = load('examples/incus.yaml');
    expect(m.manifest.host.flavour).toBe('incus');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest), 'incus'));
    const summary = await startApply(await plan(world.host(), m), world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(world.uidMap('c1')).toBe('0 500000 131072');
    expect(world.uidMap('c1/c2')).toBe('0 65536 65536');
    expect((await plan(world.host(), m)).steps).toEqual([]);
  });

  it("applies the Incus e2e's seed tree with the maps that e2e expects", async () => {
    const m = load('test/e2e/manifests/incus-seed.yaml');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest), 'incus'));
    const summary = await startApply(await plan(world.host(), m), world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(['ic1', 'ic1/ic2', 'ic1/ic2/ic3'].map((p) => world.uidMap(p))).toEqual(['0 500000 196608', '0 65536 131072', '0 65536 65536']);
    expect((await plan(world.host(), m)).steps).toEqual([]);
  });

  it('applies examples/isolated.yaml with host.flavour: incus, with the same slices as on LXD', async () => {
    const maps = async (m: { manifest: Manifest; text: string }, world: ReturnType<typeof createSimWorld>) => {
      const summary = await startApply(await plan(world.host(), m), world.host()).finished;
      expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
      expect((await plan(world.host(), m)).steps).toEqual([]);
      return ['ci', 'ci/tenant-a', 'ci/tenant-b', 'ci/shared'].map((p) => world.uidMap(p));
    };
    const incus = load('examples/isolated.yaml', onIncus);
    expect(incus.manifest.host.flavour).toBe('incus');
    const lxd = load('examples/isolated.yaml');
    const onIncusMaps = await maps(incus, createSimWorld(defaultWorld(manifestImages(incus.manifest), 'incus')));
    expect(onIncusMaps).toEqual(['0 1000000 327680', '0 131072 65536', '0 196608 65536', '0 65536 262144']);
    expect(onIncusMaps).toEqual(await maps(lxd, createSimWorld(defaultWorld(manifestImages(lxd.manifest)))));
  });
});
