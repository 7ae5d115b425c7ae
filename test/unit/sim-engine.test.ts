// The whole engine (observe → allocate → plan → apply) against the simulated LXD: the example
// manifests converge, and the simulator agrees with what the planner predicted.

import { describe, expect, it } from 'vitest';
import { startApply } from '../../src/engine/apply.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import { type Loaded, loadFile, planOn } from './helpers/engine.js';

describe('the engine on the simulated LXD', () => {
  it('applies examples/seed.yaml, giving the classic maps, and converges', async () => {
    const m = loadFile('examples/seed.yaml');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest)));
    const summary = await startApply(await planOn(world.host(), m), world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(world.uidMap('c1')).toBe('0 500000 196608');
    expect(world.uidMap('c1/c2')).toBe('0 65536 131072');
    expect(world.uidMap('c1/c2/c3')).toBe('0 65536 65536');
    expect(world.restarts('')).toBe(1);
    expect((await planOn(world.host(), m)).steps).toEqual([]);
  });

  it('applies examples/isolated.yaml with the slices the planner predicted', async () => {
    const m = loadFile('examples/isolated.yaml');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest)));
    const p = await planOn(world.host(), m);
    const summary = await startApply(p, world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    const predicted = p.levels.find((l) => l.path === 'ci')!.children;
    for (const child of predicted) {
      expect(world.uidMap(child.path)).toBe(`0 ${child.map.start} ${child.map.size}`);
    }
    expect((await planOn(world.host(), m)).steps).toEqual([]);
  });
});

describe('the engine on a simulated Incus host', () => {
  // nestctl sizes ranges for LXD's strict fit, which Incus's inclusive one also accepts: the
  // maps are the same on both flavours.
  const onIncus = (text: string) => text.replace(/^host:\n/m, 'host:\n  flavour: incus\n');

  it('applies examples/incus.yaml and converges', async () => {
    const m = loadFile('examples/incus.yaml');
    expect(m.manifest.host.flavour).toBe('incus');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest), 'incus'));
    const summary = await startApply(await planOn(world.host(), m), world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(world.uidMap('c1')).toBe('0 500000 131072');
    expect(world.uidMap('c1/c2')).toBe('0 65536 65536');
    expect((await planOn(world.host(), m)).steps).toEqual([]);
  });

  it("applies the Incus e2e's seed tree with the maps that e2e expects", async () => {
    const m = loadFile('test/e2e/manifests/incus-seed.yaml');
    const world = createSimWorld(defaultWorld(manifestImages(m.manifest), 'incus'));
    const summary = await startApply(await planOn(world.host(), m), world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(['ic1', 'ic1/ic2', 'ic1/ic2/ic3'].map((p) => world.uidMap(p))).toEqual(['0 500000 196608', '0 65536 131072', '0 65536 65536']);
    expect((await planOn(world.host(), m)).steps).toEqual([]);
  });

  it('applies examples/isolated.yaml with host.flavour: incus, with the same slices as on LXD', async () => {
    const maps = async (m: Loaded, world: ReturnType<typeof createSimWorld>) => {
      const summary = await startApply(await planOn(world.host(), m), world.host()).finished;
      expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
      expect((await planOn(world.host(), m)).steps).toEqual([]);
      return ['ci', 'ci/tenant-a', 'ci/tenant-b', 'ci/shared'].map((p) => world.uidMap(p));
    };
    const incus = loadFile('examples/isolated.yaml', onIncus);
    expect(incus.manifest.host.flavour).toBe('incus');
    const lxd = loadFile('examples/isolated.yaml');
    const onIncusMaps = await maps(incus, createSimWorld(defaultWorld(manifestImages(incus.manifest), 'incus')));
    expect(onIncusMaps).toEqual(['0 1000000 327680', '0 131072 65536', '0 196608 65536', '0 65536 262144']);
    expect(onIncusMaps).toEqual(await maps(lxd, createSimWorld(defaultWorld(manifestImages(lxd.manifest)))));
  });
});
