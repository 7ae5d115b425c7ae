// What planning returns, shared by the apply planner, the destroy planner and every concern:
// steps, problems and warnings. The Plan envelope around them is stamped by assemble.ts.

import type { AllocationProblem } from '../ids/allocate.js';
import type { Flavour, SourcePos } from '../manifest/model.js';
import type { LevelSummary, Plan, Step } from './model.js';

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

export interface PlanProblem {
  fault: 'user' | 'environment';
  /** Node or level path ("" = host). */
  path: string;
  message: string;
  hint?: string;
  pos?: SourcePos;
}

/** Allocation problems are the user's: they point at the node in the manifest. */
export function allocationProblems(problems: AllocationProblem[]): PlanProblem[] {
  return problems.map((p) => ({ fault: 'user', path: p.path, message: p.message, hint: p.hint, pos: p.spec.pos }));
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };

/** A plan's content before the envelope: what the planners return. */
export interface PlanParts {
  levels: LevelSummary[];
  /** Destroy plans only: see Plan.flavours. */
  flavours?: Record<string, Flavour>;
  steps: Step[];
  warnings: string[];
}

export type PartsResult = { ok: true; parts: PlanParts } | { ok: false; problems: PlanProblem[] };

/** What one concern adds for one level. */
export interface ConcernResult {
  steps: Step[];
  problems: PlanProblem[];
  warnings: string[];
}

export const noConcern = (): ConcernResult => ({ steps: [], problems: [], warnings: [] });
