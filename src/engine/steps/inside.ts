// What a step that stops, renames, moves or copies a container that holds containers does about its
// inside once the container runs again: waits until what ran inside runs (LXD starts what ran when
// its daemon stopped, after a rename or restart), or starts it (a copy's inside comes up stopped,
// LXD leaving a copied daemon's containers as they were on disk), parents first, for as long as a
// boot may take; and makes the user.nestctl.path markers of nestctl's containers inside follow
// the container's new path.

import { EnvironmentError } from '../../core/errors.js';
import { managedInstance } from '../../core/observed.js';
import { MARKER_PATH } from '../../core/plan/desired-config.js';
import type { InsideStart } from '../../core/plan/model.js';
import { parentPath } from '../../core/paths.js';
import type { LevelResolver } from '../levels.js';

/** As long as a container's boot is waited for (adapters/lxd/level.ts): what ran inside comes back in that time, or the step fails. */
export const INSIDE_WAIT_MS = 180_000;
const POLL_MS = 1000;

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/**
 * Waits until each of `inside` (parents first) is listed running by its level, for at most
 * INSIDE_WAIT_MS; with `start`, starts each one listed stopped. `what`: what was done to `at`.
 */
export async function insideRunning(
  levels: LevelResolver,
  at: string,
  what: string,
  inside: readonly InsideStart[],
  start: boolean,
): Promise<void> {
  const deadline = Date.now() + INSIDE_WAIT_MS;
  for (const { path, waitBoot } of inside) {
    const name = baseName(path);
    let last = 'not running yet';
    for (;;) {
      try {
        const level = levels(parentPath(path));
        const inst = managedInstance({ instances: await level.instances() }, name);
        if (inst?.status === 'Running') break;
        last = inst ? `it is ${inst.status.toLowerCase()}` : 'it is not listed';
        if (inst && start) {
          await level.startInstance(name, waitBoot);
          break;
        }
      } catch (e) {
        // Its daemon may still be on its way up.
        if (!(e instanceof EnvironmentError)) throw e;
        last = e.message;
      }
      if (Date.now() >= deadline)
        throw new EnvironmentError(
          `${path} did not run in ${INSIDE_WAIT_MS / 1000} s after ${at} was ${what} and started (${last})`,
          `look at it (${path}); nestctl plan shows what is left to do`,
          at,
        );
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }
}

/** Each nestctl container of `markers` (paths under `path`) that still carries its path under `fromPath` gets its own (one that does not is not nestctl's). */
export async function markersFollow(levels: LevelResolver, markers: readonly string[], fromPath: string, path: string): Promise<void> {
  for (const inner of markers) {
    const name = baseName(inner);
    const level = levels(parentPath(inner));
    const inst = managedInstance({ instances: await level.instances() }, name);
    if (inst?.config[MARKER_PATH] === `${fromPath}${inner.slice(path.length)}`)
      await level.updateInstance(name, { set: { [MARKER_PATH]: inner } });
  }
}
