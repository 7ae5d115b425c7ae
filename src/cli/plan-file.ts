// Saved plans: recognise, read and check them.

import { NestctlError } from '../core/errors.js';
import { PLAN_FORMAT_VERSION, type Plan } from '../core/plan/model.js';
import { readText } from './io.js';

/** A saved plan is JSON with a formatVersion; a manifest never has one. */
export async function readPlanIfAny(file: string): Promise<Plan | null> {
  const text = await readText(file);
  if (!text.trimStart().startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object' || !('formatVersion' in value)) return null;
  const plan = value as Plan;
  if (plan.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new NestctlError('user', `${file}: plan format ${String(plan.formatVersion)} is not supported (this nestctl reads format ${PLAN_FORMAT_VERSION})`, 'run nestctl plan --out again with this version');
  }
  if (!Array.isArray(plan.steps) || typeof plan.manifest?.text !== 'string' || typeof plan.observedSha256 !== 'string') {
    throw new NestctlError('user', `${file}: not a nestctl plan (steps, manifest or observedSha256 missing)`);
  }
  return plan;
}
