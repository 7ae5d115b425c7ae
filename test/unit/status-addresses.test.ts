// Instances' addresses: what the probe's addresses fact (`/1.0/instances?recursion=2`) gives the
// parser, what it refuses as untrusted, and the simulator's leases (fixed per name, one per
// running container on a managed bridge, never the gateway, never twice).

import { describe, expect, it } from 'vitest';
import { UntrustedAnswerError } from '../../src/core/errors.js';
import { observedAddresses } from '../../src/core/observe/parse-probe.js';
import { observedDigest } from '../../src/core/plan/digest.js';
import type { ObservedLevel } from '../../src/core/observed.js';
import { instanceAddresses } from '../../src/sim/addresses.js';
import type { InstanceState, LxdState } from '../../src/sim/state.js';

const eth0 = (...addresses: Array<{ family: string; address: unknown; scope: string }>) => ({ network: { eth0: { addresses } } });

describe('observedAddresses', () => {
  it('keeps global IPv4 addresses, by project and name; a stopped instance (state null) has none', () => {
    const got = observedAddresses(
      [
        {
          name: 'c1',
          project: 'default',
          state: {
            network: {
              lo: { addresses: [{ family: 'inet', address: '127.0.0.1', scope: 'local' }] },
              eth0: {
                addresses: [
                  { family: 'inet', address: '10.0.3.7', scope: 'global' },
                  { family: 'inet6', address: 'fd42::7', scope: 'global' },
                  { family: 'inet6', address: 'fe80::1', scope: 'link' },
                ],
              },
            },
          },
        },
        { name: 'c2', project: 'team', state: null },
        { name: 'c3', state: eth0({ family: 'inet', address: '192.0.2.9', scope: 'global' }) },
      ],
      '',
    );
    expect([...got]).toEqual([
      ['default/c1', ['10.0.3.7']],
      ['team/c2', []],
      ['default/c3', ['192.0.2.9']],
    ]);
  });

  it.each([
    ['a list that is not one', { c1: {} }],
    ['a name LXD never allows', [{ name: '../x', state: null }]],
    ['an address that is not IPv4', [{ name: 'c1', state: eth0({ family: 'inet', address: '10.0.0.1\u001b[31m', scope: 'global' }) }]],
    ['an address that is not text', [{ name: 'c1', state: eth0({ family: 'inet', address: 167772161, scope: 'global' }) }]],
    ['a state that is not an object', [{ name: 'c1', state: 'up' }]],
    ['an interface that is not an object', [{ name: 'c1', state: { network: { eth0: 'x' } } }]],
    [
      'one instance twice',
      [
        { name: 'c1', state: null },
        { name: 'c1', project: 'default', state: null },
      ],
    ],
  ])('refuses %s as untrusted', (_, answer) => {
    expect(() => observedAddresses(answer, 'c1')).toThrow(UntrustedAnswerError);
  });
});

describe('the observed digest', () => {
  it('does not change with addresses: nothing is planned from them', () => {
    const level = (ipv4?: string[]): ObservedLevel =>
      ({
        path: '',
        flavour: 'debian',
        daemon: { kind: 'missing' },
        systemd: true,
        subuid: { text: null, sha256: null, mtime: null },
        subgid: { text: null, sha256: null, mtime: null },
        subidOriginal: { subuid: null, subgid: null },
        uidMap: [],
        storagePools: [],
        networks: [],
        defaultProfileHasRoot: false,
        images: [],
        instances: [{ name: 'c1', project: 'default', status: 'Running', profiles: [], config: {}, ...(ipv4 ? { ipv4 } : {}) }],
        profiles: [],
        now: 0,
      }) as ObservedLevel;
    const digest = (l: ObservedLevel) => observedDigest({ levels: { '': { kind: 'observed', level: l } } });
    expect(digest(level(['10.0.0.2']))).toBe(digest(level()));
    expect(digest(level(['10.0.0.2']))).toBe(digest(level(['10.0.0.3'])));
  });
});

describe("the simulator's leases", () => {
  const instance = (name: string, status: InstanceState['status'] = 'Running', profiles = ['default']): InstanceState =>
    ({ name, status, profiles, config: {} }) as InstanceState;
  const lxd = (instances: InstanceState[], cidr = '10.77.1.1/24'): LxdState =>
    ({
      networks: [{ name: 'lxdbr0', type: 'bridge', managed: true, config: { 'ipv4.address': cidr } }],
      profiles: [
        { name: 'default', config: {}, devices: { eth0: { type: 'nic', network: 'lxdbr0', name: 'eth0' } } },
        { name: 'bare', config: {}, devices: {} },
      ],
      instances,
    }) as unknown as LxdState;

  it('gives each running container on the bridge one address in its subnet, the same every time, by name', () => {
    const a = instanceAddresses(
      lxd([instance('web'), instance('db'), instance('off', 'Stopped'), instance('lonely', 'Running', ['bare'])]),
    );
    expect(a.get('off')).toEqual([]);
    expect(a.get('lonely')).toEqual([]);
    for (const name of ['web', 'db']) {
      expect(a.get(name)).toHaveLength(1);
      expect(a.get(name)![0]).toMatch(/^10\.77\.1\.(\d+)$/);
    }
    expect(a.get('web')).not.toEqual(a.get('db'));
    // By name: another container beside it does not move it.
    expect(instanceAddresses(lxd([instance('web')])).get('web')).toEqual(a.get('web'));
  });

  it('never gives the gateway, the network or broadcast address, nor one address twice, while the subnet has room', () => {
    // A /29: six hosts, the gateway (.1) among them, so five containers fill it.
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const a = instanceAddresses(
      lxd(
        names.map((n) => instance(n)),
        '192.0.2.1/29',
      ),
    );
    const given = names.flatMap((n) => a.get(n)!);
    expect(given).toHaveLength(5);
    expect(new Set(given).size).toBe(5);
    for (const ip of given) expect(['192.0.2.0', '192.0.2.1', '192.0.2.7']).not.toContain(ip);
    expect(names.filter((n) => a.get(n)!.length === 0)).toHaveLength(1);
  });
});
