// Property: on random simulated trees with strangers, misplaced nestctl containers, inner daemons
// that are down, stopped and shell-less containers inserted, destroy and --prune never delete a
// container that must be kept (a stranger, or anything whose inside cannot be proved empty of
// strangers), nor any container holding one.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import type { InstanceDescription } from '../../src/sim/index.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { hostWith, load, nestInside, ours, stranger } from './helpers/sim-worlds.js';

type Owner = 'ours' | 'stranger' | 'misplaced';
interface Shape {
  owner: Owner;
  image: 'nest' | 'busybox' | 'noshell';
  stopped: boolean;
  daemonDown: boolean;
  /** Listed in the manifest (when its parent is). */
  listed: boolean;
  children: Shape[];
}

const MAX_DEPTH = 3;
/** Ids each level's LXD hands out, by depth of the container holding it (fits its own map). */
const INNER_IDS = [500000, 200000, 100000];

function shapeAt(depth: number): fc.Arbitrary<Shape> {
  return fc
    .record({
      owner: fc.constantFrom<Owner>('ours', 'ours', 'ours', 'ours', 'stranger', 'misplaced'),
      image: fc.constantFrom<Shape['image']>('nest', 'nest', 'busybox', 'busybox', 'noshell'),
      stopped: fc.boolean(),
      daemonDown: fc.boolean(),
      listed: fc.boolean(),
      children:
        depth >= MAX_DEPTH
          ? fc.constant<Shape[]>([])
          : fc.array(fc.constant(null), { maxLength: 2 }).chain((a) => fc.tuple(...a.map(() => shapeAt(depth + 1)))),
    })
    .map((s) => ({
      ...s,
      // Rare events stay rare: most containers run, most inner daemons are up.
      stopped: s.stopped && s.daemonDown,
      // A description cannot put containers in a daemon that is down (nor does it need to).
      children: s.image === 'nest' && !s.daemonDown ? s.children : [],
    }));
}

const pathOf = (parent: string, i: number): string => (parent ? `${parent}/n${i}` : `n${i}`);

function describeNode(s: Shape, parent: string, i: number, depth: number): InstanceDescription {
  const path = pathOf(parent, i);
  const name = path.split('/').at(-1)!;
  const inside =
    s.image === 'nest'
      ? nestInside(
          s.children.map((c, j) => describeNode(c, path, j, depth + 1)),
          s.daemonDown ? 'down' : 'up',
          INNER_IDS[depth - 1],
        )
      : undefined;
  const extra = { ...(inside ? { inside } : {}), ...(s.stopped ? { status: 'Stopped' as const } : {}) };
  if (s.owner === 'stranger') return { ...stranger(name, s.image), ...extra };
  if (s.owner === 'misplaced') return { ...ours(`elsewhere/${name}`, s.image, extra), name };
  return ours(path, s.image, extra);
}

/** Independent statement of the rule: what must survive any destroy or prune. */
function mustKeep(s: Shape): boolean {
  return s.owner !== 'ours' || s.stopped || s.image === 'noshell' || (s.image === 'nest' && s.daemonDown) || s.children.some(mustKeep);
}

function manifestYaml(shapes: Shape[], indent = '  ', parent = ''): string {
  return shapes
    .map((s, i) => ({ s, path: pathOf(parent, i) }))
    .filter(({ s }) => s.listed)
    .map(({ s, path }) => {
      const name = path.split('/').at(-1)!;
      const kids = manifestYaml(s.children, `${indent}    `, path);
      return `${indent}- name: ${name}\n${indent}  image: ${s.image}\n${kids ? `${indent}  containers:\n${kids}` : ''}`;
    })
    .join('');
}

function exists(w: SimWorld, path: string): boolean {
  let level = w.state().host;
  for (const name of path.split('/')) {
    const inst = level.lxd?.instances.find((x) => x.name === name);
    if (!inst) return false;
    level = inst.inside;
  }
  return true;
}

function keptPaths(shapes: Shape[], parent = ''): string[] {
  return shapes.flatMap((s, i) => [...(mustKeep(s) ? [pathOf(parent, i)] : []), ...keptPaths(s.children, pathOf(parent, i))]);
}

const NUM_RUNS = Number(process.env.NESTCTL_PROPERTY_RUNS ?? 60);

describe('destroy and prune never delete what they cannot prove is theirs', () => {
  const forest = fc.array(shapeAt(1), { minLength: 1, maxLength: 3 });

  it('destroy', async () => {
    await fc.assert(
      fc.asyncProperty(forest, async (shapes) => {
        const w = createSimWorld(hostWith(shapes.map((s, i) => describeNode(s, '', i, 1))));
        const listed = manifestYaml(shapes);
        const m = load(`apiVersion: nestctl/v1\ncontainers:\n${listed || '  - { name: other, image: busybox }\n'}`);
        const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text, mode: 'destroy' });
        if (!r.ok) throw new Error(JSON.stringify(r.problems));
        await startApply(r.plan, w.host()).finished;
        for (const path of keptPaths(shapes)) expect(exists(w, path), `${path} must be kept\n${m.text}`).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('prune', async () => {
    await fc.assert(
      fc.asyncProperty(forest, async (shapes) => {
        const w = createSimWorld(hostWith(shapes.map((s, i) => describeNode(s, '', i, 1))));
        // Nothing of the world is listed: every owned container is a prune candidate.
        const m = load('apiVersion: nestctl/v1\ncontainers:\n  - { name: other, image: busybox }\n');
        const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text, prune: true });
        if (!r.ok) throw new Error(JSON.stringify(r.problems));
        await startApply(r.plan, w.host()).finished;
        for (const path of keptPaths(shapes)) expect(exists(w, path), `${path} must be kept`).toBe(true);
        // And what may go, went: the rule is not just "keep everything".
        shapes.forEach((s, i) => {
          if (!mustKeep(s)) expect(exists(w, pathOf('', i)), `n${i} should be pruned`).toBe(false);
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
