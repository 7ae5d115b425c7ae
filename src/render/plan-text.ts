// Terraform-style plan text. Computes nothing: everything shown is in the Plan value.

import { structuredPatch } from 'diff';
import { formatRange } from '../core/ids/range.js';
import { type Plan, type Step, flavourAt, isEmptyPlan, planCounts } from '../core/plan/model.js';
import type { Colours } from './colour.js';
import { levelLabel } from '../core/paths.js';
import { bridgeName, daemonName } from '../core/flavour/index.js';

function symbol(step: Step): '+' | '~' | '-' | '-/+' {
  if (isReplacement(step)) return '-/+';
  switch (step.kind) {
    case 'delete-instance':
      return '-';
    case 'create-instance':
    case 'copy-image':
    case 'fetch-image':
    case 'init-daemon':
      return '+';
    default:
      return '~';
  }
}

export function stepTitle(step: Step, plan: Pick<Plan, 'levels'>): string {
  const where = levelLabel(step.level);
  const flavour = flavourAt(plan, step.level);
  switch (step.kind) {
    case 'write-subid':
      return step.edit ? `${where}: /etc/${step.file} → ${step.edit.owner}:${formatRange(step.edit.entry)}` : `${where}: restore /etc/${step.file}`;
    case 'restart-daemon':
      return `${where}: restart ${daemonName(flavour)}${step.command ? ` (${step.command.join(' ')})` : ''}`;
    case 'init-daemon':
      return `${where}: initialise ${daemonName(flavour)} (${[step.needs.pool && 'dir pool "default"', step.needs.bridge && `bridge ${bridgeName(flavour)} ${step.subnet}`, step.needs.profile && 'default profile'].filter(Boolean).join(', ')})`;
    case 'fetch-image':
      return `${where}: fetch image ${step.remote}`;
    case 'copy-image':
      return `${where}: copy image ${step.image}${step.fingerprint ? ` (${step.fingerprint.slice(0, 12)})` : ''} from ${levelLabel(step.source)}`;
    case 'create-instance':
      return step.replace !== undefined ? replaceTitle(step.path, step.replace) : `${step.path}: create from ${step.image}`;
    case 'update-config':
      return `${step.path}: update config`;
    case 'start-instance':
      return `${step.path}: start`;
    case 'delete-instance':
      return `${step.path}: destroy`;
    case 'remap-instance':
      return `${step.path}: restart to apply its new id map`;
  }
}

function unifiedDiff(file: string, before: string, after: string, c: Colours): string[] {
  const patch = structuredPatch(file, file, before, after, '', '', { context: 3 });
  const out = [c.bold(`--- ${file}`), c.bold(`+++ ${file}`)];
  for (const h of patch.hunks) {
    out.push(c.cyan(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`));
    for (const l of h.lines) out.push(l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l);
  }
  return out;
}

function details(step: Step, c: Colours): string[] {
  switch (step.kind) {
    case 'write-subid':
      if (step.after === null) {
        const e = step.edit;
        return [c.dim(e ? `(file known after apply: ${e.owner}'s first entry becomes ${e.owner}:${formatRange(e.entry)}, other lines kept)` : '(file known after apply)')];
      }
      // What the step will write is shown whenever it carries it, from an empty file if need be.
      return unifiedDiff(`/etc/${step.file}`, step.before ?? '', step.after, c);
    case 'create-instance':
      return [
        `profiles: ${step.profiles.join(', ') || '(none)'}`,
        ...Object.entries(step.config).map(([k, v]) => c.green(`+ ${k} = ${JSON.stringify(v)}`)),
      ];
    case 'update-config':
      return [
        ...Object.entries(step.set).map(([k, v]) =>
          k in step.before ? c.yellow(`~ ${k} = ${JSON.stringify(step.before[k])} → ${JSON.stringify(v)}`) : c.green(`+ ${k} = ${JSON.stringify(v)}`),
        ),
        ...unsetLines(step.unset, step.before, c),
        ...(step.profiles ? [c.yellow(`~ profiles = [${step.profiles.before.join(', ')}] → [${step.profiles.after.join(', ')}]`)] : []),
      ];
    default:
      return [];
  }
}

const isReplacement = (step: Step): boolean => step.kind === 'create-instance' && step.replace !== undefined;

/** A create that replaces the container deleted before it (Terraform's -/+). */
function replaceTitle(path: string, why: string): string {
  return `${path} (replace: ${why})`;
}

/** Config drift: a key the manifest does not name, removed. */
function unsetLines(unset: readonly string[], before: Record<string, string>, c: Colours): string[] {
  return unset.map((k) => c.yellow(`~ ${k} = ${JSON.stringify(before[k] ?? '')} → (unset)`));
}

export function renderPlanText(plan: Plan, c: Colours): string {
  const lines: string[] = [];
  for (const w of plan.warnings) lines.push(c.yellow(`Warning: ${w}`));
  if (plan.warnings.length > 0) lines.push('');
  if (isEmptyPlan(plan)) {
    lines.push(c.green(plan.mode === 'destroy' ? 'No changes. Nothing nestctl created is left to destroy.' : 'No changes. The containers match the manifest.'));
    return lines.join('\n') + '\n';
  }
  lines.push('nestctl will perform the following actions:', '');
  const order = [...new Set(plan.steps.map((s) => s.level))];
  for (const level of order) {
    const summary = plan.levels.find((l) => l.path === level);
    const state = summary && !summary.observed ? ' (new: details known after apply)' : '';
    lines.push(c.bold(`# ${levelLabel(level)}${state}`));
    for (const step of plan.steps.filter((s) => s.level === level)) {
      const sym = symbol(step);
      lines.push(`  ${sym === '+' ? c.green(sym) : sym === '-' ? c.red(sym) : sym === '-/+' ? c.red(sym) : c.yellow(sym)} ${stepTitle(step, plan)}`);
      lines.push(`      ${c.dim(step.reason)}`);
      for (const d of details(step, c)) lines.push(`      ${d}`);
    }
    lines.push('');
  }
  const n = planCounts(plan);
  lines.push(c.bold(`Plan: ${n.add} to add, ${n.change} to change, ${n.destroy} to destroy.`));
  return lines.join('\n') + '\n';
}
