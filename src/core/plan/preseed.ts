// Non-interactive `lxd init --preseed` documents for a level, creating only what is missing.

import { stringify } from 'yaml';

export const POOL_NAME = 'default';

export interface PreseedNeeds {
  pool: boolean;
  bridge: boolean;
  profile: boolean;
}

// A plan of thousands of new levels asks for the same few documents (a subnet depends only on
// the levels above), and YAML stringifying each again was a tenth of planning such a tree.
// Bounded: 8 needs × 254 subnets × the flavours' bridge names.
const built = new Map<string, string>();

/** `subnet` is "10.77.N.1/24": the bridge address with its prefix. */
export function buildPreseed(needs: PreseedNeeds, subnet: string, bridge: string): string {
  const key = JSON.stringify([needs.pool, needs.bridge, needs.profile, subnet, bridge]);
  let text = built.get(key);
  if (text === undefined) {
    text = stringifyPreseed(needs, subnet, bridge);
    if (built.size < 4096) built.set(key, text);
  }
  return text;
}

function stringifyPreseed(needs: PreseedNeeds, subnet: string, bridge: string): string {
  const doc: Record<string, unknown> = {};
  if (needs.pool) doc.storage_pools = [{ name: POOL_NAME, driver: 'dir' }];
  if (needs.bridge) {
    doc.networks = [
      {
        name: bridge,
        type: 'bridge',
        config: { 'ipv4.address': subnet, 'ipv4.nat': 'false', 'ipv6.address': 'none' },
      },
    ];
  }
  if (needs.profile) {
    doc.profiles = [
      {
        name: 'default',
        devices: {
          root: { path: '/', pool: POOL_NAME, type: 'disk' },
          eth0: { name: 'eth0', network: bridge, type: 'nic' },
        },
      },
    ];
  }
  return stringify(doc);
}

/** The /24 networks ("10.77.3") in use along a chain of levels. */
export function subnetKey(cidr: string | null): string | null {
  if (!cidr) return null;
  const m = /^(\d+)\.(\d+)\.(\d+)\.\d+\/\d+$/.exec(cidr);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
}

/** First 10.77.N.1/24 not used by any level on the way from the host. */
export function chooseSubnet(usedByAncestors: Array<string | null>): string {
  const used = new Set(usedByAncestors.map(subnetKey).filter((k): k is string => k !== null));
  for (let n = 1; n < 255; n += 1) {
    if (!used.has(`10.77.${n}`)) return `10.77.${n}.1/24`;
  }
  throw new Error('no free 10.77.N.0/24 subnet');
}
