// What the parts of a child's plan share: the result they return, and what each of them reads.

import { hostsContainers } from '../../../manifest/model.js';
import type { Precondition } from '../../model.js';
import { desiredConfig } from '../../desired-config.js';
import type { LevelChild, LevelContext } from '../../level-context.js';
import { type ConcernResult, noConcern } from '../../result.js';
import type { InstanceStepAt } from '../../steps/instance.js';
import type { ResolvedImages } from '../images.js';

export interface ChildResult extends ConcernResult {
  /** The step that makes the child run, if any (its own level starts from it). */
  running: string | null;
  /** Its create step, if planned (the next isolated sibling is created after it). */
  created: string | null;
  /** Its map grows to the level's planned range (its own level then holds that many ids). */
  grows: boolean;
  /** It is deleted and created again: whatever was observed inside it is gone. */
  replaced: boolean;
  /** Its `target:` cannot be honoured, or its member is not online: nothing of it or inside it is planned. */
  unplaced: boolean;
  /** It runs and is restarted: whatever ran inside it stops. */
  restarted: boolean;
  /** It is created as a copy of its source (`copy_of:`): what it took from the source comes with it. */
  copied: boolean;
  /** A copy that waits until its source runs (Plan.deferred). */
  deferred: boolean;
}

export const childResult = (r: Partial<ChildResult>): ChildResult => ({
  ...noConcern(),
  running: null,
  created: null,
  grows: false,
  replaced: false,
  unplaced: false,
  restarted: false,
  copied: false,
  deferred: false,
  ...r,
});

/** A child being planned, with what every part of its plan reads. */
export interface ChildInput {
  ctx: LevelContext;
  child: LevelChild;
  images: ResolvedImages;
  /** What the child's first step waits for (daemon ready, its image, an earlier isolated sibling). */
  deps: string[];
  /** Its config as the manifest and its allocation want it (desired-config.ts). */
  config: Record<string, string>;
  hosting: boolean;
  waitBoot: boolean;
  /** The cluster member or group it is created on, if any. */
  target: string | null;
}

export function childInput(ctx: LevelContext, child: LevelChild, images: ResolvedImages, deps: string[]): ChildInput {
  const { spec } = child;
  const hosting = hostsContainers(spec);
  return {
    ctx,
    child,
    images,
    deps,
    config: desiredConfig(spec, child.alloc),
    hosting,
    // Setup commands and Docker expect a booted system (a socket-activated docker, say), not just a running init.
    waitBoot: hosting || spec.docker || spec.setup.length > 0,
    target: child.placement.kind === 'placed' ? child.placement.target : null,
  };
}

/** The fields every step of the child has. */
export const stepAt = (c: ChildInput, dependsOn: string[], reason: string, precondition: Precondition): InstanceStepAt => ({
  level: c.ctx.path,
  name: c.child.spec.name,
  path: c.child.spec.path,
  dependsOn,
  reason,
  precondition,
});

export const withImplied = (implied: Record<string, string> | null): { implied?: Record<string, string> } => (implied ? { implied } : {});
