// What every step handler (engine/steps/*.ts) is given and returns, and the handler table's type:
// one handler per step kind, each taking its own kind of step.

import type { Step, StepKind } from '../../core/plan/model.js';
import type { LxdLevel } from '../../ports/lxd.js';
import type { RemoteHost } from '../../ports/remote.js';
import type { CopySnapshots } from '../copy-snapshots.js';
import type { ImageExports } from '../image-exports.js';
import type { LevelResolver } from '../levels.js';
import type { OutputLine } from '../output-lines.js';

/** What a step did: "changed" or why nothing was needed. */
export type StepResult = { changed: true } | { changed: false; why: string };

/** What a step may know of the plan it belongs to. */
export interface StepContext {
  /** Paths of the containers the plan deletes, and the LXC containers (lxcLabel) they take along. */
  deleting: ReadonlySet<string>;
  /** The image bundles the plan's copies share (engine/image-exports.ts). */
  exports: ImageExports;
  /** The snapshots the plan's copies of containers are made from (engine/copy-snapshots.ts). */
  snapshots: CopySnapshots;
  /** A running setup command's output, the lines each chunk completed. */
  output?: (step: Step, lines: OutputLine[]) => void;
  /** On a remote host: copies an image of this machine's store to it (RemoteHost.relayImage). */
  relay?: (fingerprint: string, aliases: readonly string[]) => Promise<void>;
  /** On a remote host: moves a root container to a cluster member (RemoteHost.move). */
  move?: RemoteHost['move'];
}

/** Where a step runs: its own level, every level of its host (an image's source, its hops), and the plan's context. */
export interface StepRun {
  level: LxdLevel;
  levels: LevelResolver;
  context: StepContext;
}

/** The step of one kind. */
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

/** A handler for every kind of step, each typed with its own kind. */
export type StepHandlers = { [K in StepKind]: (step: StepOf<K>, run: StepRun) => Promise<StepResult> };
