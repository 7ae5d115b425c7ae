// A managed container's config is owned like Terraform's attributes: what the manifest (and the
// tree) asks for is set, any other key is drift and is unset. LXD's own keys and nestctl's
// markers are never drift; `ignore_changes` leaves the keys it names alone once created.

import { IDMAP_KEYS } from '../flavour/index.js';
import { ownedByOthers } from '../manifest/config-keys.js';

export interface ConfigChanges {
  /** Keys to set to the manifest's value. */
  set: Record<string, string>;
  /** Keys to remove (drift). */
  unset: string[];
  /** The current value of every key set or unset that has one. */
  before: Record<string, string>;
}

/**
 * Whether `key` is named by an `ignore_changes` entry: the key itself, or `prefix.*`. The id map
 * keys never are: the id allocation of the whole tree depends on them.
 */
export const ignored = (key: string, ignoreChanges: readonly string[]): boolean =>
  !IDMAP_KEYS.includes(key) && ignoreChanges.some((e) => (e.endsWith('.*') ? key.startsWith(e.slice(0, -1)) : key === e));

/** `ownsAll`: the container is nestctl's, so keys the manifest does not name are drift. */
export function configChanges(
  current: Record<string, string>,
  desired: Record<string, string>,
  ignoreChanges: readonly string[],
  ownsAll: boolean,
): ConfigChanges {
  const out: ConfigChanges = { set: {}, unset: [], before: {} };
  for (const [k, v] of Object.entries(desired)) {
    if (current[k] === v || ignored(k, ignoreChanges)) continue;
    out.set[k] = v;
    if (current[k] !== undefined) out.before[k] = current[k];
  }
  if (!ownsAll) return out;
  for (const [k, v] of Object.entries(current)) {
    if (Object.hasOwn(desired, k) || ownedByOthers(k) || ignored(k, ignoreChanges)) continue;
    out.unset.push(k);
    out.before[k] = v;
  }
  out.unset.sort();
  return out;
}
