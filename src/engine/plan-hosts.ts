// Planning a manifest of several hosts: each host's tree is observed and planned on its own (at
// most `parallel` hosts at once), then the plans are put together (core/plan/hosts.ts). A remote
// is asked first who it is (recorded in the plan) and how many ids its daemon hands out (an empty
// probe instance); a remote too small for its tree is a plan problem with the lines to add there,
// unless its shell: reaches the machine (then its entry and restart are planned there).

import type { Diagnostic } from '../core/diagnostics.js';
import { sourceAt } from '../core/diagnostics.js';
import { allocate } from '../core/ids/allocate.js';
import { remoteRangeVerdict } from '../core/ids/remote-range.js';
import { hasLxcPath, hasPath, type HostSpec, type Manifest } from '../core/manifest/model.js';
import type { ServerIdentity } from '../core/observe/parse-server.js';
import { type HostPlan, mergeHostPlans } from '../core/plan/hosts.js';
import { hostManifest } from '../core/manifest/hosts.js';
import type { ObservedTree } from '../core/observed.js';
import type { HostConnection } from '../ports/remote.js';
import type { OneHostPlanner, PipelineOptions, PipelineResult } from './plan-types.js';

const DEFAULT_PARALLEL = 4;

type HostOutcome = { ok: true; part: HostPlan | null; tree: ObservedTree | null } | { ok: false; problems: Diagnostic[] };

export async function planEachHost(
  manifest: Manifest,
  connections: readonly HostConnection[],
  options: PipelineOptions,
  planOne: OneHostPlanner,
): Promise<PipelineResult> {
  const outcomes = await inTurns(manifest.hosts, options.parallel ?? DEFAULT_PARALLEL, (host) =>
    planHost(manifest, host, connections, options, planOne),
  );
  const problems = outcomes.flatMap((o) => (o.ok ? [] : o.problems));
  if (problems.length > 0) return { ok: false, problems, tree: null };
  const parts = outcomes.flatMap((o) => (o.ok && o.part ? [o.part] : []));
  if (parts.length === 0)
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          fault: 'user',
          where: { kind: 'node', path: options.target ?? '' },
          message: 'no host holds what was asked for',
          hint: 'name a container of the manifest',
        },
      ],
      tree: null,
    };
  // Each host's observation, for status (one tree per host: their paths would collide in one).
  const trees = Object.fromEntries(
    manifest.hosts.flatMap((h, i) => {
      const o = outcomes[i];
      return o?.ok && o.tree ? [[h.name, o.tree] as const] : [];
    }),
  );
  return { ok: true, plan: mergeHostPlans(parts), tree: null, trees };
}

async function planHost(
  manifest: Manifest,
  host: HostSpec,
  connections: readonly HostConnection[],
  options: PipelineOptions,
  planOne: OneHostPlanner,
): Promise<HostOutcome> {
  const conn = connections.find((c) => c.name === host.name);
  if (!conn)
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          fault: 'bug',
          where: sourceAt(manifest.file, host.pos),
          message: `no connection to host ${host.name} was opened`,
          hint: 'report this as a bug',
        },
      ],
    };
  const own = hostManifest(manifest, host);
  // --target names one node (an LXD or an LXC container): the hosts that do not hold it have nothing to do.
  if (options.target && !hasPath(own, options.target) && !hasLxcPath(own, options.target)) return { ok: true, part: null, tree: null };
  const alloc = allocate(own);
  if (!alloc.ok) return { ok: false, problems: alloc.problems };
  let server: ServerIdentity | null = null;
  if (conn.remote && host.place.kind === 'remote') {
    server = await conn.remote.server();
    const range = await conn.remote.probeRange(null);
    const flavour = host.place.flavour;
    // The containers placed on members are sized from their member's map (core/plan/placement.ts), the rest from the server's.
    const unplaced = allocate({ ...own, containers: own.containers.filter((c) => c.target === null) });
    const need = unplaced.ok ? unplaced.allocation.hostNeed : alloc.allocation.hostNeed;
    // Too small with shell: the one-host planner plans root's entry and the restart there, as on this machine.
    const verdict = remoteRangeVerdict({ host, member: null, range, need, flavour });
    if (verdict.kind === 'refused')
      return {
        ok: false,
        problems: [
          { severity: 'error', fault: 'user', where: sourceAt(manifest.file, host.pos), message: verdict.message, hint: verdict.hint },
        ],
      };
  }
  const replace = (options.replace ?? []).filter((p) => hasPath(own, p));
  const remote = conn.remote;
  const result = await planOne(
    own,
    conn.level,
    { ...options, replace },
    alloc.allocation,
    remote ? () => remote.localImages() : undefined,
    remote ? (member) => remote.probeRange(member) : undefined,
  );
  if (!result.ok) return { ok: false, problems: result.problems };
  return { ok: true, part: { host, server, plan: result.plan }, tree: result.tree };
}

/** `work` over `items` with at most `limit` running at once; results in the items' order. */
async function inTurns<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
