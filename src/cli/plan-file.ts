// Saved plans: recognise and decode them, and plan them again before anything is run.

import { staleRemotes } from '../core/plan/hosts.js';
import { InputError, NestctlError } from '../core/errors.js';
import { loadManifest } from '../core/manifest/load.js';
import { decodePlan, looksLikeSavedPlan } from '../core/plan/codec.js';
import { planDifference } from '../core/plan/compare.js';
import type { Plan } from '../core/plan/model.js';
import { readText } from './io.js';
import type { LoadedManifest } from './load.js';
import { readSources } from './sources.js';
import type { Target } from './target.js';
import { TOOL } from './version.js';

/** The decoded plan when file is a saved plan (refused if it does not decode), else null. */
export async function readPlanIfAny(file: string): Promise<Plan | null> {
  const text = await readText(file);
  if (!looksLikeSavedPlan(text)) return null;
  const r = decodePlan(text, file, TOOL);
  if (!r.ok) throw r.error;
  return r.plan;
}

/** For commands that take a manifest only. */
export function refuseSavedPlan(file: string, text: string): void {
  if (looksLikeSavedPlan(text)) {
    throw new NestctlError('user', `${file} is a saved plan, not a manifest`, `use nestctl apply ${file} or nestctl show ${file}`);
  }
}

/** A saved plan records how it was planned; flags that would plan it differently are refused. */
export function refusePlanningFlags(file: string, flags: { hostRestart?: string; prune?: boolean; replace?: string[]; target?: string }): void {
  const given = [flags.hostRestart !== undefined && '--host-restart', flags.prune && '--prune', flags.replace?.length && '--replace', flags.target !== undefined && '--target'].filter(Boolean);
  if (given.length > 0) {
    throw new NestctlError('user', `${given.join(', ')} cannot be given with a saved plan: ${file} records how it was planned`, `apply it without ${given.join(', ')}, or plan again with them: nestctl plan --out ${file} ...`);
  }
}

export async function savedManifest(saved: Plan, file: string): Promise<LoadedManifest> {
  const r = loadManifest(saved.manifest.text, saved.manifest.file);
  if (!r.ok) throw new NestctlError('user', `${file}: the manifest saved in the plan does not load (${r.diagnostics[0]?.message ?? 'invalid'})`, `run nestctl plan --out ${file} again`);
  // Sources are read again: a source changed since the plan makes the fresh plan differ.
  const filled = await readSources(r.manifest);
  if (!filled.ok) throw new InputError(filled.diagnostics);
  return { manifest: filled.manifest, text: saved.manifest.text, warnings: [] };
}

/**
 * Plan the saved manifest again, with the saved options, against what is there now. Only a fresh
 * plan identical to the saved one is accepted, and the fresh one is what runs: a saved plan can
 * never make nestctl do something planning its manifest would not.
 */
export async function rederive(saved: Plan, file: string, loaded: LoadedManifest, target: Target): Promise<Plan> {
  // Imported here: validate also uses this module and needs none of planning.
  const [{ planWith }, { savedPlanOptions }] = await Promise.all([import('./commands/plan.js'), import('../engine/plan-pipeline.js')]);
  const fresh = await planWith(loaded, target, savedPlanOptions(saved, TOOL));
  const moved = staleRemotes(saved, fresh);
  if (moved.length > 0) throw new NestctlError('environment', `plan is stale: ${moved.join('; ')}`, `check lxc remote list; if that server is the one you mean, run nestctl plan --out ${file} again`);
  const diff = planDifference(saved, fresh);
  if (!diff) return fresh;
  if (diff.stale) {
    throw new NestctlError('environment', `plan is stale: what ${file} was computed from has changed since (subid files, instances, images or daemons); first difference: ${diff.where}`, `run nestctl plan --out ${file} again`);
  }
  throw new NestctlError('user', `${file} does not match a fresh plan of the manifest it holds: ${diff.where}`, `the plan was edited after it was saved; run nestctl plan --out ${file} again and review it`);
}
