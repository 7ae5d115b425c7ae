// Growing a running tree (a deeper branch under c1/c2): every ancestor's range grows and each
// existing non-isolated container takes the larger map in place, kept and running, as a fresh
// build of the grown tree would give it.

import { describe, expect, it } from 'vitest';
import { type Loaded, loadFile, planOn } from './helpers/engine.js';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { startApply } from '../../src/engine/apply.js';
import type { LxdLevel } from '../../src/ports/lxd.js';

async function apply(host: LxdLevel, m: Loaded) {
  const summary = await startApply(await planOn(host, m), host).finished;
  expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}

const IMAGES = [
  { alias: 'nest', hostsLxd: true },
  { alias: 'busybox', hostsLxd: false },
];
const PATHS = ['c1', 'c1/c2', 'c1/c2/c3', 'c1/c2/c3b', 'c1/c2/c3b/c4'];

/** A container as its level's daemon lists it. */
async function instanceAt(world: SimWorld, path: string) {
  const cut = path.lastIndexOf('/');
  const level = await world.level(cut < 0 ? '' : path.slice(0, cut)).probe();
  return level.instances.find((i) => i.name === path.slice(cut + 1)) ?? null;
}

describe('growing a running tree', () => {
  const seed = loadFile('examples/seed.yaml');
  const grown = loadFile('test/unit/fixtures/seed-grown.yaml');

  it('plans a remap of each existing container whose range grows, after its level restarts', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    await apply(world.host(), seed);
    const p = await planOn(world.host(), grown);
    const remaps = p.steps.filter((s) => s.kind === 'restart-instance');
    expect(remaps.map((s) => [s.id, s.kind === 'restart-instance' ? s.grow : null])).toEqual([
      ['c1:restart-instance', { from: { start: 500000, size: 196608 }, to: { start: 500000, size: 262144 } }],
      ['c1/c2:restart-instance', { from: { start: 65536, size: 131072 }, to: { start: 65536, size: 196608 } }],
      ['c1/c2/c3:restart-instance', { from: { start: 65536, size: 65536 }, to: { start: 65536, size: 131072 } }],
    ]);
    // Each remap waits for its level's daemon restart; the level inside waits for the remap.
    expect(p.steps.find((s) => s.id === 'c1:restart-instance')!.dependsOn).toContain('host:restart-daemon');
    expect(p.steps.find((s) => s.id === 'c1:write-subid:subuid')!.dependsOn).toContain('c1:restart-instance');
  });

  it('applies the grown tree with every container kept, giving the maps of a fresh build', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    await apply(world.host(), seed);
    const kept = ['c1', 'c1/c2', 'c1/c2/c3'];
    const uuids = await Promise.all(kept.map(async (path) => (await instanceAt(world, path))?.config['volatile.uuid']));
    expect(uuids.every((u) => typeof u === 'string')).toBe(true);
    await apply(world.host(), grown);
    expect((await planOn(world.host(), grown)).steps).toEqual([]);

    const fresh = createSimWorld(defaultWorld(IMAGES));
    await apply(fresh.host(), grown);
    for (const path of PATHS) expect([path, world.uidMap(path)]).toEqual([path, fresh.uidMap(path)]);
    for (const path of PATHS) expect([path, (await instanceAt(world, path))?.status]).toEqual([path, 'Running']);
    expect(await Promise.all(kept.map(async (path) => (await instanceAt(world, path))?.config['volatile.uuid']))).toEqual(uuids);
  });
});
