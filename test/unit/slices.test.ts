// Placing isolated slices at scale: placeSlices must give exactly what findSlice (LXD's
// findIdmap, replayed one slice at a time) gives, and stay linear in the number of siblings.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/core/ids/allocate.js';
import type { IdRange } from '../../src/core/ids/range.js';
import { chooseDaemonRange } from '../../src/core/plan/daemon-range.js';
import { findSlice, placeSlices, type SliceRequest } from '../../src/core/plan/slices.js';
import { manifest, node } from './helpers/build.js';
import { cpuMs } from './helpers/cpu-time.js';

/** The straightforward reference: findSlice over everything placed so far, per request. */
function reference(rangeStart: number, occupied: IdRange[], requests: SliceRequest[]): number[] {
  const placed: IdRange[] = [];
  return requests.map((q) => {
    const range = q.kind === 'kept' ? q.range : { start: findSlice(rangeStart, [...occupied, ...placed], q.size), size: q.size };
    placed.push(range);
    return range.start;
  });
}

// Small units around one block, so gaps, ties, overlaps and exact fits all happen often.
const UNIT = 16384;
const size = fc.oneof(
  fc.integer({ min: 1, max: 12 }).map((n) => n * UNIT),
  fc.constantFrom(1, UNIT - 1, 65536, 65537),
);
const range = fc.record({ start: fc.integer({ min: 0, max: 40 }).map((n) => n * UNIT), size });

describe('placeSlices', () => {
  it('equals findSlice applied one slice at a time, on random levels', () => {
    const input = fc
      .record({
        rangeStart: fc.constantFrom(0, UNIT, 100000),
        occupied: fc.array(range, { maxLength: 12 }),
        plan: fc.array(
          fc.oneof({ weight: 3, arbitrary: size.map((s) => ({ kind: 'new' as const, size: s })) }, { weight: 1, arbitrary: fc.nat() }),
          { maxLength: 30 },
        ),
      })
      .map(({ rangeStart, occupied, plan }) => ({
        rangeStart,
        occupied,
        // A kept slice is one of the occupied ones (or, with none, an arbitrary range).
        requests: plan.map(
          (p): SliceRequest =>
            typeof p === 'number'
              ? {
                  kind: 'kept',
                  range: occupied.length > 0 ? { ...occupied[p % occupied.length]! } : { start: (p % 40) * UNIT, size: UNIT },
                }
              : p,
        ),
      }));
    fc.assert(
      fc.property(input, ({ rangeStart, occupied, requests }) => {
        expect(placeSlices(rangeStart, occupied, requests)).toEqual(reference(rangeStart, occupied, requests));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes findSlice itself for sizes it cannot reason about (malformed observed configs)', () => {
    const occupied = [
      { start: 131072, size: Number.NaN },
      { start: 196608, size: -5 },
    ];
    const requests: SliceRequest[] = [
      { kind: 'new', size: 65536 },
      { kind: 'new', size: 0 },
      { kind: 'new', size: 65536 },
    ];
    expect(placeSlices(0, occupied, requests)).toEqual(reference(0, occupied, requests));
  });

  it('a kept slice that ends before the one ahead of it opens the gap after it again', () => {
    // LXD measures a gap from the end of the entry just before it. X and A start together; X's
    // copy sorts after A, and the gap after it is measured from X's end, not A's.
    const occupied = [
      { start: 65536, size: UNIT },
      { start: 65536, size: 262144 },
      { start: 393216, size: 65536 },
    ];
    const requests: SliceRequest[] = [
      { kind: 'new', size: 65536 },
      { kind: 'kept', range: { start: 65536, size: UNIT } },
      { kind: 'new', size: 65536 },
    ];
    const got = placeSlices(0, occupied, requests);
    expect(got).toEqual(reference(0, occupied, requests));
    expect(got).toEqual([458752, 65536, 65536 + UNIT]);
  });
});

describe('a level with tens of thousands of isolated children', () => {
  it('places every slice where the allocator put it, in linear time', () => {
    const n = 20000;
    const m = manifest([
      node(
        'c1',
        Array.from({ length: n }, (_, i) => node(`s${i}`, [], { isolated: true })),
      ),
    ]);
    const result = allocate(m);
    if (!result.ok) throw new Error('allocation failed');
    const c1 = result.allocation.byPath['c1']!;
    const children = m.containers[0]!.containers.map((spec) => ({ spec, alloc: result.allocation.byPath[spec.path]! }));
    const { value: choice, ms } = cpuMs(() =>
      chooseDaemonRange({ manifest: m, path: 'c1', flavour: 'debian', obs: null, daemonNeed: c1.daemonNeed, ownSize: c1.need, children }),
    );
    if (!choice.ok) throw new Error(choice.problem.message);
    expect(choice.slices.size).toBe(n);
    for (const { spec, alloc } of children)
      expect(choice.slices.get(spec.name)).toEqual({ start: choice.daemonRange.start + alloc.slice!.offset, size: alloc.slice!.size });
    // Placing each slice by sorting and walking all earlier ones took tens of seconds here.
    expect(ms).toBeLessThan(3000);
  });
});
