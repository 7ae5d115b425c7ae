// The config an instance must carry: the user's keys plus what the tree implies.

import type { NodeAllocation } from '../ids/allocate.js';
import { type ContainerSpec, hostsContainers } from '../manifest/model.js';

/** Keys nestctl writes on instances it creates, so destroy/prune only ever touch its own. */
export const MARKER_MANAGED = 'user.nestctl.managed';
export const MARKER_PATH = 'user.nestctl.path';
/**
 * Set by the create itself and removed once LXD has finished it. LXD records an instance before
 * it unpacks the image, so a create cut short (daemon killed) leaves a stopped instance with a
 * partial rootfs that never starts; this key tells such a leftover from a finished container.
 */
export const MARKER_CREATING = 'user.nestctl.creating';
/** sha256 of the canonical JSON of the setup commands that last ran to the end in the container. */
export const MARKER_SETUP = 'user.nestctl.setup';

const DOCKER_KEYS: Record<string, string> = {
  'security.nesting': 'true',
  'security.syscalls.intercept.mknod': 'true',
  'security.syscalls.intercept.setxattr': 'true',
};

/** Keys the manifest asks for (user keys win over implied ones only where they do not contradict). */
export function desiredConfig(spec: ContainerSpec, node: NodeAllocation): Record<string, string> {
  const implied: Record<string, string> = {};
  if (hostsContainers(spec)) implied['security.nesting'] = 'true';
  if (spec.docker) Object.assign(implied, DOCKER_KEYS);
  if (node.slice) {
    implied['security.idmap.isolated'] = 'true';
    implied['security.idmap.size'] = String(node.slice.size);
  }
  return { ...spec.config, ...implied };
}

export function markers(spec: ContainerSpec): Record<string, string> {
  return { [MARKER_MANAGED]: 'true', [MARKER_PATH]: spec.path };
}
