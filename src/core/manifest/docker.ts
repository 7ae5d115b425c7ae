// `docker: {userns_remap: …}`: Docker's own user-namespace remapping inside a container. With
// `"userns-remap": "default"` in /etc/docker/daemon.json Docker creates the user `dockremap` and
// gives it subordinate ranges of its own choosing when it has none (Docker docs, "Isolate
// containers with a user namespace", docs.docker.com/engine/security/userns-remap/), and maps a
// container's uid 0 to the first subordinate id listed for that user ("UID/GID mapping",
// docs.docker.com/engine/security/rootless/uid-gid-mapping/). A range Docker chooses need not lie
// inside the LXD container's map, so nestctl plans dockremap's range itself, as it does a level's
// root entry, and writes daemon.json.

import type { FileSpec, SourcePos } from './model.js';
import { isRecord } from './words.js';

/** The user Docker's `"userns-remap": "default"` runs containers as. */
export const DOCKREMAP = 'dockremap';
/** Ids dockremap gets unless the manifest says `userns_remap: {size: N}`. */
export const DOCKREMAP_DEFAULT_SIZE = 65536;
export const DAEMON_JSON = '/etc/docker/daemon.json';

/** Whether a raw `docker:` value asks for Docker inside (`true`, or any mapping: `{}` is `true`). */
export const dockerWanted = (docker: unknown): boolean => docker === true || isRecord(docker);

/** The dockremap range's size a raw `docker:` value asks for, or null for no remapping. */
export function dockerRemapSize(docker: unknown): number | null {
  if (!isRecord(docker)) return null;
  const remap = docker['userns_remap'];
  if (remap === true) return DOCKREMAP_DEFAULT_SIZE;
  if (isRecord(remap) && typeof remap['size'] === 'number') return remap['size'];
  return null;
}

/** The daemon.json nestctl keeps in a container that remaps Docker (planned like a `files:` entry). */
export function daemonJsonFile(pos: SourcePos): FileSpec {
  const text = `${JSON.stringify({ 'userns-remap': 'default' }, null, 2)}\n`;
  return {
    path: DAEMON_JSON,
    source: null,
    data: Buffer.from(text, 'utf8').toString('base64'),
    mode: 0o644,
    uid: 0,
    gid: 0,
    pos,
    implied: 'docker.userns_remap',
  };
}
