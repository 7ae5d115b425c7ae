// Property tests: random container trees planned and applied in the simulated LXD, and random
// /etc/subuid files edited. The simulator computes maps with LXD's own rules (find-idmap.ts,
// idmap.ts), independently of the allocator, so agreement between the two is meaningful.
//
// Trees are small on average (about nine containers, half of them five or fewer) but reach
// depth 5 and width 6 (each in about a fifth of the cases); the explicit examples below make
// sure the extremes run on every `npm test`. The bugs they found (isolated creation order,
// isolated containers the manifest does not name, LXD's reading of subid lines) have tests of
// their own below.

import { pathOfProblem } from './helpers/placed.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { DEBIAN_SUBID, defaultWorld, type WorldDescription } from '../../src/sim/index.js';
import { getFromShadow } from '../../src/sim/idmap.js';
import { allocate, type Allocation, type NodeAllocation } from '../../src/core/ids/allocate.js';
import { parseLxdIdmap, parseProcIdMap } from '../../src/core/ids/idmap.js';
import { BLOCK, contains, formatRange, type IdRange, overlaps, rangeEnd } from '../../src/core/ids/range.js';
import type { ContainerSpec, Manifest } from '../../src/core/manifest/model.js';
import type { IdMapEntry, ObservedLevel, ObservedTree } from '../../src/core/observed.js';
import type { Plan } from '../../src/core/plan/model.js';
import { applySubidEdit, firstUsable, parseSubid, type OwnerEdit, usableEntries } from '../../src/core/subid/file.js';
import { type ApplySummary, startApply } from '../../src/engine/apply.js';
import { observeTree } from '../../src/engine/observe.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { manifest as buildManifest, node } from './helpers/build.js';

// PROPERTY_RUNS=2000 npx vitest run test/unit/property.test.ts for a longer search.
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
const MAX_DEPTH = 5;
const MAX_WIDTH = 6;

// ---------------------------------------------------------------------------------------------
// Trees.

/** How an isolated container's idmap.size is chosen (non-isolated: a size that has no effect). */
type SizeHint =
  | { kind: 'auto' } // left out: the allocator sizes the slice
  | { kind: 'tight' } // exactly what the subtree needs: LXD's strict fit test must still pass
  | { kind: 'extra'; ids: number }; // need + extra ids, not always whole blocks

interface Shape {
  isolated: boolean;
  size: SizeHint;
  /** Image of a leaf (hosting containers always use `nest`). */
  leafImage: 'busybox' | 'nest';
  children: Shape[];
}

const sizeHint: fc.Arbitrary<SizeHint> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<SizeHint>({ kind: 'auto' }) },
  { weight: 2, arbitrary: fc.constant<SizeHint>({ kind: 'tight' }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 4096, 65536, 100000, 3 * 65536).map<SizeHint>((ids) => ({ kind: 'extra', ids })) },
);

/** A container at `depth` (1 = on the host). Deeper nodes are more often leaves, so trees stay small. */
function shapeAt(depth: number): fc.Arbitrary<Shape> {
  const children: fc.Arbitrary<Shape[]> =
    depth >= MAX_DEPTH
      ? fc.constant<Shape[]>([])
      : fc.oneof(
          { weight: 2 + 2 * depth, arbitrary: fc.constant<Shape[]>([]) },
          { weight: 3, arbitrary: fc.array(shapeAt(depth + 1), { minLength: 1, maxLength: 2 }) },
          { weight: 1, arbitrary: fc.array(shapeAt(depth + 1), { minLength: 3, maxLength: MAX_WIDTH }) },
        );
  return fc.record({
    isolated: fc.boolean(),
    size: sizeHint,
    leafImage: fc.constantFrom<'busybox' | 'nest'>('busybox', 'busybox', 'busybox', 'nest'),
    children,
  });
}

/** The host's starting point: its root lines, and whether the manifest names host.base. */
interface HostStart {
  subid: string;
  base: number | null;
}

