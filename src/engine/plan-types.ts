// The planning pipeline's types: its options, its result, and the one-host planner it hands to
// the several-hosts planner (engine/plan-hosts.ts), which plans each host with it.

import type { Diagnostic } from '../core/diagnostics.js';
import type { Allocation } from '../core/ids/allocate.js';
import type { IdRange } from '../core/ids/range.js';
import type { Manifest } from '../core/manifest/model.js';
import type { ObservedImage, ObservedTree } from '../core/observed.js';
import type { Plan } from '../core/plan/model.js';
import type { PlanResult } from '../core/plan/result.js';
import type { LxdLevel } from '../ports/lxd.js';

export interface PipelineOptions {
  hostRestart: string[] | null;
  tool: string;
  manifestText: string;
  mode?: Plan['mode'];
  simulation?: Plan['simulation'];
  prune?: boolean;
  restoreIds?: boolean;
  /** Node paths to delete and create again (--replace). */
  replace?: string[];
  /** Snapshot each existing container before the plan changes it (--snapshot, core/plan/snapshots.ts). */
  snapshot?: boolean;
  /** Node path to restrict the plan to (--target). */
  target?: string | null;
  /** How many hosts are observed and planned at once (--parallel); default 4. */
  parallel?: number;
  /** Also read the instances' addresses (status shows them; nothing is planned from them, and plan, apply and destroy never ask). */
  addresses?: boolean;
}

/** A cluster member's daemon ranges (RemoteHost.probeRange). */
export type MemberRange = (member: string) => Promise<{ uid: IdRange; gid: IdRange }>;

/**
 * `relayFrom`: this machine's image store, for a remote host (read only when the remote lacks an
 * image); `memberRange`: on a remote, the map of a cluster member a root container is placed on.
 */
export type OneHostPlanner = (
  manifest: Manifest,
  host: LxdLevel,
  options: PipelineOptions,
  allocation: Allocation,
  relayFrom?: () => Promise<ObservedImage[]>,
  memberRange?: MemberRange,
) => Promise<PipelineResult>;

/** `trees`: with several hosts (`tree` is then null), each host's observation by host name. */
export type PipelineResult =
  | (PlanResult & { tree: ObservedTree | null; trees?: Record<string, ObservedTree> })
  | { ok: false; problems: Diagnostic[]; tree: null };
