// The one path every command that plans goes through, in this order: allocate the manifest's ids
// (an impossible tree is refused before any host is looked at), check --target names a node,
// observe the tree, plan (planLevels, or planDestroy for destroy), stamp the plan's envelope
// (assemblePlan: format, tool, manifest text, options, digest of the observation), then cut the
// plan to --target.

import { type Allocation, allocate } from '../core/ids/allocate.js';
import { hasLxcPath, hasPath, type Manifest } from '../core/manifest/model.js';
import type { ObservedImage, ObservedTree } from '../core/observed.js';
import { missingImages } from '../core/plan/concerns/images.js';
import { sha256 } from '../core/hash.js';
import type { Plan } from '../core/plan/model.js';
import { asFound } from '../core/plan/moves.js';
import { placedMembers } from '../core/plan/placement.js';
import type { LxdLevel } from '../ports/lxd.js';
import type { HostConnection } from '../ports/remote.js';
import { observeTree } from './observe.js';
import { planEachHost } from './plan-hosts.js';
import type { MemberRange, PipelineOptions, PipelineResult } from './plan-types.js';

export type { MemberRange, OneHostPlanner, PipelineOptions, PipelineResult } from './plan-types.js';

/** `host`: this machine's level, or every host's connection for a manifest of several hosts (core/plan/hosts.ts). */
export async function planManifest(
  manifest: Manifest,
  host: LxdLevel | readonly HostConnection[],
  options: PipelineOptions,
): Promise<PipelineResult> {
  // Allocation first: an impossible tree is reported before any host is even looked at.
  const alloc = allocate(manifest);
  if (!alloc.ok) {
    return {
      ok: false,
      tree: null,
      problems: alloc.problems,
    };
  }
  if (options.target && !hasPath(manifest, options.target) && !hasLxcPath(manifest, options.target)) {
    return {
      ok: false,
      tree: null,
      problems: [
        {
          severity: 'error',
          fault: 'user',
          where: { kind: 'node', path: options.target },
          message: `--target ${options.target}: no such container in the manifest`,
          hint: `use a node path such as ${manifest.containers[0]?.path ?? 'c1'}`,
        },
      ],
    };
  }
  const unknown = (options.replace ?? []).find((p) => !hasPath(manifest, p));
  if (unknown !== undefined && hasLxcPath(manifest, unknown)) {
    return {
      ok: false,
      tree: null,
      problems: [
        {
          severity: 'error',
          fault: 'user',
          where: { kind: 'node', path: unknown },
          message: `--replace ${unknown}: it is an LXC container, which nestctl does not replace`,
          hint: `destroy it by hand (lxc-destroy -n ${unknown.split('/').at(-1)}) and apply again`,
        },
      ],
    };
  }
  if (unknown !== undefined) {
    return {
      ok: false,
      tree: null,
      problems: [
        {
          severity: 'error',
          fault: 'user',
          where: { kind: 'node', path: unknown },
          message: `--replace ${unknown}: no such container in the manifest`,
          hint: `use a node path such as ${manifest.containers[0]?.path ?? 'c1'}`,
        },
      ],
    };
  }
  if (Array.isArray(host)) return planEachHost(manifest, host as readonly HostConnection[], options, planOneHost);
  return planOneHost(manifest, host as LxdLevel, options, alloc.allocation);
}

/**
 * The planner's modules, imported while the host answers its probes: those run in child
 * processes, so loading the planner then costs a real run no time.
 */
const plannerModules = () =>
  Promise.all([
    import('../core/plan/planner.js'),
    import('../core/plan/destroy.js'),
    import('../core/plan/assemble.js'),
    import('../core/plan/target.js'),
    import('../core/plan/snapshots.js'),
  ]).then(([p, d, a, t, s]) => ({
    planLevels: p.planLevels,
    planDestroy: d.planDestroy,
    assemblePlan: a.assemblePlan,
    targetPlan: t.targetPlan,
    withSnapshots: s.withSnapshots,
  }));