const HOST_FILES = [
  DEBIAN_SUBID, // root:100000:10000001, what Debian's package writes
  '_lxd:100000:10000001\nroot:100000:10000001\n', // the lab machines
  '# hand-made\nalice:100000:65536\nroot:1000000:1000000000\n', // a big range, kept as is
  'root:100000:65535\nbob:300000:65536\n', // nothing usable for root
  '', // no lines at all
];

const hostStart: fc.Arbitrary<HostStart> = fc.record({
  subid: fc.constantFrom(...HOST_FILES),
  base: fc.constantFrom<number | null>(null, null, 500000, 1_000_000, 2 ** 31),
});

interface Case {
  host: HostStart;
  tree: Shape[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  host: hostStart,
  tree: fc.oneof(
    { weight: 3, arbitrary: fc.array(shapeAt(1), { minLength: 1, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.array(shapeAt(1), { minLength: 3, maxLength: MAX_WIDTH }) },
  ),
});

// The extremes, run on every `npm test` whatever the random seed.
const leaf = (isolated: boolean, size: SizeHint = { kind: 'auto' }): Shape => ({ isolated, size, leafImage: 'busybox', children: [] });
const hosting = (isolated: boolean, children: Shape[], size: SizeHint = { kind: 'auto' }): Shape => ({
  isolated,
  size,
  leafImage: 'nest',
  children,
});
const chain = (depth: number, isolated: (d: number) => boolean): Shape =>
  depth === 1
    ? leaf(isolated(1), { kind: 'tight' })
    : hosting(isolated(depth), [chain(depth - 1, isolated), leaf(!isolated(depth))], { kind: 'tight' });
const sixIsolated = (): Shape[] =>
  Array.from({ length: MAX_WIDTH }, (_, i) => leaf(true, i % 2 === 0 ? { kind: 'tight' } : { kind: 'extra', ids: 1 }));
const EXAMPLES: Array<[Case]> = [
  // depth 5, isolated and shared alternating, tight sizes everywhere
  [{ host: { subid: DEBIAN_SUBID, base: null }, tree: [chain(5, (d) => d % 2 === 0)] }],
  // depth 5, every hosting level isolated
  [{ host: { subid: HOST_FILES[1]!, base: 500000 }, tree: [chain(5, () => true)] }],
  // width 6 of isolated leaves at the host and inside a nested, isolated level
  [{ host: { subid: DEBIAN_SUBID, base: 2 ** 31 }, tree: [...sixIsolated().slice(0, 5), hosting(true, sixIsolated(), { kind: 'tight' })] }],
  // width 6 at depth 4, under shared and isolated levels, with a host range that must move
  [{ host: { subid: 'root:100000:65535\n', base: null }, tree: [hosting(false, [hosting(true, [hosting(false, sixIsolated())])])] }],
];

/** Names by position: a0, a1 on the host, b0.. inside them, and so on (unique among siblings). */
function toManifest(c: Case): Manifest {
  // Bottom-up, so a tight size can use the final sizes of the children.
  const build = (s: Shape, depth: number, i: number): ReturnType<typeof node> => {
    const name = `${String.fromCharCode(96 + depth)}${i}`;
    const children = s.children.map((ch, j) => build(ch, depth + 1, j));
    const image = children.length > 0 ? 'nest' : s.leafImage;
    const need = needOf(node(name, children, { image }));
    const size = s.size.kind === 'auto' ? undefined : s.size.kind === 'tight' ? need : need + s.size.ids;
    return node(name, children, { image, isolated: s.isolated, ...(size !== undefined ? { size } : {}) });
  };
  return buildManifest(
    c.tree.map((s, i) => build(s, 1, i)),
    { base: c.host.base },
  );
}

/** What the allocator says a container and its subtree need (its own 65536 + its LXD's range). */
function needOf(n: ReturnType<typeof node>): number {
  const r = allocate(buildManifest([n]));
  if (!r.ok) throw new Error(`generator: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.allocation.nodes[0]!.need;
}

function worldFor(host: HostStart): WorldDescription {
  const d = defaultWorld([
    { alias: 'nest', hostsLxd: true },
    { alias: 'busybox', hostsLxd: false },
  ]);
  return { ...d, host: { ...d.host, subuid: host.subid, subgid: host.subid } };
}

function describeTree(m: Manifest): string {
  const lines: string[] = [`host.base: ${m.host.base}`];
  const walk = (specs: ContainerSpec[], indent: string): void =>
    specs.forEach((s) => {
      const idmap = s.idmap ? ` idmap{isolated: ${s.idmap.isolated}, size: ${s.idmap.size}}` : '';
      lines.push(`${indent}${s.name} (${s.image})${idmap}`);
      walk(s.containers, `${indent}  `);
    });
  walk(m.containers, '  ');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Planning and applying in the simulator.

interface Applied {
  manifest: Manifest;
  allocation: Allocation;
  world: SimWorld;
  plan: Plan;
  summary: ApplySummary;
  replan: Plan;
  /** Every level observed after apply (the host and each hosting container). */
  tree: ObservedTree;
}

const OPTIONS = { hostRestart: null, tool: 'property-test', manifestText: 'generated' };

async function planIn(world: SimWorld, m: Manifest): Promise<Plan> {
  const r = await planManifest(m, world.host(), OPTIONS);
  if (!r.ok) throw new Error(`the planner refused:\n${r.problems.map((p) => `  ${pathOfProblem(p) || 'host'}: ${p.message}`).join('\n')}`);
  return r.plan;
}

async function applyInSim(c: Case): Promise<Applied> {
  return applyManifestInSim(toManifest(c), c.host);
}

async function applyManifestInSim(manifest: Manifest, host: HostStart): Promise<Applied> {
  const allocated = allocate(manifest);
  if (!allocated.ok) throw new Error(`allocation failed: ${allocated.problems.map((p) => p.message).join('; ')}`);
  const world = createSimWorld(worldFor(host));
  const plan = await planIn(world, manifest);
  const summary = await startApply(plan, world.host()).finished;
  const replan = await planIn(world, manifest);
  const tree = await observeTree(world.host(), manifest);
  return { manifest, allocation: allocated.allocation, world, plan, summary, replan, tree };
}

/** Run a check, and on failure say which tree it was about (fast-check prints the shrunk case too). */
async function withTree(c: Case, check: (a: Applied) => void): Promise<void> {
  const a = await applyInSim(c);
  try {
    check(a);
  } catch (e) {
    (e as Error).message = `${(e as Error).message}\n\ntree:\n${describeTree(a.manifest)}`;
    throw e;
  }
}

const observed = (tree: ObservedTree, path: string): ObservedLevel => {
  const o = tree.levels[path];
  if (o?.kind !== 'observed') throw new Error(`level ${path || 'host'} was not observed after apply`);
  return o.level;
};

function allNodes(nodes: NodeAllocation[]): NodeAllocation[] {
  return nodes.flatMap((n) => [n, ...allNodes(n.children)]);
}

/** Levels (host first) with the allocations of their children. */
function levelsOf(a: Applied): Array<{ path: string; children: NodeAllocation[] }> {
  return [
    { path: '', children: a.allocation.nodes },
    ...allNodes(a.allocation.nodes)
      .filter((n) => n.children.length > 0)
      .map((n) => ({ path: n.path, children: n.children })),
  ];
}

/** The map LXD stored for `name` at a level (volatile.idmap.current), uid and gid entries. */
function storedMap(level: ObservedLevel, name: string): IdMapEntry[] {
  const inst = level.instances.find((i) => i.name === name);
  if (!inst) throw new Error(`${name} does not exist in ${level.path || 'the host'}`);
  return parseLxdIdmap(inst.config['volatile.idmap.current']);
}

/**
 * Whether the simulated apply creates the children of a level in manifest order, as the
 * planner's predicted maps assume: on the host (no image copies; the simulator runs each step
 * at once, so concurrent siblings start in plan order) and where every child comes from the
 * same image. Otherwise each child waits for the copy of its own image, and whichever copy
 * finishes first decides which isolated sibling LXD gives the first slice (the known bug below).
 */
function createdInManifestOrder(a: Applied, path: string): boolean {
  if (path === '') return true;
  const spec = a.manifest.containers
    .flatMap(function all(s: ContainerSpec): ContainerSpec[] {
      return [s, ...s.containers.flatMap(all)];
    })
    .find((s) => s.path === path)!;
  return new Set(spec.containers.map((s) => s.image)).size <= 1;
}

const hostSide = (e: IdMapEntry): IdRange => ({ start: e.hostid, size: e.maprange });
const show = (r: IdRange | null): string => (r ? formatRange(r) : 'none');

// ---------------------------------------------------------------------------------------------

describe('random trees in the simulated LXD', () => {
  it('(a) apply succeeds at every step, and a second plan has nothing to do', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, (c) =>
        withTree(c, (a) => {
          expect(a.summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
          expect(a.summary.skipped.map((s) => `${s.step.id}: ${s.reason}`)).toEqual([]);
          expect(a.replan.steps.map((s) => `${s.id}: ${s.reason}`)).toEqual([]);
        }),
      ),
      { numRuns: NUM_RUNS, examples: EXAMPLES },
    );
  });

  it('(b) isolated siblings never share ids: neither in the allocation nor in the maps LXD gave', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, (c) =>
        withTree(c, (a) => {
          for (const lv of levelsOf(a)) {
            const isolated = lv.children.filter((n) => n.isolated);
            // The allocator's slices, as offsets into the level's daemon range.
            const slices = isolated.map((n) => ({ path: n.path, range: { start: n.slice!.offset, size: n.slice!.size } }));
            // The maps the simulated LXD stored for them (uid and gid), and their /proc/self/uid_map.
            const level = observed(a.tree, lv.path);
            const maps = isolated.flatMap((n) =>
              storedMap(level, n.name).map((e) => ({ path: n.path, range: hostSide(e), kind: e.isuid ? 'uid' : 'gid' })),
            );
            for (const [i, x] of slices.entries()) {
              for (const y of slices.slice(i + 1)) {
                expect(overlaps(x.range, y.range), `allocator: ${x.path} ${show(x.range)} overlaps ${y.path} ${show(y.range)}`).toBe(false);
              }
            }
            for (const [i, x] of maps.entries()) {
              for (const y of maps.slice(i + 1)) {
                if (x.path === y.path || x.kind !== y.kind) continue;
                expect(overlaps(x.range, y.range), `LXD: ${x.path} ${x.kind} ${show(x.range)} overlaps ${y.path} ${show(y.range)}`).toBe(
                  false,
                );
              }
            }
            for (const n of isolated) {
              const proc = parseProcIdMap(a.world.uidMap(n.path) ?? '');
              expect(proc.map(hostSide), `${n.path}: /proc/self/uid_map vs volatile.idmap.current`).toEqual(
                storedMap(level, n.name)
                  .filter((e) => e.isuid)
                  .map(hostSide),
              );
            }
          }
        }),
      ),
      { numRuns: NUM_RUNS, examples: EXAMPLES },
    );
  });

  it("(c) every container's map lies inside its parent's root entry and daemon range, where the planner said", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, (c) =>
        withTree(c, (a) => {
          for (const lv of levelsOf(a)) {
            const level = observed(a.tree, lv.path);
            const label = lv.path || 'host';
            const uidEntry = firstUsable(level.subuid.text, 'root');
            const gidEntry = firstUsable(level.subgid.text, 'root');
            const daemon = a.world.daemonRange(lv.path);
            expect(daemon.kind, `${label}: the LXD that made the children`).toBe('range');
            const daemonRange = daemon.kind === 'range' ? { start: daemon.start, size: daemon.size } : null;
            // The daemon runs on the first usable root entry (it was restarted after the edit).
            expect(show(daemonRange), `${label}: daemon range vs first root entry of /etc/subuid`).toBe(show(uidEntry));
            expect(show(gidEntry), `${label}: root entries of /etc/subgid vs /etc/subuid`).toBe(show(uidEntry));
            // A nested level's entry lies inside the ids its own namespace has.
            if (lv.path !== '') {
              const own = level.uidMap.reduce((n, e) => n + e.maprange, 0);
              expect(contains({ start: 0, size: own }, uidEntry!), `${label}: root:${show(uidEntry)} inside its own ${own} ids`).toBe(true);
            }
            const predicted = a.plan.levels.find((l) => l.path === lv.path);
            for (const n of lv.children) {
              const stored = storedMap(level, n.name);
              expect(stored.length, `${n.path}: volatile.idmap.current`).toBeGreaterThan(0);
              for (const e of stored) {
                const entry = e.isuid ? uidEntry : gidEntry;
                const r = hostSide(e);
                expect(
                  entry !== null && contains(entry, r),
                  `${n.path}: ${e.isuid ? 'uid' : 'gid'} map ${show(r)} inside ${label}'s root:${show(entry)}`,
                ).toBe(true);
                expect(contains(daemonRange!, r), `${n.path}: map ${show(r)} inside ${label}'s daemon range ${show(daemonRange)}`).toBe(
                  true,
                );
                // LXD's strict fit: an isolated slice ends before the range does.
                if (n.isolated)
                  expect(
                    rangeEnd(r) < rangeEnd(daemonRange!),
                    `${n.path}: isolated ${show(r)} ends strictly inside ${show(daemonRange)}`,
                  ).toBe(true);
              }
              // The kernel's view inside the child is the same map.
              const proc = parseProcIdMap(a.world.uidMap(n.path) ?? '');
              expect(proc.map(hostSide), `${n.path}: /proc/self/uid_map`).toEqual(stored.filter((e) => e.isuid).map(hostSide));
              // The planner predicted exactly this map, where the order of creation is the
              // manifest's: see the known bug below for siblings made from different images.
              if (!createdInManifestOrder(a, lv.path)) continue;
              const want = predicted?.children.find((ch) => ch.path === n.path)?.map ?? null;
              expect(show(hostSide(stored.find((e) => e.isuid)!)), `${n.path}: map the planner predicted`).toBe(show(want));
            }
          }
        }),
      ),
      { numRuns: NUM_RUNS, examples: EXAMPLES },
    );
  });
});

