// Manifest values that end up as words on a command line or in a root-owned file: the subid
// owner, image references, profile names, the restart command. Each is checked here so that no
// value can turn into an option (a leading "-") or an extra line (a newline in /etc/subuid).

/** useradd's rule (shadow, libmisc/chkname.c is_valid_user_name): [a-z_][a-z0-9_-]*[$]?, at most 32. */
export const OWNER_RULE =
  'a user name as useradd accepts it: lowercase letters, digits, "_" and "-", starting with a letter or "_", optionally ending in "$", at most 32 characters';
const OWNER = /^[a-z_][a-z0-9_-]*\$?$/;
const OWNER_MAX = 32;

export function ownerProblem(owner: string): string | null {
  if (owner.length > OWNER_MAX) return `it is ${owner.length} characters long (at most ${OWNER_MAX})`;
  return OWNER.test(owner) ? null : (firstBad(owner, /[^a-z0-9_$-]/) ?? 'it must start with a lowercase letter or "_"');
}

export const IMAGE_RULE =
  'an image is an alias or fingerprint on the parent LXD ("busybox", "0123abcd4567"), or REMOTE:ALIAS ("images:debian/12"): letters, digits, ".", "_", "-", "/" and "+", not starting with "-"';
const REMOTE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ALIAS = /^[A-Za-z0-9_][A-Za-z0-9._/+-]*$/;

export function imageProblem(ref: string): string | null {
  if (ref.startsWith('-')) return 'it starts with "-", so lxc would read it as an option';
  const parts = ref.split(':');
  if (parts.length > 2) return 'it has more than one ":"';
  const [remote, alias] = parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : [null, parts[0] ?? ''];
  if (remote !== null && remote === '') return 'the remote before ":" is empty';
  if (remote !== null && !REMOTE.test(remote)) return `the remote ${JSON.stringify(remote)} is not a remote name`;
  if (alias === '') return 'the alias after ":" is empty';
  if (alias.startsWith('-')) return 'the alias starts with "-", so lxc would read it as an option';
  if (alias.endsWith('/') || alias.includes('//')) return 'the alias has an empty "/" part';
  return ALIAS.test(alias) ? null : (firstBad(alias, /[^A-Za-z0-9._/+-]/) ?? 'the alias must start with a letter, digit or "_"');
}

export const REMOTE_RULE =
  'a remote name as "lxc remote list" shows it: letters, digits, ".", "_" and "-", starting with a letter or digit';

/** A client remote name: a host's `remote:`, as the part of an image reference before ":". */
export function remoteProblem(name: string): string | null {
  if (name.startsWith('-')) return 'it starts with "-", so lxc would read it as an option';
  return REMOTE.test(name) ? null : (firstBad(name, /[^A-Za-z0-9._-]/) ?? 'it must start with a letter or digit');
}

export const TARGET_RULE =
  'target is a cluster member name ("m2") or "@" and a cluster group ("@fast"): letters, digits, ".", "_" and "-", starting with a letter or digit';

/** `--target` takes a member or @group; the word must not read as an option. */
export function targetProblem(target: string): string | null {
  const name = target.startsWith('@') ? target.slice(1) : target;
  if (name.startsWith('-')) return 'it starts with "-", so lxc would read it as an option';
  if (name === '') return 'the group after "@" is empty';
  return REMOTE.test(name) ? null : (firstBad(name, /[^A-Za-z0-9._-]/) ?? 'it must start with a letter or digit');
}

export const PROJECT_RULE = 'a project name on the remote: no spaces, "/" or control characters, not "." or "..", not starting with "-"';

export const PROFILE_RULE =
  'profile names are the names of profiles on the parent LXD: no spaces, "/" or control characters, not "." or "..", not starting with "-"';

/** LXD refuses "/" and the dot names in profile and project names; a leading "-" would be an lxc option. */
export function profileProblem(name: string): string | null {
  if (name.startsWith('-')) return 'it starts with "-", so lxc would read it as an option';
  if (name === '.' || name === '..') return 'it is a directory name';
  return firstBad(name, /[\s/\p{Cc}]/u);
}

export const projectProblem = profileProblem;

/** The restart command's first word is the program; later words may be options (--reload). */
export function restartWordProblem(word: string, index: number): string | null {
  if (index === 0 && word.startsWith('-')) return 'the program name starts with "-"';
  return firstBad(word, /\p{Cc}/u);
}

function firstBad(text: string, re: RegExp): string | null {
  const bad = re.exec(text);
  if (!bad) return null;
  const c = bad[0];
  const shown = /[\p{Cc}\s]/u.test(c) ? `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : JSON.stringify(c);
  return `${shown} is not allowed`;
}
