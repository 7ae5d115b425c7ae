// An apply holds the lock of every remote host it touches (the nestctl-lock profile on each
// server, adapters/lxd/remote-host.ts), taken in manifest order; when one is held by someone else
// the ones already taken are given back before the refusal (which names the holder) goes up.

import type { HostConnection } from '../ports/remote.js';

/** Resolves to the release of every lock taken; release tries each one and then throws the first failure. */
export async function lockRemotes(hosts: readonly HostConnection[], owner: string): Promise<() => Promise<void>> {
  const releases: Array<() => Promise<void>> = [];
  const releaseAll = async (): Promise<void> => {
    const results = await Promise.allSettled(releases.map((r) => r()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    for (const h of hosts) if (h.remote) releases.push(await h.remote.lock(owner));
  } catch (error) {
    await releaseAll().catch(() => undefined);
    throw error;
  }
  return releaseAll;
}
