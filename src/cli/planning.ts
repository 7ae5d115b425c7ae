// Planning from the CLI: a manifest's flags turned into the pipeline's options, a saved plan
// planned again, and the pipeline's problems turned into the CLI's errors. Shared by plan, apply,
// destroy and viz.

import { type Diagnostic, pathOf } from '../core/diagnostics.js';
import { EnvironmentError, InputError, NestctlError } from '../core/errors.js';
import { planDifference } from '../core/plan/compare.js';
import { staleRemotes } from '../core/plan/hosts.js';
import type { Plan } from '../core/plan/model.js';
import { type PipelineOptions, planManifest, savedPlanOptions } from '../engine/plan-pipeline.js';
import { parseHostRestart } from './host-restart.js';
import type { LoadedManifest } from './load.js';
import type { Connection, ConnectionOptions } from './connection-types.js';
import { TOOL } from './version.js';

export interface PlanFlags extends ConnectionOptions {
  hostRestart?: string;
  json?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
  replace?: string[];
  target?: string;
  restoreIds?: boolean;
  /** --snapshot: each existing container the plan changes is snapshotted first. */
  snapshot?: boolean;
  /** --parallel: hosts observed and planned at once. */
  parallel?: string;
}

/** --parallel N: a whole number from 1 to 64. */
export function parseParallel(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 64))
    throw new NestctlError(
      'user',
      `--parallel ${JSON.stringify(text)}: not a number of hosts`,
      'give a whole number from 1 to 64, e.g. --parallel 4',
    );
  return n;
}

/** Plan against the connection's hosts; throws InputError/EnvironmentError for problems. */
export function computePlan(loaded: LoadedManifest, connection: Connection, flags: PlanFlags, mode: Plan['mode'] = 'apply'): Promise<Plan> {
  return planWith(loaded, connection, pipelineOptions(loaded, connection, flags, mode));
}

/** The pipeline's options for a manifest's flags (also status's, which keeps the observation). */
export function pipelineOptions(
  loaded: LoadedManifest,
  connection: Connection,
  flags: PlanFlags,
  mode: Plan['mode'] = 'apply',
): PipelineOptions {
  if (flags.target === '') throw new NestctlError('user', '--target: empty node path', 'use a node path such as c1 or c1/c2');
  return {
    hostRestart: flags.hostRestart !== undefined ? parseHostRestart(flags.hostRestart) : null,
    tool: TOOL,
    manifestText: loaded.text,
    mode,
    simulation: connection.simulation,
    prune: flags.prune ?? false,
    restoreIds: flags.restoreIds ?? false,
    ...(flags.replace?.length ? { replace: flags.replace } : {}),
    ...(flags.snapshot ? { snapshot: true } : {}),
    target: flags.target ?? null,
    ...(flags.parallel !== undefined ? { parallel: parseParallel(flags.parallel)! } : {}),
  };
}

/** The one pipeline, with its problems turned into the CLI's errors. */
export async function planWith(loaded: LoadedManifest, connection: Connection, options: PipelineOptions): Promise<Plan> {
  const result = await planManifest(loaded.manifest, connection.hosts ?? connection.host, options);
  if (result.ok) return result.plan;
  throw planProblems(loaded, result.problems);
}

/** A refused plan's problems as the CLI's error: the environment's first, else the manifest's. */
export function planProblems(loaded: LoadedManifest, problems: Diagnostic[]): NestctlError {
  const result = { problems };
  const env = result.problems.filter((p) => p.fault === 'environment');
  if (env.length > 0) {
    const first = env[0]!;
    return new EnvironmentError(env.map((p) => p.message).join('; '), first.hint, pathOf(first.where));
  }
  return new InputError(result.problems, { file: loaded.manifest.file, text: loaded.text });
}

/**
 * Plan the saved manifest again, with the saved options, against what is there now. Only a fresh
 * plan identical to the saved one is accepted, and the fresh one is what runs: a saved plan can
 * never make nestctl do something planning its manifest would not.
 */
export async function rederive(saved: Plan, file: string, loaded: LoadedManifest, connection: Connection): Promise<Plan> {
  const fresh = await planWith(loaded, connection, savedPlanOptions(saved, TOOL));
  const moved = staleRemotes(saved, fresh);
  if (moved.length > 0)
    throw new NestctlError(
      'environment',
      `plan is stale: ${moved.join('; ')}`,
      `check lxc remote list; if that server is the one you mean, run nestctl plan --out ${file} again`,
    );
  const diff = planDifference(saved, fresh);
  if (!diff) return fresh;
  if (diff.stale) {
    throw new NestctlError(
      'environment',
      `plan is stale: what ${file} was computed from has changed since (subid files, instances, images or daemons); first difference: ${diff.where}`,
      `run nestctl plan --out ${file} again`,
    );
  }
  throw new NestctlError(
    'user',
    `${file} does not match a fresh plan of the manifest it holds: ${diff.where}`,
    `the plan was edited after it was saved; run nestctl plan --out ${file} again and review it`,
  );
}
