// The config an instance must carry: the user's keys plus what the tree implies.

import type { NodeAllocation } from '../ids/allocate.js';
import { type ContainerSpec, hostsContainers } from '../manifest/model.js';

/** Keys nestctl writes on instances it creates, so destroy/prune only ever touch its own. */
export const MARKER_MANAGED = 'user.nestctl.managed';
export const MARKER_PATH = 'user.nestctl.path';
/** sha256 of the canonical JSON of the setup commands that last ran to the end in the container. */
export const MARKER_SETUP = 'user.nestctl.setup';

/** A key nestctl adds to the manifest's own, with why (shown in the plan next to the key). */
export interface ImpliedKey {
  value: string;
  why: string;
}

// What Docker needs of an unprivileged LXD/Incus container: nesting for the namespaces and
// cgroups it creates for its containers; mknod interception for the overlayfs whiteouts
// (char 0:0) overlay2 creates, and setxattr interception for the trusted.overlay.* xattrs it sets
// on directories, the two being what LXD's "System call interception" page allows an unprivileged
// container (doc/syscall-interception; Incus has the same keys and page). The three keys together
// are LXD's own recipe, "How to run Docker inside LXD containers" (discourse.ubuntu.com/t/2673).
const DOCKER_KEYS: Record<string, ImpliedKey> = {
  'security.nesting': { value: 'true', why: 'docker: true; Docker creates namespaces' },
  'security.syscalls.intercept.mknod': { value: 'true', why: 'docker: true; overlay2 whiteouts need mknod' },
  'security.syscalls.intercept.setxattr': { value: 'true', why: 'docker: true; overlay2 needs trusted.* xattrs' },
};

/** The keys the tree implies for a container, each with its reason: the one list of them. */
export function impliedConfig(spec: ContainerSpec, node: NodeAllocation): Record<string, ImpliedKey> {
  const implied: Record<string, ImpliedKey> = {};
  if (spec.docker) Object.assign(implied, DOCKER_KEYS);
  if (hostsContainers(spec)) {
    const docker = implied['security.nesting'];
    implied['security.nesting'] = { value: 'true', why: docker ? `it holds containers; ${docker.why}` : 'it holds containers' };
  }
  if (node.slice) {
    implied['security.idmap.isolated'] = { value: 'true', why: 'idmap.isolated: true' };
    implied['security.idmap.size'] = {
      value: String(node.slice.size),
      why: spec.idmap?.size
        ? `idmap.size: ${spec.idmap.size}`
        : hostsContainers(spec)
          ? 'the ids it and everything inside it need'
          : 'the ids it needs',
    };
  }
  return implied;
}

/** Keys the manifest asks for (user keys win over implied ones only where they do not contradict). */
export function desiredConfig(spec: ContainerSpec, node: NodeAllocation): Record<string, string> {
  const implied = Object.fromEntries(Object.entries(impliedConfig(spec, node)).map(([k, v]) => [k, v.value]));
  return { ...spec.config, ...implied };
}

/** Why each of `keys` is set, for those the tree implies (a step's `implied`); null when none is. */
export function impliedReasons(spec: ContainerSpec, node: NodeAllocation, keys: string[]): Record<string, string> | null {
  const implied = impliedConfig(spec, node);
  const out = Object.fromEntries(keys.filter((k) => k in implied).map((k) => [k, implied[k]!.why]));
  return Object.keys(out).length > 0 ? out : null;
}

export function markers(spec: ContainerSpec): Record<string, string> {
  return { [MARKER_MANAGED]: 'true', [MARKER_PATH]: spec.path };
}
