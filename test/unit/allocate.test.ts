import { describe, expect, it } from 'vitest';
import { lineCol, pathOfProblem } from './helpers/placed.js';
import { allocate } from '../../src/core/ids/allocate.js';
import { manifest, node, seed } from './helpers/build.js';

describe('allocate', () => {
  it('derives the classic recipe for the seed tree', () => {
    const r = allocate(seed());
    if (!r.ok) throw new Error('expected ok');
    const a = r.allocation;
    expect(a.hostNeed).toBe(196608);
    expect(a.byPath['c1']).toMatchObject({ need: 196608, daemonNeed: 131072, slice: null });
    expect(a.byPath['c1/c2']).toMatchObject({ need: 131072, daemonNeed: 65536 });
    expect(a.byPath['c1/c2/c3']).toMatchObject({ need: 65536, daemonNeed: 0 });
  });

  it('takes the largest non-isolated sibling, not the sum: they share the range', () => {
    const r = allocate(manifest([node('a', [node('x')]), node('b', [node('y', [node('z')])]), node('c')]));
    if (!r.ok) throw new Error('expected ok');
    expect(r.allocation.byPath['a']!.need).toBe(131072);
    expect(r.allocation.byPath['b']!.need).toBe(196608);
    expect(r.allocation.hostNeed).toBe(196608);
  });

  it('places isolated slices from 65536 on and leaves the strict-fit headroom', () => {
    const r = allocate(manifest([node('p', [node('i1', [], { isolated: true }), node('i2', [], { isolated: true }), node('s')])]));
    if (!r.ok) throw new Error('expected ok');
    const p = r.allocation.byPath['p']!;
    expect(r.allocation.byPath['p/i1']!.slice).toEqual({ size: 65536, offset: 65536 });
    expect(r.allocation.byPath['p/i2']!.slice).toEqual({ size: 65536, offset: 131072 });
    // LXD: offset + size < range end, so 65536 + 2·65536 ids are one short.
    expect(p.daemonNeed).toBe(262144);
    expect(p.need).toBe(65536 + 262144);
  });

  it('sizes an isolated hosting child to what its subtree needs', () => {
    const r = allocate(manifest([node('i', [node('leaf')], { isolated: true })]));
    if (!r.ok) throw new Error('expected ok');
    expect(r.allocation.byPath['i']!.slice).toEqual({ size: 131072, offset: 65536 });
    expect(r.allocation.hostNeed).toBe(262144);
  });

  it('refuses an isolated slice smaller than the subtree, naming node and numbers', () => {
    const r = allocate(manifest([node('i', [node('leaf')], { isolated: true, size: 65536 })]));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    expect(pathOfProblem(r.problems[0]!)).toBe('i');
    expect(r.problems[0]!.message).toContain('65536');
    expect(r.problems[0]!.message).toContain('131072');
    expect(lineCol(r.problems[0]!)).toBe('10:5');
  });

  it('refuses a host range that would reach id 4294967295, which the kernel never maps', () => {
    const tree = [node('c1', [node('c2')])]; // the host hands out 131072 ids
    expect(allocate(manifest(tree, { base: 4294967295 - 131072 })).ok).toBe(true);
    const r = allocate(manifest(tree, { base: 4294967296 - 131072 }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [pathOfProblem(p), p.message, p.hint, lineCol(p)])).toEqual([
      [
        '',
        'the tree needs 131072 host ids, which from host.base 4294836224 run past the last usable id 4294967294',
        'choose host.base at most 4294836223',
        '2:1',
      ],
    ]);
  });

  it('refuses slices no base can hold, even without host.base', () => {
    const r = allocate(manifest([node('big', [], { isolated: true, size: 4294901760 })]));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.message).toContain('even from the lowest base 65536');
    expect(r.problems[0]!.hint).toBe('make the isolated slices (idmap.size) smaller');
  });
});
