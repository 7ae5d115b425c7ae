// `lxd init --preseed` (or `incus admin init --preseed`) with YAML on stdin, applied the way
// LXD's initDataNodeApply does: storage pools, then networks, then profiles; each one created
// when new and updated (config merged, devices merged) when it exists; all reverted on failure.

import { flavourInfo } from '../core/flavour/index.js';
import { parse } from 'yaml';
import { lxcFailure } from './errors.js';
import { activate } from './power.js';
import { reach } from './reach.js';
import type { LxdState, NetworkState, PoolState, ProfileState, World } from './state.js';
import { findLevel, nextSeq, record, tick } from './world.js';

type Raw = Record<string, unknown>;

/** `fmt.Sprintf("%v", v)` of a YAML scalar. */
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v as Raw)) out[k] = str(x);
  return out;
}

function list(v: unknown): Raw[] {
  return Array.isArray(v) ? v.filter((x): x is Raw => Boolean(x) && typeof x === 'object') : [];
}

/** Apply to a copy; the caller commits it only when everything succeeded (LXD's revert). */
function apply(lxd: LxdState, doc: Raw, world: World): { pools: PoolState[]; networks: NetworkState[]; profiles: ProfileState[] } {
  const pools = lxd.pools.map((p) => ({ ...p, config: { ...p.config } }));
  const networks = lxd.networks.map((n) => ({ ...n, config: { ...n.config } }));
  const profiles = lxd.profiles.map((p) => ({
    ...p,
    config: { ...p.config },
    devices: Object.fromEntries(Object.entries(p.devices).map(([k, d]) => [k, { ...d }])),
  }));

  for (const raw of list(doc.storage_pools)) {
    const name = str(raw.name);
    const driver = str(raw.driver);
    const current = pools.find((p) => p.name === name);
    if (!current) {
      if (!driver) throw new Error(`Failed to create storage pool ${JSON.stringify(name)}: Storage pool driver must be specified`);
      pools.push({ name, driver, config: strMap(raw.config) });
      continue;
    }
    if (current.driver !== driver)
      throw new Error(
        `Storage pool ${JSON.stringify(name)} is of type ${JSON.stringify(current.driver)} instead of ${JSON.stringify(driver)}`,
      );
    Object.assign(current.config, strMap(raw.config));
  }

  for (const raw of list(doc.networks)) {
    const name = str(raw.name);
    const current = networks.find((n) => n.name === name);
    if (current) {
      Object.assign(current.config, strMap(raw.config));
      continue;
    }
    const config = strMap(raw.config);
    // LXD picks a free private subnet for "auto" (or when unset); deterministic here.
    if (!config['ipv4.address'] || config['ipv4.address'] === 'auto') config['ipv4.address'] = `10.${200 + (nextSeq(world) % 50)}.0.1/24`;
    networks.push({ name, type: str(raw.type) || 'bridge', managed: true, config });
  }

  for (const raw of list(doc.profiles)) {
    const name = str(raw.name);
    const devices: Record<string, Record<string, string>> = {};
    if (raw.devices && typeof raw.devices === 'object') for (const [k, d] of Object.entries(raw.devices as Raw)) devices[k] = strMap(d);
    for (const [dev, d] of Object.entries(devices)) {
      // Device validation (wording approximate): the pool or network a device names must exist.
      if (d.type === 'disk' && d.pool && !pools.some((p) => p.name === d.pool)) {
        throw new Error(
          `Failed to update profile ${JSON.stringify(name)}: Device validation failed for ${JSON.stringify(dev)}: Failed loading device ${JSON.stringify(dev)}: Storage pool not found`,
        );
      }
      if (d.type === 'nic' && d.network && !networks.some((n) => n.name === d.network)) {
        throw new Error(
          `Failed to update profile ${JSON.stringify(name)}: Device validation failed for ${JSON.stringify(dev)}: Failed loading device ${JSON.stringify(dev)}: Network not found`,
        );
      }
    }
    const current = profiles.find((p) => p.name === name);
    if (!current) {
      profiles.push({ name, config: strMap(raw.config), devices });
      continue;
    }
    Object.assign(current.config, strMap(raw.config));
    for (const [k, d] of Object.entries(devices)) current.devices[k] = { ...(current.devices[k] ?? {}), ...d };
  }
  return { pools, networks, profiles };
}

export function initDaemon(world: World, path: string, preseedYaml: string): void {
  const argv = [...flavourInfo(findLevel(world, path)?.lxd?.flavour ?? 'debian').initArgv];
  const lxd = activate(world, reach(world, path, argv), argv); // waitready first
  let doc: unknown;
  try {
    doc = parse(preseedYaml) ?? {};
  } catch (e) {
    throw lxcFailure(path, argv, `Failed to parse the preseed: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw lxcFailure(path, argv, 'Failed to parse the preseed: not a mapping');
  let next: ReturnType<typeof apply>;
  try {
    next = apply(lxd, doc as Raw, world);
  } catch (e) {
    throw lxcFailure(path, argv, (e as Error).message);
  }
  lxd.pools = next.pools;
  lxd.networks = next.networks;
  lxd.profiles = next.profiles;
  tick(world);
  record(world, path, 'init', `pools=${lxd.pools.map((p) => p.name).join(',')} networks=${lxd.networks.map((n) => n.name).join(',')}`);
}
