// The IPv4 address a running simulated container has on its bridge, as LXD's dnsmasq would have
// leased it. Deterministic, so goldens and tests can name it: a host number chosen by the
// container's name within the bridge's subnet, moved on past the gateway and past what an
// instance listed before it already holds. A stopped container, or one on no managed bridge
// with an IPv4 subnet, has none.

import type { LxdState } from './state.js';
import { sha256 } from './subid.js';

/** "10.77.1.1/24" → the subnet's first address as a number, its size and the gateway's host number. */
function subnetOf(cidr: string | undefined): { base: number; size: number; gateway: number } | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr ?? '');
  if (!m) return null;
  const prefix = Number(m[5]);
  if (prefix < 8 || prefix > 30) return null;
  const ip = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - prefix);
  const base = ip - (ip % size);
  return { base, size, gateway: ip - base };
}

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The bridge an instance's first nic joins, through its profiles in order (instances carry no devices of their own here). */
function bridgeOf(lxd: LxdState, profiles: readonly string[]): string | null {
  for (const name of profiles) {
    const profile = lxd.profiles.find((p) => p.name === name);
    for (const d of Object.values(profile?.devices ?? {})) {
      if (d.type !== 'nic') continue;
      const bridge = d.network ?? (d.nictype === 'bridged' ? d.parent : undefined);
      if (bridge) return bridge;
    }
  }
  return null;
}

/** Each instance's addresses, by name, in the order the daemon lists its instances. */
export function instanceAddresses(lxd: LxdState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const taken = new Map<string, Set<number>>();
  for (const i of lxd.instances) {
    const bridge = i.status === 'Running' ? bridgeOf(lxd, i.profiles) : null;
    const network = lxd.networks.find((n) => n.name === bridge && n.managed);
    const subnet = subnetOf(network?.config['ipv4.address']);
    if (!network || !subnet || subnet.size < 4) {
      out.set(i.name, []);
      continue;
    }
    const used = taken.get(network.name) ?? new Set([0, subnet.gateway, subnet.size - 1]);
    taken.set(network.name, used);
    const hosts = subnet.size - 2;
    let n = 1 + (Number.parseInt(sha256(i.name).slice(0, 8), 16) % hosts);
    for (let tries = 0; used.has(n) && tries < hosts; tries += 1) n = 1 + (n % hosts);
    if (used.has(n)) {
      out.set(i.name, []);
      continue;
    }
    used.add(n);
    out.set(i.name, [dotted(subnet.base + n)]);
  }
  return out;
}
