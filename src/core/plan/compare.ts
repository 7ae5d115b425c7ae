// Where a saved plan and a fresh plan of the same manifest first differ, in words a reader can
// find in the file: the step id and the field, not a character offset.

import { canonicalJson } from '../hash.js';
import type { Plan } from './model.js';

export interface PlanDifference {
  /** Only what the plan was computed from differs (observedSha256): the world changed. */
  stale: boolean;
  /** e.g. `step "c1:restart-daemon": command[0]`, or `options.prune`. */
  where: string;
}

const field = (key: string | number): string =>
  typeof key === 'number' ? `[${key}]` : /^[A-Za-z_]\w*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;

/** Path (from `at`) to the first place a and b differ, or null when they are the same. */
function firstDifference(a: unknown, b: unknown, at: string): string | null {
  if (canonicalJson(a) === canonicalJson(b)) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return `${at}${field(i)}`;
      const d = firstDifference(a[i], b[i], `${at}${field(i)}`);
      if (d) return d;
    }
  }
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], `${at}${field(k)}`);
      if (d) return d;
    }
  }
  return at;
}

function stepsDifference(saved: Plan['steps'], fresh: Plan['steps']): string | null {
  const freshIds = new Set(fresh.map((s) => s.id));
  const savedIds = new Set(saved.map((s) => s.id));
  for (let i = 0; i < Math.max(saved.length, fresh.length); i++) {
    const s = saved[i];
    const f = fresh[i];
    if (s && !freshIds.has(s.id)) return `step "${s.id}" is not in a fresh plan`;
    if (f && !savedIds.has(f.id)) return `step "${f.id}" of a fresh plan is missing from the saved plan`;
    if (!s || !f) continue;
    if (s.id !== f.id) return `step "${s.id}" is not where a fresh plan has it (step ${i + 1} is "${f.id}")`;
    const d = firstDifference(s, f, '');
    if (d) return `step "${s.id}": ${d.replace(/^\./, '')} differs`;
  }
  return null;
}

export function planDifference(saved: Plan, fresh: Plan): PlanDifference | null {
  if (canonicalJson(saved) === canonicalJson(fresh)) return null;
  const stale = saved.observedSha256 !== fresh.observedSha256;
  const steps = stepsDifference(saved.steps, fresh.steps);
  if (steps) return { stale, where: steps };
  const { steps: _s, observedSha256: _o, ...savedRest } = saved;
  const { steps: _f, observedSha256: _p, ...freshRest } = fresh;
  const rest = firstDifference(savedRest, freshRest, '');
  return { stale, where: rest ? `${rest.replace(/^\./, '')} differs` : 'observedSha256 differs' };
}
