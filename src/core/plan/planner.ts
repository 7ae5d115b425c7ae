// desired (manifest + allocation) × observed → a plan's levels, steps and warnings. Pure and
// deterministic.
//
// Per level: its context is built once (level-context.ts), then each concern adds its steps in
// order: subid edits → one daemon restart → init → profiles → images → prune → classic LXC → children (siblings
// independent of each other), each child followed by its own level. A concern reads the context
// and what earlier concerns returned to it, never the plan so far. Levels that do not exist yet
// are planned as wholly new; their steps carry a `level-new` precondition and decide details when
// they run. The Plan envelope is stamped by assemblePlan.

import type { Allocation } from '../ids/allocate.js';
import { formatRange } from '../ids/range.js';
import { type Manifest, hasLevel } from '../manifest/model.js';
import type { ObservedTree } from '../observed.js';
import { assemblePlan } from './assemble.js';
import { type ChildResult, childSteps } from './concerns/children.js';
import { type ResolvedImages, imageSteps, resolveImages } from './concerns/images.js';
import { dockerChecks, dockerRestart } from './concerns/docker.js';
import { fileSteps } from './concerns/files.js';
import { initSteps } from './concerns/init.js';
import { profileSteps } from './concerns/profiles.js';
import { lxcSteps } from './concerns/lxc.js';
import { pruneSteps } from './concerns/prune.js';
import { restartSteps } from './concerns/restart.js';
import { setupSteps } from './concerns/setup.js';
import { subidSteps } from './concerns/subids.js';
import { type ContextResult, type LevelContext, type PlanInput, hostLevel, levelContext } from './level-context.js';
import { verdictNow } from './level-entry.js';
import { lxcLevelContext, lxcLevelSubidSteps } from './lxc-level.js';
import type { LevelSummary } from './model.js';
import { copiesView } from './copies.js';
import { movesView } from './moves.js';
import type { Diagnostic } from '../diagnostics.js';
import type { ConcernResult, PartsResult, PlanOptions, PlanParts, PlanResult, PlannerOptions } from './result.js';

export type { PlanOptions, PlanResult } from './result.js';

interface Collected extends PlanParts {
  problems: Diagnostic[];
  lxcLevels: NonNullable<PlanParts['lxcLevels']>;
  deferred: NonNullable<PlanParts['deferred']>;
}

/** Adds a concern's output to the plan so far and hands it back (its step ids feed later concerns). */
function take<R extends ConcernResult>(out: Collected, r: R): R {
  out.steps.push(...r.steps);
  out.problems.push(...r.problems);
  out.warnings.push(...r.warnings);
  return r;
}

const stepIds = (r: ConcernResult): string[] => r.steps.map((s) => s.id);

/** Plans a level; returns the ids of its subid writes (a Docker restart in its container follows them). */
function planLevel(input: PlanInput, built: ContextResult, images: ResolvedImages, out: Collected): string[] {
  if (!built.ok) {
    out.problems.push(...built.problems);
    return [];
  }
  const { ctx } = built;
  out.warnings.push(...built.warnings);
  const subids = take(out, subidSteps(ctx));
  // A container that is a level only for Docker's dockremap entries runs no LXD of nestctl's.
  if (!ctx.hostsLxd) return stepIds(subids);
  const restart = take(out, restartSteps(ctx, stepIds(subids)));
  const daemonReady = restart.steps.length > 0 ? stepIds(restart) : ctx.entryDeps;
  const init = take(out, initSteps(ctx, daemonReady));
  const afterDaemon = init.steps.length > 0 ? stepIds(init) : daemonReady;
  const profiles = take(out, profileSteps(ctx, afterDaemon));
  const copies = take(out, imageSteps(ctx, images, afterDaemon));
  take(out, pruneSteps(ctx));
  planLxcInside(ctx, take(out, lxcSteps(ctx, subids.steps, afterDaemon)), out);
  let previousIsolated: string | null = null;
  // Each child's steps and those of its inside: a copy (copy_of) is made after its source's.
  const stepsOf = new Map<string, string[]>();
  for (const child of ctx.children) {
    const before = out.steps.length;
    // LXD hands out isolated slices in creation order: create isolated siblings in manifest
    // order so they land where the plan says.
    const order: string[] = child.alloc.slice && previousIsolated ? [previousIsolated] : [];
    const attached = child.spec.profiles.flatMap((p) => profiles.stepOf.get(p) ?? []);
    const source = child.spec.copyOf ? (stepsOf.get(child.spec.copyOf.name) ?? []) : [];
    const made: ChildResult = take(
      out,
      childSteps(ctx, child, images, [...afterDaemon, ...(copies.byImage.get(child.spec.image) ?? []), ...attached, ...order, ...source]),
    );
    const done = (): void =>
      void stepsOf.set(
        child.spec.name,
        out.steps.slice(before).map((s) => s.id),
      );
    // Its level would be judged against a map it will not get: its placement's problem says why.
    if (made.unplaced) {
      if (made.deferred) out.deferred.push({ path: child.spec.path, source: child.spec.copyOf!.path });
      done();
      continue;
    }
    if (child.alloc.slice && made.created) previousIsolated = made.created;
    take(out, dockerChecks(ctx, child));
    // Inside a container this plan renames or copies, a level's path exists only once it is renamed or copied.
    const inherited = renamedAt(input, ctx.path) ? ctx.entryDeps : [];
    const ready = made.running ? [made.running] : inherited;
    const pushed = take(out, fileSteps(ctx, child, made.created === null, ready, made.copied ? (child.spec.copyOf?.files ?? []) : []));
    const inside = (): string[] =>
      !hasLevel(child.spec)
        ? []
        : planLevel(
            input,
            levelContext(input, {
              ctx,
              child,
              entryDeps: ready,
              grows: made.grows,
              replaced: made.replaced,
              restarted: made.restarted,
            }),
            images,
            out,
          );
    // Docker restarts on dockremap's entries and daemon.json before the setup commands use it.
    const remapWrites = child.alloc.dockremap !== null ? inside() : [];
    const docker =
      child.alloc.dockremap !== null
        ? take(out, dockerRestart(ctx, child, { created: made.created !== null, ready, pushed: pushed.steps, subidWrites: remapWrites }))
        : null;
    take(
      out,
      setupSteps(
        ctx,
        child,
        made.created !== null,
        [...ready, ...stepIds(pushed), ...remapWrites, ...(docker ? stepIds(docker) : [])],
        made.copied,
      ),
    );
    if (child.alloc.dockremap === null) inside();
    done();
  }
  out.levels.push(levelSummary(ctx));
  // A remote's range is only read (core/ids/remote-range.ts): host.base is not a choice there.
  if (ctx.entryKept && input.manifest.host.base === null && ctx.isHost && ctx.entry && input.manifest.host.place.kind === 'local') {
    out.warnings.push(`host: keeping the existing ${ctx.owner}:${formatRange(ctx.entry)} (large enough; set host.base to choose another)`);
  }
  return stepIds(subids);
}

