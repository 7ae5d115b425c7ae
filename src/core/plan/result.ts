// What planning returns, shared by the apply planner, the destroy planner and every concern:
// steps, problems (diagnostics: the user's to fix, or the environment's) and warnings. The Plan
// envelope around them is stamped by assemble.ts.

import type { Diagnostic } from '../diagnostics.js';
import type { Flavour } from '../manifest/model.js';
import type { DeferredCopy, LevelSummary, Plan, Step } from './model.js';

export interface PlanOptions {
  /** argv that restarts the host daemon (CLI flag); overrides the manifest's host.restart. */
  hostRestart: string[] | null;
  tool: string;
  manifestSha256: string;
  manifestText?: string;
  simulation?: Plan['simulation'];
  /** Also destroy instances nestctl created that the manifest no longer lists. */
  prune?: boolean;
  /** Node paths to delete and create again though the manifest does not require it (--replace). */
  replace?: string[];
}

/** What the planners themselves read of the options; the rest is stamped on the envelope. */
export type PlannerOptions = Pick<PlanOptions, 'hostRestart' | 'prune' | 'replace'>;

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: Diagnostic[] };

/** A plan's content before the envelope: what the planners return. */
export interface PlanParts {
  levels: LevelSummary[];
  /** Destroy plans only: see Plan.flavours. */
  flavours?: Record<string, Flavour>;
  /** See Plan.lxcLevels. */
  lxcLevels?: Record<string, { user: string | null }>;
  steps: Step[];
  warnings: string[];
  /** See Plan.deferred. */
  deferred?: DeferredCopy[];
}

export type PartsResult = { ok: true; parts: PlanParts } | { ok: false; problems: Diagnostic[] };

/** What one concern adds for one level. */
export interface ConcernResult {
  steps: Step[];
  problems: Diagnostic[];
  warnings: string[];
}

export const noConcern = (): ConcernResult => ({ steps: [], problems: [], warnings: [] });
