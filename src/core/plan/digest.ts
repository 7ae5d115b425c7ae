// Digests of what a plan was computed from. Key order is normalised so the same state always
// hashes the same. Clock readings are left out: the probe's own clock changes on every probe,
// and a daemon's start time is an estimate that moves by milliseconds between probes when no
// systemd records it; what a plan depends on is only whether the daemon has read the current
// subid files, and that goes in instead. Instances' addresses (read for `status`) are left out
// too: nothing is planned from them, and a new DHCP lease must not make a saved plan stale.

import { canonicalJson, sha256 } from '../hash.js';
import type { ObservedLevel, ObservedTree } from '../observed.js';
import { restartPending } from '../observe/restart-pending.js';

function withoutClocks(level: ObservedLevel): unknown {
  const daemon =
    level.daemon.kind === 'up' ? { ...level.daemon, startedAt: null, readsCurrentFiles: !restartPending(level) } : level.daemon;
  const instances = level.instances.map(({ ipv4: _ipv4, ...i }) => i);
  return { ...level, now: 0, daemon, instances };
}

export function observedDigest(tree: ObservedTree): string {
  const levels = Object.fromEntries(
    Object.entries(tree.levels).map(([path, obs]) => [path, obs.kind === 'observed' ? { ...obs, level: withoutClocks(obs.level) } : obs]),
  );
  // Without files, relayed images or members' maps the digest is what it was before they existed, so old plans stay comparable.
  const files = tree.files && Object.keys(tree.files).length > 0 ? { files: tree.files } : {};
  const relay = tree.relay ? { relay: tree.relay } : {};
  const members = tree.members ? { members: tree.members } : {};
  const extra = { ...files, ...relay, ...members };
  return sha256(canonicalJson(Object.keys(extra).length > 0 ? { levels, ...extra } : levels));
}
