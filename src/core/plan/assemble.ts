// The one place a Plan value is put together (apply and destroy plans alike): the planners
// return steps, levels and warnings; the shell that has the manifest text, the tool version and
// the observation stamps the envelope around them here.

import type { Manifest } from '../manifest/model.js';
import type { ObservedTree } from '../observed.js';
import { observedDigest } from './digest.js';
import { PLAN_FORMAT_VERSION, type Plan } from './model.js';
import type { PlanOptions, PlanParts } from './result.js';

export function assemblePlan(
  mode: Plan['mode'],
  manifest: Manifest,
  tree: ObservedTree,
  options: PlanOptions & { restoreIds?: boolean },
  parts: PlanParts,
): Plan {
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: options.tool,
    mode,
    manifest: { file: manifest.file, sha256: options.manifestSha256, text: options.manifestText ?? '' },
    simulation: options.simulation ?? null,
    target: null,
    options: {
      prune: options.prune ?? false,
      restoreIds: options.restoreIds ?? false,
      hostRestart: options.hostRestart,
      ...(options.replace?.length ? { replace: options.replace } : {}),
    },
    observedSha256: observedDigest(tree),
    levels: [...parts.levels].sort((a, b) => a.path.localeCompare(b.path)),
    ...(parts.flavours ? { flavours: parts.flavours } : {}),
    ...(parts.lxcLevels ? { lxcLevels: parts.lxcLevels } : {}),
    steps: parts.steps,
    warnings: parts.warnings,
    ...(parts.deferred?.length ? { deferred: parts.deferred } : {}),
  };
}
