// LXC containers' ids: sized by the allocator with the LXD tree, placed against the subid files.

import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/core/ids/allocate.js';
import { checkManifest } from '../../src/core/manifest/check.js';
import { type LxcAllocation, levelLxcNeed, visitLxc } from '../../src/core/ids/lxc-need.js';
import type { LxcSpec } from '../../src/core/manifest/model.js';
import { placeLxcRanges } from '../../src/core/plan/lxc-ranges.js';

const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

function allocated(text: string) {
  const r = checkManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.allocation;
}

const TREE = doc(
  'apiVersion: nestctl/v1',
  'containers:',
  '  - name: web',
  '    image: nest',
  '    containers:',
  '      - name: c2',
  '        image: busybox',
  '      - name: inlxc',
  '        runtime: lxc',
  '  - name: box',
  '    runtime: lxc',
  '    user: alice',
  '  - name: box2',
  '    runtime: lxc',
  '    user: alice',
  '    config:',
  '      lxc.start.auto: 1',
  '  - name: rootbox',
  '    runtime: lxc',
);

describe('allocate: LXC containers', () => {
  it("gives the host's LXD one block when the host holds only LXC containers (a range of 0 ids never converged)", () => {
    const a = allocated(doc('apiVersion: nestctl/v1', 'host:', '  base: 500000', 'containers:', '  - name: rb', '    runtime: lxc'));
    expect(a.hostNeed).toBe(65536);
  });

  it("gives a user's containers one range and root-owned ones a slice each", () => {
    const a = allocated(TREE);
    expect(a.lxcByPath['box2']).toMatchObject({ need: 65536, slice: null });
    expect(a.hostLxcNeed).toEqual({ users: [{ user: 'alice', size: 65536 }], root: [{ path: 'rootbox', size: 65536 }], total: 2 * 65536 });
  });

  it("sizes a user's range by its largest container, one holding LXC containers at 65536 plus their slices", () => {
    const spec = (name: string, path: string, user: string | null, containers: LxcSpec[] = []): LxcSpec => ({
      runtime: 'lxc',
      name,
      path,
      user,
      template: 'busybox',
      templateArgs: [],
      config: {},
      bridge: null,
      host: 'local',
      containers,
      pos: { line: 1, col: 1 },
    });
    const byPath: Record<string, LxcAllocation> = {};
    const big = visitLxc(spec('big', 'big', 'alice', [spec('a', 'big/a', null), spec('b', 'big/b', null)]), byPath);
    const small = visitLxc(spec('small', 'small', 'alice'), byPath);
    expect(big.need).toBe(3 * 65536);
    expect(byPath['big/b']!.slice).toEqual({ start: 131072, size: 65536 });
    expect(levelLxcNeed([small, big]).users).toEqual([{ user: 'alice', size: 3 * 65536 }]);
  });

  it("grows an LXD container by the ranges of the LXC containers it runs, after its LXD's range", () => {
    const a = allocated(TREE);
    const web = a.byPath['web']!;
    expect(web.daemonNeed).toBe(65536);
    expect(web.lxcNeed).toEqual({ users: [], root: [{ path: 'web/inlxc', size: 65536 }], total: 65536 });
    // 65536 for itself, 65536 for its LXD's range (c2), 65536 for inlxc
    expect(web.need).toBe(3 * 65536);
    expect(a.hostNeed).toBe(web.need);
  });

  it('gives an LXD leaf that only runs LXC containers the ids for them', () => {
    const r = allocate(
      allocatedManifest(
        doc(
          'apiVersion: nestctl/v1',
          'containers:',
          '  - name: web',
          '    image: nest',
          '    containers:',
          '      - name: x',
          '        runtime: lxc',
        ),
      ),
    );
    if (!r.ok) throw new Error('expected ok');
    // itself, a range for the LXD its image brings, and x's slice after that range
    expect(r.allocation.byPath['web']!.need).toBe(3 * 65536);
  });
});

function allocatedManifest(text: string) {
  const r = checkManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.manifest;
}

