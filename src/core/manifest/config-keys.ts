// LXD instance config keys and values as the manifest may use them.

import { closest } from './words.js';

export type ConfigValue = string | number | boolean;

export const KEY_RULE =
  'LXD config keys are lowercase letters, digits, "_" and "-" separated by dots (like limits.cpu); user.* and environment.* keys are free-form after the prefix (no "=", spaces or control characters)';

/** After a free-form prefix: anything LXD and `lxc config set k=v` can carry as a key. */
const FREE_FORM = /^(?:user|environment)\.[^\s=\p{Cc}]+$/u;
const KEY = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;

/**
 * The container config keys LXD 5.x knows: InstanceConfigKeysAny and InstanceConfigKeysContainer
 * in LXD's shared/instance.go (VM-only keys left out; volatile.* below). The hugepages keys are
 * the one place LXD uses capitals, so they are matched exactly here.
 */
export const LXD_CONFIG_KEYS: readonly string[] = [
  'boot.autostart',
  'boot.autostart.delay',
  'boot.autostart.priority',
  'boot.host_shutdown_timeout',
  'boot.stop.priority',
  'cloud-init.network-config',
  'cloud-init.user-data',
  'cloud-init.vendor-data',
  'cluster.evacuate',
  'limits.cpu',
  'limits.cpu.allowance',
  'limits.cpu.priority',
  'limits.disk.priority',
  'limits.hugepages.1GB',
  'limits.hugepages.1MB',
  'limits.hugepages.2MB',
  'limits.hugepages.64KB',
  'limits.memory',
  'limits.memory.enforce',
  'limits.memory.swap',
  'limits.memory.swap.priority',
  'limits.network.priority',
  'limits.processes',
  'linux.kernel_modules',
  'migration.incremental.memory',
  'migration.incremental.memory.goal',
  'migration.incremental.memory.iterations',
  'nvidia.driver.capabilities',
  'nvidia.require.cuda',
  'nvidia.require.driver',
  'nvidia.runtime',
  'raw.apparmor',
  'raw.idmap',
  'raw.lxc',
  'raw.seccomp',
  'security.devlxd',
  'security.devlxd.images',
  'security.idmap.base',
  'security.idmap.isolated',
  'security.idmap.size',
  'security.nesting',
  'security.privileged',
  'security.protection.delete',
  'security.protection.shift',
  'security.syscalls.allow',
  'security.syscalls.blacklist',
  'security.syscalls.blacklist_compat',
  'security.syscalls.blacklist_default',
  'security.syscalls.deny',
  'security.syscalls.deny_compat',
  'security.syscalls.deny_default',
  'security.syscalls.intercept.bpf',
  'security.syscalls.intercept.bpf.devices',
  'security.syscalls.intercept.mknod',
  'security.syscalls.intercept.mount',
  'security.syscalls.intercept.mount.allowed',
  'security.syscalls.intercept.mount.fuse',
  'security.syscalls.intercept.mount.shift',
  'security.syscalls.intercept.sched_setscheduler',
  'security.syscalls.intercept.setxattr',
  'security.syscalls.intercept.sysinfo',
  'security.syscalls.whitelist',
  'snapshots.expiry',
  'snapshots.pattern',
  'snapshots.schedule',
  'snapshots.schedule.stopped',
];

/** Key families LXD accepts with any suffix (ConfigKeyChecker in shared/instance.go). */
const OPEN_PREFIXES = ['user.', 'environment.', 'limits.kernel.', 'linux.sysctl.'];

/** Keys LXD writes itself; a value set by hand would be overwritten or break the instance. */
const LXD_OWNED: Record<string, string> = {
  'volatile.': 'LXD keeps its own state (MAC addresses, the applied id map) in volatile.* keys',
  'image.': 'LXD copies the image properties into image.* keys when it creates the container',
};

/** nestctl marks the instances it manages with these (see plan/desired-config.ts). */
const RESERVED = 'user.nestctl';

const reserved = (key: string): boolean => key === RESERVED || key.startsWith(`${RESERVED}.`);

/**
 * Keys LXD writes itself (volatile.*, image.*) and nestctl's markers (user.nestctl.*): on a
 * container nestctl manages, they are never drift, whatever the manifest says.
 */
export const ownedByOthers = (key: string): boolean => reserved(key) || Object.keys(LXD_OWNED).some((p) => key.startsWith(p));

