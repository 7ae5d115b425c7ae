// Apply progress: listr2 task lists on a terminal (one list per level, levels concurrently),
// plain lines otherwise. Both only display the engine's outcomes; neither runs anything.

import { Listr, type ListrTask } from 'listr2';
import type { Plan, Step } from '../core/plan/model.js';
import type { ApplyEvent, ApplyRun, StepOutcome } from '../engine/apply.js';
import type { Colours } from './colour.js';
import { stepTitle } from './plan-text.js';
import { levelLabel } from '../core/paths.js';

export function plainProgress(out: NodeJS.WritableStream, c: Colours, plan: Plan): (e: ApplyEvent) => void {
  return (e) => {
    if (e.type === 'step-start') {
      out.write(`${c.dim('…')} ${stepTitle(e.step, plan)}\n`);
      return;
    }
    out.write(`${outcomeMark(e.outcome, c)} ${stepTitle(e.step, plan)}${outcomeNote(e.outcome)}\n`);
  };
}

function outcomeMark(o: StepOutcome, c: Colours): string {
  if (o.status === 'done') return c.green('✔');
  if (o.status === 'failed') return c.red('✖');
  return c.yellow('↓');
}

function outcomeNote(o: StepOutcome): string {
  if (o.status === 'done') return ` (${o.changed ? '' : `${o.note}, `}${(o.ms / 1000).toFixed(1)} s)`;
  if (o.status === 'failed') return `: ${o.error.message}`;
  return ` [skipped: ${o.reason}]`;
}

/** Runs listr2's default renderer over an apply already in progress; resolves when all steps ended. */
export async function listrProgress(plan: Plan, run: ApplyRun): Promise<void> {
  const levels = [...new Set(plan.steps.map((s) => s.level))];
  const stepTask = (step: Step): ListrTask => ({
    title: stepTitle(step, plan),
    task: async (_ctx, task) => {
      const o = await run.outcome(step.id);
      if (o.status === 'skipped') task.skip(`${stepTitle(step, plan)} [skipped: ${o.reason}]`);
      else if (o.status === 'failed') throw o.error;
      else if (!o.changed) task.title = `${stepTitle(step, plan)} (${o.note})`;
    },
  });
  const list = new Listr(
    levels.map((level) => ({
      title: levelLabel(level),
      task: (_ctx, task) =>
        task.newListr(plan.steps.filter((s) => s.level === level).map(stepTask), { concurrent: false, exitOnError: false }),
    })),
    { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false } },
  );
  await list.run().catch(() => undefined);
}
