// Instance config keys LXD and Incus apply only when a container starts: set on a running
// container, they change its config and nothing else until its next start. LXD's
// doc/reference/instance_options.md marks them "Live update: no" (Incus's page is the same).

import { lxdTrue } from '../manifest/config-keys.js';
import { IDMAP_KEYS } from './model.js';

export interface StartOnlyKey {
  /** `on`: only turning it on waits for a start (turning it off leaves what it made harmless until then). */
  when: 'on' | 'change';
  /** What the daemon does only at start, for "LXD … only when c1 starts". */
  fact: string;
}

/** The one table of them; `fact` fits "LXD <fact> only when c1 starts". */
export const START_ONLY_KEYS: Readonly<Record<string, StartOnlyKey>> = {
  // AppArmor is live-updated, but the uncovered /proc and /sys nesting needs (`proc dev/.lxc/proc`,
  // `sys dev/.lxc/sys`) are mount entries of the container's start (initLXC in
  // lxd/instance/drivers/driver_lxc.go, under `if d.IsNesting()`): a nested container's start
  // fails to mount proc until then.
  'security.nesting': { when: 'on', fact: 'mounts what nesting needs' },
  // Seccomp filters are loaded when the container starts (initLXC, lxc.seccomp.profile).
  'security.syscalls.intercept.mknod': { when: 'change', fact: 'loads the syscall interception' },
  'security.syscalls.intercept.setxattr': { when: 'change', fact: 'loads the syscall interception' },
  // Written into the liblxc config only at start (initLXC).
  'raw.lxc': { when: 'change', fact: 'applies raw.lxc' },
  // A changed id map lands in volatile.idmap.next and is applied by the next start (startCommon).
  ...Object.fromEntries(IDMAP_KEYS.map((k) => [k, { when: 'change', fact: 'applies the new id map' } satisfies StartOnlyKey])),
};

/** The keys of a config change that wait for the container's next start, in table order. */
export function startOnlyChanges(before: Record<string, string>, set: Record<string, string>, unset: readonly string[]): string[] {
  return Object.entries(START_ONLY_KEYS)
    .filter(([key, { when }]) => {
      if (unset.includes(key)) return when === 'change';
      if (!Object.hasOwn(set, key)) return false;
      return when === 'on' ? lxdTrue(set[key]!) && !lxdTrue(before[key] ?? '') : set[key] !== before[key];
    })
    .map(([key]) => key);
}

/** "mounts what nesting needs and loads the mknod interception": each fact once, in table order. */
export function startOnlyFacts(keys: readonly string[]): string {
  const facts = [...new Set(keys.flatMap((k) => (START_ONLY_KEYS[k] ? [START_ONLY_KEYS[k].fact] : [])))];
  return facts.length <= 1 ? (facts[0] ?? '') : `${facts.slice(0, -1).join(', ')} and ${facts.at(-1)}`;
}
