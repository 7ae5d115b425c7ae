// nestctl plan FILE: observe, allocate, plan, show.

import { pathOf } from '../../core/diagnostics.js';
import { EnvironmentError, InputError, NestctlError } from '../../core/errors.js';
import { encodePlan } from '../../core/plan/codec.js';
import { daemonName } from '../../core/flavour/index.js';
import { type Plan, flavourAt, isEmptyPlan } from '../../core/plan/model.js';
import { type PipelineOptions, planManifest } from '../../engine/plan-pipeline.js';
import type { Colours } from '../../render/colour.js';
import { parseHostRestart } from '../host-restart.js';
import { EXIT_CHANGES, EXIT_OK, printDiagnostic } from '../io.js';
import { checkOutFile, writePrivateAtomically } from '../out-file.js';
import { type LoadedManifest, loadManifestFile } from '../load.js';
import { type Target, type TargetOptions, openTarget } from '../target.js';
import { TOOL } from '../version.js';

export interface PlanFlags extends TargetOptions {
  hostRestart?: string;
  json?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
  replace?: string[];
  target?: string;
  restoreIds?: boolean;
  /** --parallel: hosts observed and planned at once. */
  parallel?: string;
}

/** --parallel N: a whole number from 1 to 64. */
export function parseParallel(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 64)) throw new NestctlError('user', `--parallel ${JSON.stringify(text)}: not a number of hosts`, 'give a whole number from 1 to 64, e.g. --parallel 4');
  return n;
}

/** Plan against a host; throws InputError/EnvironmentError for problems. */
export function computePlan(loaded: LoadedManifest, target: Target, flags: PlanFlags, mode: Plan['mode'] = 'apply'): Promise<Plan> {
  if (flags.target === '') throw new NestctlError('user', '--target: empty node path', 'use a node path such as c1 or c1/c2');
  return planWith(loaded, target, {
    hostRestart: flags.hostRestart !== undefined ? parseHostRestart(flags.hostRestart) : null,
    tool: TOOL,
    manifestText: loaded.text,
    mode,
    simulation: target.simulation,
    prune: flags.prune ?? false,
    restoreIds: flags.restoreIds ?? false,
    ...(flags.replace?.length ? { replace: flags.replace } : {}),
    target: flags.target ?? null,
    ...(flags.parallel !== undefined ? { parallel: parseParallel(flags.parallel)! } : {}),
  });
}

/** The one pipeline, with its problems turned into the CLI's errors. */
export async function planWith(loaded: LoadedManifest, target: Target, options: PipelineOptions): Promise<Plan> {
  const result = await planManifest(loaded.manifest, target.hosts ?? target.host, options);
  if (result.ok) return result.plan;
  const env = result.problems.filter((p) => p.fault === 'environment');
  if (env.length > 0) {
    const first = env[0]!;
    throw new EnvironmentError(env.map((p) => p.message).join('; '), first.hint, pathOf(first.where));
  }
  throw new InputError(result.problems, { file: loaded.manifest.file, text: loaded.text });
}

export function printWarnings(loaded: LoadedManifest, c: Colours, json: boolean): void {
  if (json) return;
  for (const w of loaded.warnings) printDiagnostic(w, { file: loaded.manifest.file, text: loaded.text }, c);
}

export function simulatedDaemon(plan: Plan): string {
  const flavour = flavourAt(plan, '');
  return flavour ? daemonName(flavour) : 'daemon';
}

/**
 * Above a simulated plan: that it is one, naming the simulated host's daemon (the plan's host
 * flavour), and what the simulation took on trust.
 */
export function simulatedNote(target: Target, plan: Plan, c: Colours): string {
  if (!target.simulation) return '';
  const banner = `(simulated ${simulatedDaemon(plan)}: nothing on this machine is read or changed)`;
  const assumed = (target.assumptions ?? []).map((l) => `${l}\n`).join('');
  return c.dim(`${banner}\n${assumed}\n`);
}

export async function planCommand(file: string, flags: PlanFlags, c: Colours): Promise<number> {
  if (flags.out !== undefined) await checkOutFile('--out', flags.out);
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c, Boolean(flags.json));
  const target = await openTarget(loaded.manifest, flags);
  // Loaded while the host answers its probes.
  const rendering = import('../../render/plan-text.js');
  rendering.catch(() => undefined);
  const plan = await computePlan(loaded, target, flags);
  const { renderPlanText } = await rendering;
  if (flags.out !== undefined) await writePrivateAtomically('--out', flags.out, encodePlan(plan));
  if (flags.json) process.stdout.write(encodePlan(plan));
  else {
    process.stdout.write(simulatedNote(target, plan, c));
    process.stdout.write(renderPlanText(plan, c, { verbose: flags.verbose ?? false }));
    if (flags.out) process.stdout.write(`\nSaved the plan to ${flags.out}. To perform exactly these actions, run: nestctl apply ${flags.out}\n`);
  }
  return flags.detailedExitcode && !isEmptyPlan(plan) ? EXIT_CHANGES : EXIT_OK;
}
