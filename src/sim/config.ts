// Profiles applied to an instance: LXD's expanded config and devices (profiles in order, then the
// instance's own keys on top), and the root-disk lookup.

import type { InstanceState, LxdState } from './state.js';

export function expandedConfig(lxd: LxdState, profiles: readonly string[], own: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of profiles) Object.assign(out, lxd.profiles.find((p) => p.name === name)?.config ?? {});
  return Object.assign(out, own);
}

export function expandedDevices(lxd: LxdState, profiles: readonly string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of profiles) Object.assign(out, lxd.profiles.find((p) => p.name === name)?.devices ?? {});
  return out;
}

export const instanceExpanded = (lxd: LxdState, inst: InstanceState): Record<string, string> =>
  expandedConfig(lxd, inst.profiles, inst.config);

/** Only `keys` of the expanded config: what expandedConfig would say for each, without building all of it. */
export function expandedKeys(lxd: LxdState, inst: InstanceState, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const profiles = inst.profiles.map((name) => lxd.profiles.find((p) => p.name === name)?.config ?? {});
  const sources = [inst.config, ...profiles.reverse()];
  for (const key of keys) {
    const from = sources.find((c) => Object.hasOwn(c, key));
    if (from) out[key] = from[key]!;
  }
  return out;
}

/** isRootDiskDevice: a disk at "/" with no source. */
export function rootDisk(devices: Record<string, Record<string, string>>): Record<string, string> | null {
  return Object.values(devices).find((d) => d.type === 'disk' && d.path === '/' && !d.source) ?? null;
}
