// A fresh simulated host (--simulate) for a manifest with LXC containers inside an LXD container,
// as the lab's nest-tools image holds them: the image is assumed to carry LXC too, and says so; a
// described world whose image has no LXC is refused before a simulated apply fails half-way.

import { describe, expect, it } from 'vitest';
import { type Loaded, loadLines, planOn } from './helpers/engine.js';
import { assumedByDefault, defaultWorld, imageProblems, manifestImages, manifestLxcUsers } from '../../src/sim/index.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { startApply } from '../../src/engine/apply.js';

const M: Loaded = loadLines(
  'in-lxd.yaml',
  'apiVersion: nestctl/v1',
  'containers:',
  '  - name: web',
  '    image: nest-tools',
  '  - name: outer',
  '    image: nest-tools',
  '    containers:',
  '      - name: rbox',
  '        runtime: lxc',
  '  - name: plain',
  '    image: nest',
  '    containers:',
  '      - name: leaf',
  '        image: busybox',
);

const fresh = () => defaultWorld(manifestImages(M.manifest), M.manifest.host.flavour, manifestLxcUsers(M.manifest));

describe('--simulate: LXC inside an LXD container', () => {
  it('assumes the image whose containers hold LXC containers carries LXC, and applies and converges on it', async () => {
    expect(fresh().host.images!.map((i) => [i.alias, i.lxc ?? false])).toEqual([
      ['nest-tools', true],
      ['nest', false],
      ['busybox', false],
    ]);
    expect(assumedByDefault(M.manifest)).toContain('Assumed: nest-tools carries LXD and LXC (outer holds containers).');
    expect(assumedByDefault(M.manifest)).toContain('Assumed: nest carries LXD (plain holds containers).');
    const world = createSimWorld(fresh());
    const applied = await startApply(await planOn(world.host(), M), world.host()).finished;
    expect(applied.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(world.lxcUidMap('outer', 'root', 'rbox')).toMatch(/^0 \d+ 65536$/);
    expect((await planOn(world.host(), M)).steps).toEqual([]);
  });

  it('refuses a described world whose image has LXD but no LXC for a container holding LXC containers', () => {
    const desc = fresh();
    desc.host.images = desc.host.images!.map((i) => ({ ...i, lxc: false }));
    const problems = imageProblems(createSimWorld(desc).state(), M.manifest);
    expect(problems.map((p) => p.message)).toEqual([
      'image "nest-tools" (used by outer) has no LXC in the simulated world, but outer holds LXC containers',
    ]);
    expect(problems[0]!.hint).toContain('lxc: true');
  });
});
