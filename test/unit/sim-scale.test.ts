// The simulator at scale: what it reads of a level's neighbours when it computes a new
// container's map must be exactly what LXD's expanded config says, without building all of it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandedConfig, expandedKeys } from '../../src/sim/config.js';
import { findIdmap, NEIGHBOUR_KEYS } from '../../src/sim/find-idmap.js';
import { entry } from '../../src/sim/idmap.js';
import type { InstanceState, LxdState } from '../../src/sim/state.js';

const KEYS = [...NEIGHBOUR_KEYS, 'boot.autostart'];

describe('expandedKeys', () => {
  it('equals the expanded config cut to the keys asked for, on random profiles and configs', () => {
    const config = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom('true', 'false', '', '65536', '1065536'), {
      maxKeys: KEYS.length,
    });
    const input = fc.record({
      profiles: fc.array(fc.record({ name: fc.constantFrom('default', 'iso', 'big', 'x'), config }), { maxLength: 4 }),
      uses: fc.array(fc.constantFrom('default', 'iso', 'big', 'x', 'missing'), { maxLength: 4 }),
      own: config,
    });
    fc.assert(
      fc.property(input, ({ profiles, uses, own }) => {
        const lxd = { profiles: profiles.map((p) => ({ ...p, devices: {} })) } as unknown as LxdState;
        const inst = { name: 'c', profiles: uses, config: own } as unknown as InstanceState;
        const full = expandedConfig(lxd, uses, own);
        const want = Object.fromEntries(NEIGHBOUR_KEYS.filter((k) => k in full).map((k) => [k, full[k]]));
        expect(expandedKeys(lxd, inst, NEIGHBOUR_KEYS)).toEqual(want);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('findIdmap neighbours', () => {
  const daemon = [entry('u', 0, 1_000_000, 196608), entry('g', 0, 1_000_000, 196608)];
  it('are listed only for an isolated container that LXD must place', () => {
    let listed = 0;
    const neighbours = () => {
      listed += 1;
      return [{ name: 'a', expanded: { 'security.idmap.isolated': 'true', 'volatile.idmap.base': '1065536' } }];
    };
    expect(findIdmap({ flavour: 'debian', daemon, name: 'b', expanded: {}, neighbours })).toMatchObject({ ok: true, base: 0 });
    expect(
      findIdmap({
        flavour: 'debian',
        daemon,
        name: 'b',
        expanded: { 'security.idmap.isolated': 'true', 'security.idmap.base': '5000000' },
        neighbours,
      }),
    ).toMatchObject({ ok: true, base: 5_000_000 });
    expect(listed).toBe(0);
    const big = [entry('u', 0, 1_000_000, 196609), entry('g', 0, 1_000_000, 196609)];
    expect(
      findIdmap({ flavour: 'debian', daemon: big, name: 'b', expanded: { 'security.idmap.isolated': 'true' }, neighbours }),
    ).toMatchObject({ ok: true, base: 1_131_072 });
    expect(listed).toBe(1);
  });
});
