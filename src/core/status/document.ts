// The value `status` prints: its text form (render/status-text.ts) and `--json`
// (schemas/status.schema.json) are the same document. Pure.

import type { Diagnostic } from '../diagnostics.js';
import { hostManifest, plansByHost } from '../manifest/hosts.js';
import type { Manifest } from '../manifest/model.js';
import type { ObservedTree } from '../observed.js';
import { planCounts } from '../plan/counts.js';
import type { Plan } from '../plan/model.js';
import { type StatusChange, type StatusRow, hostChange, statusRows } from './status.js';

export const STATUS_FORMAT_VERSION = 1;

export interface StatusHost {
  /** The manifest's name for it ("local" for `host:`). */
  name: string;
  /** The lxc/incus remote it is reached through; null for this machine. */
  remote: string | null;
  /** What plan would do at the host's own level (subid edits, restarts, images); null when refused. */
  plan: StatusChange | null;
}

/** A problem that kept the plan from being made, as validate --json gives one. */
export interface StatusProblem {
  severity: Diagnostic['severity'];
  summary: string;
  detail: string;
  range: { file: string; line: number; column: number };
}

export interface StatusDocument {
  formatVersion: typeof STATUS_FORMAT_VERSION;
  tool: string;
  manifest: string;
  simulated: boolean;
  /** The plan computed from the same observation: its counts, or the problems that refused it. */
  plan:
    | { ok: true; changes: boolean; add: number; change: number; destroy: number; steps: number; observedSha256: string }
    | { ok: false; problems: StatusProblem[] };
  hosts: StatusHost[];
  containers: StatusRow[];
}

export interface StatusInputs {
  tool: string;
  manifest: Manifest;
  simulated: boolean;
  /** One tree for a manifest of one host; by host name for several (or a remote). */
  trees: ObservedTree | Record<string, ObservedTree>;
  plan: Plan | { problems: StatusProblem[] };
}

export function statusDocument(input: StatusInputs): StatusDocument {
  const plan = 'steps' in input.plan ? input.plan : null;
  const byHost = plansByHost(input.manifest);
  const hosts = input.manifest.hosts.map((h) => ({
    name: h.name,
    remote: h.place.kind === 'remote' ? h.place.remote : null,
    plan: hostChange(plan, byHost ? h.name : null),
  }));
  const containers = byHost
    ? input.manifest.hosts.flatMap((h) => {
        const tree = (input.trees as Record<string, ObservedTree>)[h.name];
        return tree ? statusRows({ manifest: hostManifest(input.manifest, h), tree, plan, host: h.name }) : [];
      })
    : statusRows({ manifest: input.manifest, tree: input.trees as ObservedTree, plan, host: null });
  const counts = plan ? planCounts(plan) : null;
  return {
    formatVersion: STATUS_FORMAT_VERSION,
    tool: input.tool,
    manifest: input.manifest.file,
    simulated: input.simulated,
    plan:
      plan && counts
        ? { ok: true, changes: plan.steps.length > 0, ...counts, observedSha256: plan.observedSha256 }
        : { ok: false, problems: 'problems' in input.plan ? input.plan.problems : [] },
    hosts,
    containers,
  };
}
