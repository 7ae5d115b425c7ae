// Observation probes the levels the manifest puts below the host at once, not one after another,
// and the answers it keeps are those the walk would have got.

import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { ObservedTree } from '../../src/core/observed.js';
import { startApply } from '../../src/engine/apply.js';
import { observeTree } from '../../src/engine/observe.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { manifest, node } from './helpers/build.js';

const OPTIONS = { hostRestart: null, tool: 'nestctl test', manifestText: 'test' };

async function converged(m: Manifest): Promise<SimWorld> {
  const world = createSimWorld(defaultWorld(manifestImages(m)));
  const r = await planManifest(m, world.host(), OPTIONS);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  const summary = await startApply(r.plan, world.host()).finished;
  expect(summary.failed).toEqual([]);
  return world;
}

/** A level whose probes take `ms` and are logged as "start PATH" / "end PATH"; its children likewise. */
function slow(level: LxdLevel, events: string[], ms: number): LxdLevel {
  return new Proxy(level, {
    get(target, key, receiver) {
      if (key === 'probe') {
        return async () => {
          events.push(`start ${target.path}`);
          await new Promise((res) => setTimeout(res, ms));
          const seen = await target.probe();
          events.push(`end ${target.path}`);
          return seen;
        };
      }
      if (key === 'child')
        return (name: string, flavour: Parameters<LxdLevel['child']>[1]) => slow(target.child(name, flavour), events, ms);
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const flavours = (t: ObservedTree): Record<string, string | null> =>
  Object.fromEntries(Object.entries(t.levels).map(([p, l]) => [p, l.kind === 'observed' ? l.level.flavour : l.kind]));

describe('observation of a deep tree', () => {
  const seed = manifest([node('c1', [node('c2', [node('c3', [node('c4')])])])], { base: 500000 });

  it('probes every level below the host before the level above it has answered', async () => {
    const world = await converged(seed);
    const events: string[] = [];
    const tree = await observeTree(slow(world.host(), events, 40), seed);
    expect(Object.keys(tree.levels).sort()).toEqual(['', 'c1', 'c1/c2', 'c1/c2/c3']);
    const at = (e: string): number => events.indexOf(e);
    expect(at('start c1/c2')).toBeGreaterThan(-1);
    expect(at('start c1/c2'), events.join(', ')).toBeLessThan(at('end c1'));
    expect(at('start c1/c2/c3'), events.join(', ')).toBeLessThan(at('end c1/c2'));
  });

  it("with the host's flavour named, does not wait for the host's answer either", async () => {
    const named = manifest([node('c1', [node('c2', [node('c3', [node('c4')])])])], { base: 500000, flavour: 'debian' });
    const world = await converged(named);
    const events: string[] = [];
    await observeTree(slow(world.host('debian'), events, 40), named);
    expect(events.indexOf('start c1'), events.join(', ')).toBeLessThan(events.indexOf('end '));
    expect(events.indexOf('start c1/c2/c3'), events.join(', ')).toBeLessThan(events.indexOf('end '));
  });

  it('sees what probing one level after another sees', async () => {
    const world = await converged(seed);
    const ahead = await observeTree(world.host(), seed);
    // One level at a time: each observation of a subtree starts at its own top.
    const c1 = await world.host().child('c1', null).probe();
    const c2 = await world.host().child('c1', null).child('c2', null).probe();
    expect(ahead.levels['c1']).toEqual({ kind: 'observed', level: c1 });
    expect(ahead.levels['c1/c2']).toEqual({ kind: 'observed', level: c2 });
    expect(flavours(ahead)).toEqual({ '': 'debian', c1: 'debian', 'c1/c2': 'debian', 'c1/c2/c3': 'debian' });
  });

  it('walks as before when the tree is not there yet: the probes ahead find nothing and are not used', async () => {
    const world = createSimWorld(defaultWorld(manifestImages(seed)));
    const tree = await observeTree(world.host(), seed);
    expect(flavours(tree)).toEqual({ '': 'debian', c1: 'absent' });
  });
});
