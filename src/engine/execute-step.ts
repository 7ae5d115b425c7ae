// One step against live LXD. Each step first checks what it was planned from; steps of levels
// that did not exist at plan time work out their details from the level as it is now. The
// handlers are in engine/steps/, one file per family of steps, as core/plan/concerns/ plans them.

import type { Plan, Step, StepKind } from '../core/plan/model.js';
import { copySnapshots } from './copy-snapshots.js';
import { imageExports } from './image-exports.js';
import type { LevelResolver } from './levels.js';
import { initDaemon, restartDaemon } from './steps/daemon.js';
import { restartService } from './steps/docker.js';
import { pushFile } from './steps/files.js';
import { copyInstance } from './steps/copy.js';
import { restoreInstance, snapshotInstance } from './steps/snapshot.js';
import { renameInstance } from './steps/rename.js';
import { copyImage, fetchImage } from './steps/image.js';
import { createInstance, deleteInstance, moveInstance, restartInstance, startInstance, updateConfig } from './steps/instance.js';
import { configureLxc, createLxc, deleteLxc, startLxc, writeLxcFile } from './steps/lxc.js';
import { createProfile, deleteProfile, updateProfile } from './steps/profile.js';
import { runSetup } from './steps/setup.js';
import { writeSubid } from './steps/subid.js';
import type { StepContext, StepHandlers, StepOf, StepResult, StepRun } from './steps/types.js';

export type { StepContext, StepResult } from './steps/types.js';

/** Every kind of step and what executes it; the type makes it complete. */
const HANDLERS: StepHandlers = {
  'write-subid': writeSubid,
  'restart-daemon': restartDaemon,
  'init-daemon': initDaemon,
  'restart-service': restartService,
  'fetch-image': fetchImage,
  'copy-image': copyImage,
  'create-instance': createInstance,
  'start-instance': startInstance,
  'update-config': updateConfig,
  'restart-instance': restartInstance,
  'move-instance': moveInstance,
  'rename-instance': renameInstance,
  'copy-instance': copyInstance,
  'snapshot-instance': snapshotInstance,
  'restore-instance': restoreInstance,
  'delete-instance': deleteInstance,
  'push-file': pushFile,
  'run-setup': runSetup,
  'write-lxc-file': writeLxcFile,
  'create-lxc': createLxc,
  'configure-lxc': configureLxc,
  'start-lxc': startLxc,
  'delete-lxc': deleteLxc,
  'create-profile': createProfile,
  'update-profile': updateProfile,
  'delete-profile': deleteProfile,
};

/** The context of the steps of `plan`; its exports start at once, so close them and its snapshots when the apply ends. */
export function stepContext(plan: Pick<Plan, 'steps'>, levels: LevelResolver): StepContext {
  return {
    deleting: new Set(plan.steps.flatMap((s) => (s.kind === 'delete-instance' ? [s.path, ...(s.lxc ?? [])] : []))),
    exports: imageExports(plan, levels),
    snapshots: copySnapshots(plan, levels),
  };
}

export async function executeStep(step: Step, levels: LevelResolver, context: StepContext): Promise<StepResult> {
  return handle(step.kind, step, { level: levels(step.level), levels, context });
}

/** The handler of `kind` on its step (the kind passed apart so that TypeScript pairs the two). */
function handle<K extends StepKind>(kind: K, step: StepOf<K>, run: StepRun): Promise<StepResult> {
  return HANDLERS[kind](step, run);
}
