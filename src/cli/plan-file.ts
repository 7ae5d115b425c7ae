// Saved plans: recognise and decode them, the manifest they carry, the flags they refuse
// (planning.ts plans them again before anything is run).

import { InputError, NestctlError } from '../core/errors.js';
import { loadManifest } from '../core/manifest/load.js';
import { decodePlan, looksLikeSavedPlan } from '../core/plan/codec.js';
import type { Plan } from '../core/plan/model.js';
import { readText } from './read.js';
import type { LoadedManifest } from './load.js';
import { readSources } from './sources.js';
import { TOOL } from './version.js';

/** The decoded plan when file is a saved plan (refused if it does not decode), else null. */
export async function readPlanIfAny(file: string): Promise<Plan | null> {
  const text = await readText(file);
  if (!looksLikeSavedPlan(text)) return null;
  const r = decodePlan(text, file, TOOL);
  if (!r.ok) throw r.error;
  return r.plan;
}

/** A saved plan records how it was planned; flags that would plan it differently are refused. */
export function refusePlanningFlags(
  file: string,
  flags: { hostRestart?: string; prune?: boolean; replace?: string[]; target?: string; snapshot?: boolean },
): void {
  const given = [
    flags.snapshot && '--snapshot',
    flags.hostRestart !== undefined && '--host-restart',
    flags.prune && '--prune',
    flags.replace?.length && '--replace',
    flags.target !== undefined && '--target',
  ].filter(Boolean);
  if (given.length > 0) {
    throw new NestctlError(
      'user',
      `${given.join(', ')} cannot be given with a saved plan: ${file} records how it was planned`,
      `apply it without ${given.join(', ')}, or plan again with them: nestctl plan --out ${file} ...`,
    );
  }
}

export async function savedManifest(saved: Plan, file: string): Promise<LoadedManifest> {
  const r = loadManifest(saved.manifest.text, saved.manifest.file);
  if (!r.ok)
    throw new NestctlError(
      'user',
      `${file}: the manifest saved in the plan does not load (${r.diagnostics[0]?.message ?? 'invalid'})`,
      `run nestctl plan --out ${file} again`,
    );
  // Sources are read again: a source changed since the plan makes the fresh plan differ.
  const filled = await readSources(r.manifest);
  if (!filled.ok) throw new InputError(filled.diagnostics);
  return { manifest: filled.manifest, text: saved.manifest.text, warnings: [] };
}
