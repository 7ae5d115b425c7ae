// Raw lxc.* keys of an LXC node's `config:`: their syntax, the ones nestctl owns, and the LXC 1.0
// names LXC 2.1 renamed (LXC 3.0 dropped the old ones; a config still using them fails to load).

import type { ConfigValue, KeyProblem } from './config-keys.js';
import { closest } from './words.js';

export const LXC_KEY_RULE =
  'LXC config keys start with "lxc." and are lowercase letters, digits and "_" separated by dots (like lxc.net.0.link or lxc.cgroup2.memory.max)';
const LXC_KEY = /^lxc(?:\.[a-z0-9_]+)+$/;

/**
 * LXC 1.0 → 2.1 key names, from LXC's own converter (lxc/lxc src/lxc/cmd/lxc-update-config.in).
 * `lxc.network.N.*` and `lxc.network.*` become `lxc.net.N.*` (see legacyNetKey).
 */
const RENAMED: Record<string, string> = {
  'lxc.id_map': 'lxc.idmap',
  'lxc.pts': 'lxc.pty.max',
  'lxc.tty': 'lxc.tty.max',
  'lxc.devttydir': 'lxc.tty.dir',
  'lxc.aa_profile': 'lxc.apparmor.profile',
  'lxc.aa_allow_incomplete': 'lxc.apparmor.allow_incomplete',
  'lxc.se_context': 'lxc.selinux.context',
  'lxc.mount': 'lxc.mount.fstab',
  'lxc.utsname': 'lxc.uts.name',
  'lxc.seccomp': 'lxc.seccomp.profile',
  'lxc.console': 'lxc.console.path',
  'lxc.haltsignal': 'lxc.signal.halt',
  'lxc.rebootsignal': 'lxc.signal.reboot',
  'lxc.stopsignal': 'lxc.signal.stop',
  'lxc.syslog': 'lxc.log.syslog',
  'lxc.loglevel': 'lxc.log.level',
  'lxc.logfile': 'lxc.log.file',
  'lxc.init_cmd': 'lxc.init.cmd',
  'lxc.init_uid': 'lxc.init.uid',
  'lxc.init_gid': 'lxc.init.gid',
  'lxc.limit': 'lxc.prlimit',
  'lxc.rootfs': 'lxc.rootfs.path',
};

/** Keys the converter deletes: LXC 2.1 has no replacement. */
const REMOVED = ['lxc.rootfs.backend', 'lxc.pivotdir', 'lxc.kmsg'];

/** The LXC 2.1 name of an old `lxc.network` key: lxc.network.0.link and lxc.network.link → lxc.net.0.link. */
function legacyNetKey(key: string): string | null {
  const m = /^lxc\.network(?:\.(\d+))?(\..+)?$/.exec(key);
  if (!m) return null;
  return `lxc.net.${m[1] ?? '0'}${m[2] ?? ''}`;
}

/** The new name of an LXC 1.0 key, or null when the key is not an old one. */
export function renamedLxcKey(key: string): string | null {
  if (RENAMED[key]) return RENAMED[key];
  // lxc.limit.nofile → lxc.prlimit.nofile: the only renamed key that takes a suffix.
  if (key.startsWith('lxc.limit.')) return `lxc.prlimit${key.slice('lxc.limit'.length)}`;
  return legacyNetKey(key);
}

/** Keys nestctl writes itself on every LXC container it makes. */
const OWNED: Record<string, string> = {
  'lxc.idmap':
    "nestctl writes the id map from the range it allocates (the user's subuid/subgid line, or a slice of root's); remove the key",
  'lxc.include':
    "nestctl includes only LXC's own common.conf, userns.conf and, for a container with containers inside, nesting.conf; an include of another file would bring in keys nobody checked; write the keys themselves",
};

export function lxcKeyProblem(key: string, where: string): KeyProblem | null {
  const renamed = renamedLxcKey(key);
  if (renamed)
    return {
      message: `config key "${key}" in ${where} is an LXC 1.0 name that LXC 3.0 and later refuse`,
      hint: `write "${renamed}" instead (LXC 2.1 renamed it; see lxc-update-config)`,
    };
  if (REMOVED.includes(key))
    return { message: `config key "${key}" in ${where} no longer exists in LXC`, hint: 'LXC 2.1 removed it; remove the key' };
  if (!LXC_KEY.test(key)) {
    const guess = closest(key, [...Object.values(RENAMED), 'lxc.net.0.link', 'lxc.net.0.type']);
    return {
      message: `invalid LXC config key ${JSON.stringify(key)} in ${where}`,
      hint: guess ? `did you mean "${guess}"? ${LXC_KEY_RULE}` : LXC_KEY_RULE,
    };
  }
  const owned = OWNED[key];
  if (owned) return { message: `config key "${key}" in ${where} is set by nestctl`, hint: owned };
  return null;
}

/** LXC reads its config line by line: a value is one line without control characters. */
export function lxcValueProblem(value: ConfigValue): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f]/.exec(value);
  if (!bad) return null;
  if (bad[0] === '\n' || bad[0] === '\r') return 'it spans several lines; LXC reads its config one key = value per line';
  return `it contains the control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}