describe('placeLxcRanges', () => {
  const need = { users: [{ user: 'alice', size: 65536 }], root: [{ path: 'rootbox', size: 131072 }], total: 196608 };
  const daemonRange = { start: 1_000_000, size: 196608 };

  it('keeps the range useradd gave the user when it is large enough and collides with nothing', () => {
    const text = 'root:1000000:196608\nalice:10100001:65536\n';
    const r = placeLxcRanges({
      subuid: text,
      subgid: text,
      daemonRange,
      ownSize: null,
      need,
      keptRoot: new Map(),
      daemonOwner: 'root',
      ownerKept: [],
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.ranges.users.get('alice')).toEqual({ range: { start: 10100001, size: 65536 }, kept: true });
    // the root slice goes after every line, outside the daemon's range
    expect(r.ranges.root.get('rootbox')).toEqual({ start: 10223616, size: 131072 });
  });

  it("moves a user range that overlaps the daemon's range or another owner's line, never below 65536", () => {
    const text = 'root:1000000:196608\nalice:1065536:65536\nbob:2000000:65536\n';
    const r = placeLxcRanges({
      subuid: text,
      subgid: text,
      daemonRange,
      ownSize: null,
      need,
      keptRoot: new Map(),
      daemonOwner: 'root',
      ownerKept: [],
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.ranges.users.get('alice')).toEqual({ range: { start: 2097152, size: 65536 }, kept: false });
    expect(r.ranges.root.get('rootbox')).toEqual({ start: 2162688, size: 131072 });
    const low = placeLxcRanges({
      subuid: 'alice:100:65536\n',
      subgid: 'alice:100:65536\n',
      daemonRange: { start: 0, size: 0 },
      ownSize: null,
      need: { users: need.users, root: [], total: 65536 },
      keptRoot: new Map(),
      daemonOwner: 'root',
      ownerKept: [],
    });
    expect(low.ok && low.ranges.users.get('alice')).toEqual({ range: { start: 65536, size: 65536 }, kept: false });
  });

  it("keeps a root-owned container's slice, so a second plan places nothing, and refuses what a nested level cannot hold", () => {
    const text = 'root:1000000:196608\n';
    const kept = new Map([['rootbox', { start: 3_000_000, size: 131072 }]]);
    const r = placeLxcRanges({
      subuid: text,
      subgid: text,
      daemonRange,
      ownSize: null,
      need,
      keptRoot: kept,
      daemonOwner: 'root',
      ownerKept: [],
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.ranges.root.get('rootbox')).toEqual({ start: 3_000_000, size: 131072 });
    expect(r.ranges.users.get('alice')!.range.start).toBe(3_145_728); // the next whole block after the kept slice
    const nested = placeLxcRanges({
      subuid: 'root:65536:65536\n',
      subgid: 'root:65536:65536\n',
      daemonRange: { start: 65536, size: 65536 },
      ownSize: 262144,
      need,
      keptRoot: new Map(),
      daemonOwner: 'root',
      ownerKept: [],
    });
    expect(nested.ok).toBe(false);
    const fits = placeLxcRanges({
      subuid: 'root:65536:65536\n',
      subgid: 'root:65536:65536\n',
      daemonRange: { start: 65536, size: 65536 },
      ownSize: 327680,
      need,
      keptRoot: new Map(),
      daemonOwner: 'root',
      ownerKept: [],
    });
    expect(fits.ok && [...fits.ranges.users.values(), ...fits.ranges.root.values()]).toEqual([
      { range: { start: 131072, size: 65536 }, kept: false },
      { start: 196608, size: 131072 },
    ]);
  });

  it("places a nested level's slice inside its ids past a package's line that spans them (Debian's _lxd), with a warning, and keeps it there", () => {
    const text = '_lxd:100000:10000001\nroot:65536:65536\n';
    const one = { users: [], root: [{ path: 'lxo/rbox', size: 65536 }], total: 65536 };
    const req = {
      subuid: text,
      subgid: text,
      daemonRange: { start: 65536, size: 65536 },
      ownSize: 10_000_001,
      need: one,
      daemonOwner: 'root',
      ownerKept: [],
    };
    const first = placeLxcRanges({ ...req, keptRoot: new Map() });
    if (!first.ok) throw new Error(first.message);
    expect(first.ranges.root.get('lxo/rbox')).toEqual({ start: 131072, size: 65536 });
    expect(first.warnings).toEqual([expect.stringContaining('overlaps _lxd:100000:10000001')]);
    const again = placeLxcRanges({
      ...req,
      subuid: `${text}root:131072:65536\n`,
      subgid: `${text}root:131072:65536\n`,
      keptRoot: new Map([['lxo/rbox', { start: 131072, size: 65536 }]]),
    });
    expect(again.ok && again.ranges.root.get('lxo/rbox')).toEqual({ start: 131072, size: 65536 });
  });
});