/** Why an `ignore_changes` entry (a key, or `prefix.*`) is wrong, or null. */
export function ignoredKeyProblem(entry: string, where: string): KeyProblem | null {
  const prefix = entry.endsWith('.*') ? entry.slice(0, -1) : null;
  if (prefix === null) {
    if (ownedByOthers(entry))
      return {
        message: `ignore_changes of ${where} names "${entry}", which is never drift`,
        hint: 'volatile.*, image.* and user.nestctl.* keys are always left alone; remove the entry',
      };
    const problem = configKeyProblem(entry, `ignore_changes of ${where}`);
    if (problem && ID_KEYS[entry])
      return { message: `ignore_changes of ${where} names "${entry}", which nestctl derives from idmap:`, hint: problem.hint };
    return problem;
  }
  if (!KEY.test(prefix.slice(0, -1))) {
    return {
      message: `invalid ignore_changes entry ${JSON.stringify(entry)} in ${where}`,
      hint: `a config key, or a dotted prefix followed by .* (like user.*); ${KEY_RULE}`,
    };
  }
  if (ownedByOthers(prefix)) {
    return {
      message: `ignore_changes of ${where} names "${entry}", which covers keys LXD or nestctl own`,
      hint: 'volatile.*, image.* and user.nestctl.* keys are always left alone; name a narrower prefix, like user.team.*',
    };
  }
  return null;
}

/**
 * Keys that change a container's id map, which LXD recomputes when any of them changes. The
 * allocator models only `idmap:`, so any of these would make LXD map ids nestctl never planned
 * for; security.privileged maps the container's root to its parent's root.
 */
const ID_KEYS: Record<string, string> = {
  'security.idmap.isolated': 'write idmap: {isolated: true} instead, so nestctl allocates the slice',
  'security.idmap.size': 'write idmap: {isolated: true, size: N} instead, so nestctl allocates the slice',
  'security.idmap.base': 'nestctl places isolated slices itself; write idmap: {isolated: true, size: N} and leave the base to it',
  'raw.idmap': 'nestctl cannot account for hand-written id mappings; give the container its own ids with idmap: {isolated: true, size: N}',
  'security.privileged':
    "a privileged container's root is root on its parent, which defeats nesting unprivileged containers; remove the key (use idmap: {isolated: true, size: N} for ids of its own)",
};

/** Keys whose values LXD reads as multi-line text (config files, scripts, YAML). */
const MULTI_LINE = (key: string): boolean =>
  ['raw.lxc', 'raw.apparmor', 'raw.seccomp'].includes(key) || key.startsWith('cloud-init.') || key.startsWith('user.');

/** What is wrong with a key; the caller places it (checks.ts spreads it into a Diagnostic). */
export interface KeyProblem {
  message: string;
  hint: string;
}

export function configKeyProblem(key: string, where: string): KeyProblem | null {
  if (key === RESERVED || key.startsWith(`${RESERVED}.`)) {
    return {
      message: `config key "${key}" in ${where} is reserved for nestctl`,
      hint: 'nestctl marks the containers it manages with user.nestctl.* keys; choose another user.* key',
    };
  }
  const known = LXD_CONFIG_KEYS.includes(key);
  if (!known && !FREE_FORM.test(key) && !KEY.test(key)) {
    const guess = closest(key, LXD_CONFIG_KEYS);
    return {
      message: `invalid config key ${JSON.stringify(key)} in ${where}`,
      hint: guess ? `did you mean "${guess}"? ${KEY_RULE}` : KEY_RULE,
    };
  }
  const idHint = ID_KEYS[key];
  if (idHint) return { message: `config key "${key}" in ${where} would change the id map behind nestctl's back`, hint: idHint };
  const owned = Object.keys(LXD_OWNED).find((p) => key.startsWith(p));
  if (owned) return { message: `config key "${key}" in ${where} is set by LXD itself`, hint: `${LXD_OWNED[owned]}; remove the key` };
  if (known || OPEN_PREFIXES.some((p) => key.startsWith(p) && key.length > p.length)) return null;
  const guess = closest(key, LXD_CONFIG_KEYS);
  return {
    message: `unknown config key "${key}" in ${where}`,
    hint: `${guess ? `did you mean "${guess}"? ` : ''}LXD refuses keys it does not know; user.* keys are free for your own notes`,
  };
}

/** Why LXD should not be given this value, or null. */
export function configValueProblem(key: string, value: ConfigValue): string | null {
  if (typeof value !== 'string') return null;
  const multi = MULTI_LINE(key);
  // eslint-disable-next-line no-control-regex
  const bad = (multi ? /[\u0000-\u0009\u000b-\u001f\u007f]/ : /[\u0000-\u001f\u007f]/).exec(value);
  if (!bad) return null;
  const code = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return bad[0] === '\n' ? 'it spans several lines, which LXD reads as one line here' : `it contains the control character ${code}`;
}

/** LXD stores every config value as a string: true → "true", 5 → "5". */
export const lxdString = (v: ConfigValue): string => String(v);

/** LXD's own reading of booleans in config (shared.IsTrue / IsFalse). */
export const lxdTrue = (v: ConfigValue): boolean => ['true', '1', 'yes', 'on'].includes(String(v).toLowerCase());
export const lxdFalse = (v: ConfigValue): boolean => ['false', '0', 'no', 'off'].includes(String(v).toLowerCase());
