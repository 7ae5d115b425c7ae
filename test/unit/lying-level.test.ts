// A lying level cannot steer the host. The seed tree (c1 ⊃ c2 ⊃ c3) is applied in the simulator
// and observed converged; then one level (c1 or c1/c2) lies about itself in random ways:
// instances that pose as its siblings or its parent's children, markers that claim other paths,
// subid files and images of its choosing, a config changed by hand. Whatever it says, the plan may
// act only on the liar and what is inside it, and every subordinate id entry it writes is the one
// the manifest and the allocation decide. A level whose own uid map contradicts what its parent's
// daemon gave it is refused outright.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DelegatingLevel } from '../../src/adapters/delegating-level.js';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import type { Flavour } from '../../src/core/flavour/index.js';
import { UntrustedAnswerError } from '../../src/core/errors.js';
import { allocate, type Allocation } from '../../src/core/ids/allocate.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { ObservedInstance, ObservedLevel, ObservedTree } from '../../src/core/observed.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { type PlanOptions, planTree } from '../../src/core/plan/planner.js';
import { startApply } from '../../src/engine/apply.js';
import { observeTree } from '../../src/engine/observe.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { defaultWorld } from '../../src/sim/index.js';
import { ROOT } from './helpers/cli.js';

const SEED = `${ROOT}/examples/seed.yaml`;
const OPTS: PlanOptions = { hostRestart: null, tool: 'nestctl test', manifestSha256: 'x' };
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 150);

let manifest: Manifest;
let allocation: Allocation;
let world: SimWorld;
let converged: ObservedTree;

beforeAll(async () => {
  const text = readFileSync(SEED, 'utf8');
  const loaded = loadManifest(text, SEED);
  if (!loaded.ok) throw new Error('seed does not load');
  manifest = loaded.manifest;
  const a = allocate(manifest);
  if (!a.ok) throw new Error('seed does not allocate');
  allocation = a.allocation;
  world = createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );
  const first = await planManifest(manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: text });
  if (!first.ok) throw new Error('seed does not plan');
  const s = await startApply(first.plan, world.host()).finished;
  expect(s.failed).toEqual([]);
  const again = await planManifest(manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: text });
  if (!again.ok || !again.tree) throw new Error('seed does not plan again');
  expect(again.plan.steps).toEqual([]);
  converged = again.tree;
});

const PATHS = ['', 'c1', 'c1/c2', 'c1/c2/c3', 'c2', 'c3', 'x', 'c1/x', 'c1/c2/x', 'c1/c3'];
const name = fc.constantFrom('c1', 'c2', 'c3', 'x', 'web');
const lieInstance: fc.Arbitrary<ObservedInstance> = fc.record({
  name,
  project: fc.constantFrom('default', 'other'),
  status: fc.constantFrom('Running', 'Stopped', 'Frozen'),
  profiles: fc.constantFrom(['default'], [], ['default', 'ci']),
  config: fc.record(
    {
      'user.nestctl.managed': fc.constantFrom('true', 'false'),
      'user.nestctl.path': fc.constantFrom(...PATHS),
      'security.nesting': fc.constantFrom('true', 'false'),
      'volatile.base_image': fc.constantFrom('0'.repeat(64), 'f'.repeat(64)),
      'volatile.idmap.current': fc.constantFrom('[]', '[{"Isuid":true,"Isgid":false,"Hostid":0,"Nsid":0,"Maprange":65536}]'),
      __proto__: fc.constant('x'),
    },
    { requiredKeys: [] },
  ),
});
const subid = fc
  .array(
    fc.tuple(fc.constantFrom('root', 'lxd', 'dockremap', 'mallory'), fc.nat({ max: 4_000_000 }), fc.integer({ min: 1, max: 2_000_000 })),
    {
      maxLength: 3,
    },
  )
  .map((lines) => lines.map(([o, s, n]) => `${o}:${s}:${n}\n`).join(''));

interface Lie {
  at: 'c1' | 'c1/c2';
  instances: ObservedInstance[];
  dropOwn: boolean;
  subuid: string | null;
  subgid: string | null;
  images: 'kept' | 'none';
  daemonDown: boolean;
}
const lie: fc.Arbitrary<Lie> = fc.record({
  at: fc.constantFrom<'c1' | 'c1/c2'>('c1', 'c1/c2'),
  instances: fc.array(lieInstance, { maxLength: 3 }),
  dropOwn: fc.boolean(),
  subuid: fc.option(subid, { nil: null }),
  subgid: fc.option(subid, { nil: null }),
  images: fc.constantFrom<'kept' | 'none'>('kept', 'none'),
  daemonDown: fc.boolean(),
});