describe('isolated siblings are created in manifest order', () => {
  // Found by property (c) (fast-check seed 1298345309, before (c) skipped such levels): the
  // Found by property (c): LXD hands out isolated slices in creation order, and apply starts a
  // child as soon as ITS image is copied (b2's 1 MB busybox before b1's nest). The planner now
  // orders the creates of isolated siblings, so the slices land where the plan says.
  it('predicts the slice LXD gives an isolated sibling whose image copy finishes later', async () => {
    const m = buildManifest([
      node('a0', [
        node('b0', [], { image: 'busybox' }),
        node('b1', [], { image: 'nest', isolated: true }),
        node('b2', [], { image: 'busybox', isolated: true }),
      ]),
    ]);
    const a = await applyManifestInSim(m, { subid: DEBIAN_SUBID, base: null });
    expect(a.summary.failed).toEqual([]);
    const predicted = a.plan.levels.find((l) => l.path === 'a0')!.children;
    for (const path of ['a0/b1', 'a0/b2']) {
      const map = predicted.find((ch) => ch.path === path)!.map;
      expect(a.world.uidMap(path), path).toBe(`0 ${map.start} ${map.size}`);
    }
  });
});

describe('isolated containers the manifest does not name', () => {
  // Found while checking (b)/(c) against pre-existing worlds (and reproduced on real LXD 5.0.2):
  // an isolated container the manifest does not name ("other", made by hand) holds a slice too.
  // The planner now replays LXD's findIdmap over the observed slices and sizes the range for it.
  it('plans room for a new isolated container next to one it does not manage', async () => {
    const d = worldFor({ subid: 'root:500000:262144\n', base: null });
    d.host.instances = [
      {
        name: 'x',
        image: 'busybox',
        config: {
          'security.idmap.isolated': 'true',
          'security.idmap.size': '65536',
          'user.nestctl.managed': 'true',
          'user.nestctl.path': 'x',
        },
      },
      { name: 'other', image: 'busybox', config: { 'security.idmap.isolated': 'true' } },
    ];
    const world = createSimWorld(d);
    expect(world.uidMap('other')).toBe('0 631072 65536');
    const m = buildManifest([node('x', [], { isolated: true }), node('y', [], { isolated: true })], { base: 500000 });
    const r = await planManifest(m, world.host(), OPTIONS);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const y = r.plan.levels.find((l) => l.path === '')!.children.find((c) => c.path === 'y')!;
    expect(y.map.start).toBeGreaterThanOrEqual(631072 + 65536);
    const summary = await startApply(r.plan, world.host()).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Subid files.

const OTHER_OWNERS = ['alice', 'bob', '_lxd', 'lxd', 'rootless', 'toor', '1000'];

const num = fc.oneof(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 4_000_000_000 }));
const bigSize = fc.oneof(fc.constantFrom(65536, 131072, 10000001, 1_000_000_000), fc.integer({ min: BLOCK, max: 2_000_000_000 }));
const smallSize = fc.integer({ min: 0, max: BLOCK - 1 });
const usableRange: fc.Arbitrary<IdRange> = fc.record({ start: num, size: bigSize });

/** One line of a subid file, tagged with whether an edit for `owner` may drop it. */
interface Line {
  text: string;
  owned: boolean;
}

const lineArb = (owner: string): fc.Arbitrary<Line> =>
  fc.oneof(
    // comments and blank lines
    fc.constantFrom('# subordinate ids', '#', '# root:1:65536 (commented out)', '', '   ', '\t').map((text) => ({ text, owned: false })),
    // other users, any size, sometimes with a CR or an inline comment
    fc
      .tuple(
        fc.constantFrom(...OTHER_OWNERS.filter((o) => o !== owner)),
        num,
        fc.oneof(smallSize, bigSize),
        fc.constantFrom('', '', '\r', ' # theirs'),
      )
      .map(([o, s, n, tail]) => ({ text: `${o}:${s}:${n}${tail}`, owned: false })),
    // the owner's own entries that LXD skips (< 65536 ids): they stay
    fc.tuple(num, smallSize).map(([s, n]) => ({ text: `${owner}:${s}:${n}`, owned: false })),
    // the owner's usable entries: the edit replaces them
    usableRange.map((r) => ({ text: `${owner}:${r.start}:${r.size}`, owned: true })),
  );

interface SubidCase {
  owner: string;
  /** null: the file does not exist. */
  lines: Line[] | null;
  finalNewline: boolean;
  edit: OwnerEdit;
}

const subidCase: fc.Arbitrary<SubidCase> = fc.constantFrom('root', 'root', 'root', '_lxd').chain((owner) =>
  fc.record({
    owner: fc.constant(owner),
    lines: fc.option(fc.array(lineArb(owner), { maxLength: 12 }), { nil: null, freq: 8 }),
    finalNewline: fc.boolean(),
    edit: fc.record({
      owner: fc.constant(owner),
      entry: usableRange,
      keep: fc.uniqueArray(usableRange, { maxLength: 3, selector: (r) => formatRange(r) }),
    }),
  }),
);

const textOf = (c: SubidCase): string | null =>
  c.lines === null ? null : c.lines.map((l) => l.text).join('\n') + (c.finalNewline && c.lines.length > 0 ? '\n' : '');

/**
 * The lines of the file textOf(c) wrote: without a final newline, a last empty line is not a line
 * ("a" + "\n" + "" is the file "a\n", one line).
 */
const fileLines = (c: SubidCase): Line[] => {
  const lines = [...(c.lines ?? [])];
  if (!c.finalNewline && lines.length > 0 && lines[lines.length - 1]!.text === '') lines.pop();
  return lines;
};

/** Lines of a file as written ("\n"-separated, without the empty piece after a final newline). */
const linesOf = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
};

describe('subid lines are read as LXD reads them', () => {
  // LXD reads root's lines case-insensitively, cuts a comment at "#" anywhere, and takes the
  // first three of any number of ":" fields (lxd/idmap getFromShadow; the simulator's copy is
  // getFromShadow in src/sim/idmap.ts). parseSubid does the same, so such lines are
  // replaced by the edit instead of staying in front of the new entry.
  it.each(['ROOT:100000:10000001\n', 'root:100000:10000001#old range\n', 'root:100000:10000001:extra\n'])(
    'after editing %j, LXD uses the requested entry',
    (before) => {
      const after = applySubidEdit(before, [{ owner: 'root', entry: { start: 500000, size: 196608 }, keep: [] }]);
      const read = getFromShadow(after, '/etc/subuid');
      const first = read.kind === 'entries' ? read.entries.find(([, size]) => size >= BLOCK) : undefined;
      expect(first).toEqual([500000, 196608]);
    },
  );
});

describe('subid edits', () => {
  it('(d) keep every other line byte for byte and in order; the requested entry comes first, the pinned ones right after', () => {
    fc.assert(
      fc.property(subidCase, (c) => {
        const before = textOf(c);
        const after = applySubidEdit(before, [c.edit]);
        const wanted = [c.edit.entry, ...c.edit.keep.filter((k) => formatRange(k) !== formatRange(c.edit.entry))];

        // Every line the edit may not touch survives, byte for byte, in order.
        const owned = new Set(usableEntries(after, c.owner).map((e) => e.line));
        const survivors = linesOf(after).filter((_, i) => !owned.has(i));
        expect(survivors).toEqual(
          fileLines(c)
            .filter((l) => !l.owned)
            .map((l) => l.text),
        );

        // The owner's usable entries are exactly the requested one, then the pinned ones, adjacent.
        const usable = usableEntries(after, c.owner);
        expect(usable.map(formatRange)).toEqual(wanted.map(formatRange));
        expect(usable.map((e) => e.line)).toEqual(usable.map((_, i) => usable[0]!.line + i));
        expect(firstUsable(after, c.owner)).toMatchObject(c.edit.entry);

        // Nothing is lost at the end of the file, and the edit is idempotent.
        expect(after.endsWith('\n')).toBe(true);
        expect(applySubidEdit(after, [c.edit])).toBe(after);
      }),
      { numRuns: 300 },
    );
  });

  it("(d') LXD itself (its shadow reader) then uses the requested entry as root's range", () => {
    fc.assert(
      fc.property(
        // Files LXD can read at all: a line of only blanks makes its reader fail for the whole
        // file ("Unexpected values"), before and after any edit.
        subidCase.filter((c) => c.owner === 'root' && getFromShadow(textOf(c) ?? '', '/etc/subuid').kind !== 'error'),
        (c) => {
          const after = applySubidEdit(textOf(c), [c.edit]);
          const read = getFromShadow(after, '/etc/subuid');
          expect(read.kind).toBe('entries');
          const first = read.kind === 'entries' ? read.entries.find(([, size]) => size >= BLOCK) : undefined;
          expect(first ? formatRange({ start: first[0], size: first[1] }) : null).toBe(formatRange(c.edit.entry));
          // And the parsed entries nestctl sees are the lines LXD sees as root's (no line hidden from either).
          expect(
            parseSubid(after)
              .filter((e) => e.owner === 'root' && e.size >= BLOCK)
              .map(formatRange),
          ).toEqual(
            read.kind === 'entries'
              ? read.entries.filter(([, size]) => size >= BLOCK).map(([s, n]) => formatRange({ start: s, size: n }))
              : [],
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
