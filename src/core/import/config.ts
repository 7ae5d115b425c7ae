// An observed container's config → what a manifest says of it: the keys a user set, with those
// the manifest has keys of its own for (docker, idmap, nesting of a container that holds
// containers) mapped back to them, and the keys no manifest can hold named with why.

import { configKeyProblem, ownedByOthers } from '../manifest/config-keys.js';

export interface ImportedConfig {
  config: Record<string, string>;
  docker: boolean;
  idmap: { isolated: true; size: number | null } | null;
  /** `# not expressible: …` lines for this container. */
  notes: string[];
  /**
   * A key that changes the id map behind nestctl's back (raw.idmap, security.privileged,
   * security.idmap.base): the container cannot be managed without changing it, so it is left out.
   */
  refused: string | null;
}

// desired-config.ts's DOCKER_KEYS: `docker: true` is exactly these three, each "true".
const DOCKER_KEYS = ['security.nesting', 'security.syscalls.intercept.mknod', 'security.syscalls.intercept.setxattr'];
const REFUSED_KEYS = ['security.idmap.base', 'raw.idmap', 'security.privileged'];
const MIN_SLICE = 65536;

/** `holds`: the manifest gives it containers (nestctl then sets security.nesting itself). */
export function importConfig(raw: Record<string, string>, holds: boolean): ImportedConfig {
  const out: ImportedConfig = { config: {}, docker: false, idmap: null, notes: [], refused: null };
  const user = Object.fromEntries(Object.entries(raw).filter(([k]) => !ownedByOthers(k)));
  for (const key of REFUSED_KEYS) {
    if (user[key] === undefined || (key === 'security.privileged' && user[key] === 'false')) continue;
    out.refused = `${key}=${JSON.stringify(user[key])} changes its id map in a way nestctl does not allocate (${configKeyProblem(key, 'it')?.hint ?? key})`;
    return out;
  }
  delete user['security.privileged'];
  if (DOCKER_KEYS.every((k) => user[k] === 'true')) {
    out.docker = true;
    for (const k of DOCKER_KEYS) delete user[k];
  } else if (holds && user['security.nesting'] === 'true') delete user['security.nesting'];
  const isolated = user['security.idmap.isolated'];
  const size = user['security.idmap.size'];
  delete user['security.idmap.isolated'];
  delete user['security.idmap.size'];
  if (isolated === 'true') {
    const n = size !== undefined && /^[0-9]+$/.test(size) ? Number(size) : null;
    out.idmap = { isolated: true, size: n !== null && n >= MIN_SLICE ? n : null };
    if (out.idmap.size === null)
      out.notes.push(
        size === undefined
          ? 'security.idmap.size is not set; nestctl always sets the size of the slice it allocates, so plan sets it (and restarts the container for its new map)'
          : `security.idmap.size=${JSON.stringify(size)} is not a slice of at least ${MIN_SLICE} ids; nestctl sizes the slice itself`,
      );
  } else {
    if (isolated !== undefined)
      out.notes.push(
        `security.idmap.isolated=${JSON.stringify(isolated)} is left out (only idmap: {isolated: true} says it); plan unsets it`,
      );
    if (size !== undefined) out.notes.push(`security.idmap.size=${JSON.stringify(size)} without isolated is left out; plan unsets it`);
  }
  for (const [k, v] of Object.entries(user).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const problem = configKeyProblem(k, 'the manifest');
    if (problem) out.notes.push(`${k}=${JSON.stringify(v)}: ${problem.message} (${problem.hint}); plan unsets it`);
    else out.config[k] = v;
  }
  return out;
}
