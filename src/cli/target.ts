// Which LXD a command talks to: the real one on this machine, or a simulated world.

import { ExecLevel } from '../adapters/lxd/level.js';
import { processExec } from '../adapters/process-exec.js';
import { createSimWorld, defaultWorld, parseWorld } from '../adapters/sim/index.js';
import type { Manifest } from '../core/manifest/model.js';
import type { LxdLevel } from '../ports/lxd.js';
import { readText } from './io.js';

export interface TargetOptions {
  simulate?: boolean;
  world?: string;
  verbose?: boolean;
}

export interface Target {
  host: LxdLevel;
  simulated: boolean;
}

/** Image aliases the manifest creates containers from, and whether they must carry LXD. */
function imagesOf(manifest: Manifest): Array<{ alias: string; hostsLxd: boolean }> {
  const seen = new Map<string, boolean>();
  const walk = (specs: Manifest['containers']): void => {
    for (const s of specs) {
      seen.set(s.image, (seen.get(s.image) ?? false) || s.containers.length > 0);
      walk(s.containers);
    }
  };
  walk(manifest.containers);
  return [...seen].filter(([ref]) => !ref.includes(':')).map(([alias, hostsLxd]) => ({ alias, hostsLxd }));
}

export async function openTarget(manifest: Manifest, options: TargetOptions): Promise<Target> {
  if (options.simulate || options.world) {
    const desc = options.world ? parseWorld(await readText(options.world), options.world) : defaultWorld(imagesOf(manifest));
    return { host: createSimWorld(desc).host(), simulated: true };
  }
  const trace = options.verbose ? (path: string, argv: readonly string[]) => process.stderr.write(`[${path || 'host'}] ${argv.join(' ')}\n`) : undefined;
  return { host: new ExecLevel(processExec, '', trace ? { trace } : {}), simulated: false };
}