/** Observe and plan one host's tree (the manifest already cut to it when there are several). */
async function planOneHost(
  manifest: Manifest,
  host: LxdLevel,
  options: PipelineOptions,
  allocation: Allocation,
  relayFrom?: () => Promise<ObservedImage[]>,
  memberRange?: MemberRange,
): Promise<PipelineResult> {
  const mode = options.mode === 'destroy' ? 'destroy' : 'apply';
  const loading = plannerModules();
  // Settled here too, so a failed observation never leaves the import's rejection unhandled.
  loading.catch(() => undefined);
  const observed = await observeTree(
    host,
    manifest,
    mode === 'destroy' ? 'destroy' : options.prune ? 'prune' : 'apply',
    options.replace ?? [],
    { addresses: options.addresses ?? false },
  );
  const tree = await withMembers(
    await withRelay(observed, manifest, mode === 'apply' ? relayFrom : undefined),
    manifest,
    mode === 'apply' ? memberRange : undefined,
  );
  const stamp = {
    hostRestart: options.hostRestart,
    tool: options.tool,
    manifestSha256: sha256(options.manifestText),
    manifestText: options.manifestText,
    simulation: options.simulation ?? null,
    prune: options.prune ?? false,
    ...(options.replace?.length ? { replace: [...options.replace].sort() } : {}),
    // An apply plan records restoreIds false whatever it was asked.
    restoreIds: mode === 'destroy' && (options.restoreIds ?? false),
  };
  const { planLevels, planDestroy, assemblePlan, targetPlan, withSnapshots } = await loading;
  // A container the manifest renamed that is still under its old name is destroyed under it.
  const parts = mode === 'destroy' ? planDestroy(asFound(manifest, tree), tree, stamp) : planLevels(manifest, allocation, tree, stamp);
  if (!parts.ok) return { ...parts, tree };
  const assembled = assemblePlan(mode, manifest, tree, stamp, parts.parts);
  const plan = mode === 'apply' && options.snapshot ? withSnapshots(assembled, tree) : assembled;
  return { ok: true, plan: options.target ? targetPlan(plan, options.target) : plan, tree };
}

/** The tree with this machine's image store when the remote host's own lacks an image the manifest names. */
async function withRelay(
  tree: ObservedTree,
  manifest: Manifest,
  relayFrom: (() => Promise<ObservedImage[]>) | undefined,
): Promise<ObservedTree> {
  const top = tree.levels[''];
  if (!relayFrom || top?.kind !== 'observed' || missingImages(manifest, top.level.images).length === 0) return tree;
  return { ...tree, relay: await relayFrom() };
}

/** The tree with the map of every cluster member a root container is placed on (`target:`), read once each. */
async function withMembers(tree: ObservedTree, manifest: Manifest, memberRange: MemberRange | undefined): Promise<ObservedTree> {
  const top = tree.levels[''];
  if (!memberRange || top?.kind !== 'observed') return tree;
  const members = placedMembers(manifest.file, manifest.host, manifest.containers, top.level);
  if (members.length === 0) return tree;
  const ranges = await Promise.all(members.map(async (m) => [m, await memberRange(m)] as const));
  return { ...tree, members: Object.fromEntries(ranges) };
}

/** The options a saved plan records, to plan its manifest again exactly as it was planned. */
export function savedPlanOptions(saved: Plan, tool: string): PipelineOptions {
  return {
    hostRestart: saved.options.hostRestart,
    tool,
    manifestText: saved.manifest.text,
    mode: saved.mode,
    simulation: saved.simulation,
    prune: saved.options.prune,
    restoreIds: saved.options.restoreIds,
    ...(saved.options.replace ? { replace: saved.options.replace } : {}),
    ...(saved.options.snapshot ? { snapshot: true } : {}),
    target: saved.target,
  };
}