/** The level is a container the plan renames or copies, or inside one. */
const renamedAt = (input: PlanInput, path: string): boolean =>
  [...(input.renames?.keys() ?? []), ...(input.copies?.keys() ?? [])].some((to) => path === to || path.startsWith(`${to}/`));

/**
 * The levels inside the level's LXC containers that hold LXC containers (LXC inside LXC): root's
 * lines for their slices, then their containers, each after the step that starts its container.
 */
function planLxcInside(ctx: LevelContext, made: ConcernResult, out: Collected): void {
  for (const outer of ctx.lxc) {
    if (outer.spec.containers.length === 0) continue;
    const starts = made.steps.filter((s) => s.id === `${outer.spec.path}:start-lxc`).map((s) => s.id);
    const built = lxcLevelContext(ctx, outer, starts.length > 0 ? starts : ctx.entryDeps);
    if (!built.ok) {
      out.problems.push(...built.problems);
      continue;
    }
    out.lxcLevels[outer.spec.path] = { user: outer.spec.user };
    const subids = take(out, lxcLevelSubidSteps(built.ctx));
    planLxcInside(built.ctx, take(out, lxcSteps(built.ctx, subids.steps, [])), out);
  }
}

function levelSummary(ctx: LevelContext): LevelSummary {
  return {
    path: ctx.path,
    flavour: ctx.flavour,
    flavourFrom: ctx.flavourFrom,
    observed: ctx.obs !== null,
    entry: ctx.entry,
    daemonRange: ctx.daemonRange,
    pinned: ctx.pins,
    children: ctx.children.map((c) => ({
      path: c.spec.path,
      map: c.map,
      isolated: c.alloc.isolated,
      ...(c.alloc.dockremap ? { dockremap: c.alloc.dockremap } : {}),
    })),
    verdictNow: ctx.obs ? verdictNow(ctx.obs, ctx.owner, ctx.isHost) : 'unknown',
  };
}

/** The plan's content (levels, steps, warnings), or why the tree cannot be planned. */
export function planLevels(manifest: Manifest, allocation: Allocation, tree: ObservedTree, options: PlannerOptions): PartsResult {
  // Planned against the tree as it is once the manifest's renames are done (core/plan/moves.ts).
  const view = movesView(manifest, tree);
  if (!view.ok) return { ok: false, problems: view.problems };
  const copied = copiesView(manifest, view.tree);
  const input: PlanInput = {
    manifest,
    allocation,
    tree: copied.tree,
    options: { hostRestart: options.hostRestart, prune: options.prune, replace: options.replace ?? [] },
    renames: view.renames,
    copies: copied.copies,
  };
  const host = hostLevel(input);
  if (!host.ok) return { ok: false, problems: [host.problem] };
  const out: Collected = { levels: [], steps: [], warnings: [], problems: [], lxcLevels: {}, deferred: [] };
  const images = take(out, resolveImages(manifest, host.level, tree.relay ?? null)).images;
  planLevel(input, levelContext(input, null), images, out);
  if (out.problems.length > 0) return { ok: false, problems: out.problems };
  return {
    ok: true,
    parts: {
      levels: out.levels,
      steps: out.steps,
      warnings: out.warnings,
      ...(Object.keys(out.lxcLevels).length > 0 ? { lxcLevels: out.lxcLevels } : {}),
      ...(out.deferred.length > 0 ? { deferred: out.deferred } : {}),
    },
  };
}

export function planTree(manifest: Manifest, allocation: Allocation, tree: ObservedTree, options: PlanOptions): PlanResult {
  const result = planLevels(manifest, allocation, tree, options);
  return result.ok ? { ok: true, plan: assemblePlan('apply', manifest, tree, options, result.parts) } : result;
}