function told(l: Lie): ObservedTree {
  const tree = structuredClone(converged);
  const obs = tree.levels[l.at];
  if (obs?.kind !== 'observed') throw new Error(`${l.at} not observed`);
  const level: ObservedLevel = obs.level;
  const own = l.dropOwn ? [] : level.instances;
  const text = (t: string | null) => ({ text: t, sha256: t === null ? null : `lie-${t.length}`, mtime: 1 });
  obs.level = {
    ...level,
    instances: [...own, ...l.instances.filter((i) => !own.some((o) => o.name === i.name && o.project === i.project))],
    ...(l.subuid !== null ? { subuid: text(l.subuid) } : {}),
    ...(l.subgid !== null ? { subgid: text(l.subgid) } : {}),
    ...(l.images === 'none' ? { images: [] } : {}),
    ...(l.daemonDown ? { daemon: { kind: 'down', error: 'lie' } } : {}),
  };
  return tree;
}

/** The path a step acts on: the container it names, else the level it runs at. */
const subject = (s: Step): string => ('path' in s && typeof s.path === 'string' ? s.path : s.level);
const within = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

/** The entries each write-subid step sets, as the plan of an honest tree with that file emptied gives them. */
function honestEdits(at: string, file: 'subuid' | 'subgid'): string {
  const tree = structuredClone(converged);
  const obs = tree.levels[at];
  if (obs?.kind === 'observed') obs.level = { ...obs.level, [file]: { text: '', sha256: 'empty', mtime: 1 } };
  const r = planTree(manifest, allocation, tree, OPTS);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  const step = r.plan.steps.find((s) => s.kind === 'write-subid' && s.level === at && s.file === file);
  return step?.kind === 'write-subid' ? JSON.stringify(step.edit?.map((e) => [e.owner, e.entry])) : 'none';
}

describe('a lying level cannot steer the host', () => {
  it('plans nothing outside the liar, and no subid entry but the allocation’s', () => {
    const expected = new Map<string, string>();
    const edits = (at: string, file: 'subuid' | 'subgid'): string => {
      const k = `${at}:${file}`;
      if (!expected.has(k)) expected.set(k, honestEdits(at, file));
      return expected.get(k)!;
    };
    fc.assert(
      fc.property(lie, fc.boolean(), (l, prune) => {
        const r = planTree(manifest, allocation, told(l), { ...OPTS, prune });
        if (!r.ok) return; // a refusal acts on nothing
        const plan: Plan = r.plan;
        for (const s of plan.steps) {
          expect(within(subject(s), l.at), `${s.id} acts outside ${l.at}`).toBe(true);
          if (s.kind === 'write-subid' && s.edit)
            expect(JSON.stringify(s.edit.map((e) => [e.owner, e.entry]))).toBe(edits(s.level, s.file));
          if (s.kind === 'delete-instance') expect(within(s.path, l.at) && s.path !== l.at).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a level whose own uid map is not the one its parent gave it', async () => {
    // c1 reports a map of its choosing: twice the ids its parent's daemon gave it.
    class LyingC1 extends DelegatingLevel {
      override async probe(): Promise<ObservedLevel> {
        const seen = await this.inner.probe();
        return { ...seen, uidMap: seen.uidMap.map((e) => ({ ...e, maprange: e.maprange * 2 })) };
      }
    }
    class Host extends DelegatingLevel {
      override child(name: string, flavour: Flavour | null): LxdLevel {
        const child = this.inner.child(name, flavour);
        return name === 'c1' ? new LyingC1(child) : child;
      }
    }
    await expect(observeTree(world.host(), manifest)).resolves.toBeDefined();
    const observed = observeTree(new Host(world.host()), manifest);
    await expect(observed).rejects.toBeInstanceOf(UntrustedAnswerError);
    await expect(observed).rejects.toThrow(
      /the answer in c1 is refused: it reports the uid map \[0 \d+ \d+\], but its parent's daemon gave it/,
    );
  });
});
