// manifest → observe → allocate → plan: the one path every command that plans goes through.

import { createHash } from 'node:crypto';
import { allocate } from '../core/ids/allocate.js';
import type { Manifest } from '../core/manifest/model.js';
import type { ObservedTree } from '../core/observed.js';
import { type PlanProblem, type PlanResult, planTree } from '../core/plan/planner.js';
import type { LxdLevel } from '../ports/lxd.js';
import { observeTree } from './observe.js';

export interface PipelineOptions {
  hostRestart: string[] | null;
  tool: string;
  manifestText: string;
}

export type PipelineResult = (PlanResult & { tree: ObservedTree | null }) | { ok: false; problems: PlanProblem[]; tree: null };

export async function planManifest(manifest: Manifest, host: LxdLevel, options: PipelineOptions): Promise<PipelineResult> {
  // Allocation first: an impossible tree is reported before any host is even looked at.
  const alloc = allocate(manifest);
  if (!alloc.ok) {
    return {
      ok: false,
      tree: null,
      problems: alloc.problems.map((p) => ({ fault: 'user', path: p.path, message: p.message, hint: p.hint, pos: p.spec.pos })),
    };
  }
  const tree = await observeTree(host, manifest);
  const result = planTree(manifest, alloc.allocation, tree, {
    hostRestart: options.hostRestart,
    tool: options.tool,
    manifestSha256: createHash('sha256').update(options.manifestText).digest('hex'),
  });
  return { ...result, tree };
}
