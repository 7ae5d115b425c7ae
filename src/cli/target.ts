// Which LXD a command talks to: the real one on this machine, or a simulated world.

import { ExecLevel } from '../adapters/lxd/level.js';
import { processExec } from '../adapters/process-exec.js';
import { createSimWorld, defaultWorld, parseWorld } from '../adapters/sim/index.js';
import { NestctlError } from '../core/errors.js';
import type { Manifest } from '../core/manifest/model.js';
import type { Plan } from '../core/plan/model.js';
import type { LxdLevel } from '../ports/lxd.js';
import { readText } from './io.js';

export interface TargetOptions {
  simulate?: boolean;
  world?: string;
  verbose?: boolean;
}

export interface Target {
  host: LxdLevel;
  /** Recorded in saved plans so `apply PLAN.json` talks to the same kind of LXD. */
  simulation: Plan['simulation'];
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
  return [...seen].map(([alias, hostsLxd]) => ({ alias, hostsLxd }));
}

function simulated(manifest: Manifest, world: { text: string; file: string } | null): Target {
  const desc = world ? parseWorld(world.text, world.file) : defaultWorld(imagesOf(manifest), manifest.host.flavour);
  return { host: createSimWorld(desc).host(manifest.host.flavour), simulation: { world: world?.text ?? null } };
}

export async function openTarget(manifest: Manifest, options: TargetOptions): Promise<Target> {
  if (options.world) return simulated(manifest, { text: await readText(options.world), file: options.world });
  if (options.simulate) return simulated(manifest, null);
  const trace = options.verbose ? (path: string, argv: readonly string[]) => process.stderr.write(`[${path || 'host'}] ${argv.join(' ')}\n`) : undefined;
  return { host: new ExecLevel(processExec, '', trace ? { trace } : {}, manifest.host.flavour), simulation: null };
}

/**
 * The LXD a saved plan was computed against, and no other: a plan made for this machine is not
 * tried out in a simulation (that would apply it here), and a simulated one never touches this machine.
 */
export function openPlanTarget(plan: Plan, manifest: Manifest, options: TargetOptions, file: string): Promise<Target> | Target {
  if (plan.simulation === null && (options.simulate || options.world)) {
    throw new NestctlError('user', `${file} was made for the real host; --simulate and --world do not apply to it`, `apply it without --simulate, or plan again with --simulate: nestctl plan --simulate --out ${file} ...`);
  }
  if (plan.simulation !== null && options.world) {
    throw new NestctlError('user', `${file} carries the simulated world it was made in; --world does not apply to it`, `apply it without --world, or plan again: nestctl plan --world ${options.world} --out ${file} ...`);
  }
  if (plan.simulation) return simulated(manifest, plan.simulation.world === null ? null : { text: plan.simulation.world, file: '(world saved in the plan)' });
  return openTarget(manifest, { verbose: options.verbose ?? false });
}
