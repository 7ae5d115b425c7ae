// nestctl apply FILE: plan, show, approve, execute, summarise; in a simulation, plan again and
// report whether the tree converged.

import { isEmptyPlan, type Plan } from '../../core/plan/model.js';
import { type ApplySummary, startApply } from '../../engine/apply.js';
import type { LxdLevel } from '../../ports/lxd.js';
import type { Colours } from '../../render/colour.js';
import { renderPlanText } from '../../render/plan-text.js';
import { listrProgress, plainProgress } from '../../render/progress.js';
import { stepTitle } from '../../render/plan-text.js';
import { EXIT_ERROR, EXIT_OK, askApproval } from '../io.js';
import { loadManifestFile } from '../load.js';
import { openTarget } from '../target.js';
import { type PlanFlags, computePlan, printWarnings } from './plan.js';

export interface ApplyFlags extends PlanFlags {
  autoApprove?: boolean;
  ci?: boolean;
}

export async function applyCommand(file: string, flags: ApplyFlags, c: Colours): Promise<number> {
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c);
  const target = await openTarget(loaded.manifest, flags);
  const out = process.stdout;
  if (target.simulated) out.write(c.dim('(simulated LXD: nothing on this machine is read or changed)\n\n'));
  const plan = await computePlan(loaded, target.host, flags);
  out.write(renderPlanText(plan, c));
  if (isEmptyPlan(plan)) return EXIT_OK;
  if (!flags.autoApprove && !(await askApproval('\nDo you want to perform these actions?'))) {
    out.write('\nApply cancelled.\n');
    return EXIT_ERROR;
  }
  out.write('\n');
  const summary = await execute(plan, target.host, flags, c);
  printSummary(summary, c);
  if (summary.failed.length > 0 || summary.skipped.length > 0) return EXIT_ERROR;
  if (target.simulated) return reportConvergence(await computePlan(loaded, target.host, flags), c);
  return EXIT_OK;
}

async function execute(plan: Plan, host: LxdLevel, flags: ApplyFlags, c: Colours): Promise<ApplySummary> {
  const tty = Boolean(process.stdout.isTTY) && !flags.ci;
  const run = startApply(plan, host, tty ? undefined : plainProgress(process.stdout, c));
  const onSigint = (): void => {
    process.stderr.write('\nInterrupted: letting running steps finish, starting no new ones.\n');
    run.stop();
  };
  process.once('SIGINT', onSigint);
  try {
    if (tty) await listrProgress(plan, run);
    return await run.finished;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function printSummary(s: ApplySummary, c: Colours): void {
  const out = process.stdout;
  out.write('\n');
  for (const f of s.failed) out.write(c.red(`✖ ${stepTitle(f.step)}: ${f.error.message}\n`));
  const counts = `${s.done} done, ${s.unchanged} already so, ${s.failed.length} failed, ${s.skipped.length} skipped`;
  const secs = `${(s.ms / 1000).toFixed(1)} s`;
  if (s.failed.length === 0 && s.skipped.length === 0) out.write(c.green(c.bold(`Apply complete! Steps: ${counts} (${secs}).\n`)));
  else out.write(c.red(c.bold(`Apply incomplete. Steps: ${counts} (${secs}). Run nestctl plan to see what remains.\n`)));
}

function reportConvergence(again: Plan, c: Colours): number {
  if (isEmptyPlan(again)) {
    process.stdout.write(c.green('Converged: planning again in the simulated LXD finds no changes.\n'));
    return EXIT_OK;
  }
  process.stdout.write(c.red(`Did not converge: planning again finds ${again.steps.length} step(s):\n`));
  process.stdout.write(renderPlanText(again, c));
  return EXIT_ERROR;
}
