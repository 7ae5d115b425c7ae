// Apply progress: listr2 task lists on a terminal (one group per level, levels concurrently),
// plain lines otherwise. Both only display the engine's outcomes; neither runs anything.

import { DefaultRenderer, Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
import type { Plan, Step } from '../core/plan/model.js';
import type { ApplyEvent, ApplyRun, StepOutcome } from '../engine/apply.js';
import type { Colours } from './colour.js';
import { stepTitle as planStepTitle } from './plan-text.js';
import { terminalText, visible, visibleLines } from './visible.js';
import { levelLabel } from '../core/paths.js';

/** A step's title as progress draws it: built from the plan, which a saved plan file brings from outside. */
const stepTitle = (step: Step, plan: Plan): string => visible(planStepTitle(step, plan));

export function plainProgress(stream: NodeJS.WritableStream, c: Colours, plan: Plan): (e: ApplyEvent) => void {
  const out = { write: (text: string) => stream.write(terminalText(text, c.on)) };
  return (e) => {
    if (e.type === 'step-start') {
      out.write(`${c.dim('…')} ${stepTitle(e.step, plan)}\n`);
      return;
    }
    if (e.type === 'step-output') {
      // Every line, each with its step: steps run side by side and their lines interleave.
      const prefix = `${outputTitle(e.step, plan)} ${c.dim('│')} `;
      out.write(e.lines.map((l) => `${prefix}${l.text}\n`).join(''));
      return;
    }
    out.write(`${outcomeMark(e.outcome, c)} ${stepTitle(e.step, plan)}${outcomeNote(e.outcome)}\n`);
  };
}

/** The short title a step's output lines carry: `c1/c2: setup`. */
export const outputTitle = (step: Step, plan: Plan): string => (step.kind === 'run-setup' ? `${step.path}: setup` : stepTitle(step, plan));

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

/** At most this many redraws a second, however many steps change: drawing must not slow the apply. */
const REDRAW_MS = 100;
/** A step running longer than this shows how long it has been running (image copies, boot waits). */
const SHOW_ELAPSED_MS = 2000;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/**
 * listr2's default renderer redraws the whole list on every change of every task, so the cost of
 * an apply grew with the square of its steps (and Ctrl-C waited behind the drawing). This one
 * redraws at most every REDRAW_MS with the state at that moment.
 */
class ThrottledRenderer extends DefaultRenderer {
  // apply.ts chooses this view only on a terminal; listr2 must not second-guess it (tests draw to a stream).
  static override nonTTY = true;
  private pending: NodeJS.Timeout | undefined;

  override update(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      super.update();
    }, REDRAW_MS);
  }

  override end(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    super.end();
  }
}

export interface TerminalProgress {
  onEvent: (e: ApplyEvent) => void;
  /**
   * Starts drawing; resolves once listr2's renderer is up. Start the apply after it: its modules
   * load asynchronously, and an apply already running (a simulated one never waits) starves them.
   */
  start: () => Promise<void>;
  /** Draws this apply to its end; resolves when all its steps ended. */
  follow: (run: ApplyRun) => Promise<void>;
}

/**
 * One task group per level (levels side by side, as the engine runs them), its steps as
 * subtasks; a level that finished collapses to its one line, one with a failure stays open.
 */
export function terminalProgress(plan: Plan, out: NodeJS.WriteStream = process.stdout): TerminalProgress {
  const startedAt = new Map<string, number>();
  /** The last line each running step's command printed; drawn under the step at the redraw rate. */
  const lastLine = new Map<string, string>();
  let drawing: () => void = () => undefined;
  const up = new Promise<void>((resolve) => (drawing = resolve));
  let follow: (run: ApplyRun) => void = () => undefined;
  const followed = new Promise<ApplyRun>((resolve) => (follow = resolve));

  const stepTask = (step: Step): ListrTask => ({
    title: stepTitle(step, plan),
    task: async (_ctx, task) => {
      const title = stepTitle(step, plan);
      const tick = setInterval(() => {
        const t0 = startedAt.get(step.id);
        if (t0 !== undefined && Date.now() - t0 >= SHOW_ELAPSED_MS) task.title = `${title} (${seconds(Date.now() - t0)})`;
      }, 1000);
      let shown: string | undefined;
      const output = setInterval(() => {
        const line = lastLine.get(step.id);
        if (line !== undefined && line !== shown) task.output = shown = visible(line);
      }, REDRAW_MS);
      let o: StepOutcome;
      try {
        o = await (await followed).outcome(step.id);
      } finally {
        clearInterval(tick);
        clearInterval(output);
        lastLine.delete(step.id);
      }
      if (o.status === 'skipped') task.skip(`${title} [skipped: ${visible(o.reason)}]`);
      else if (o.status === 'failed') throw new Error(visibleLines(o.error.message));
      else {
        const notes = [...(o.changed ? [] : [o.note]), ...(o.ms >= SHOW_ELAPSED_MS ? [seconds(o.ms)] : [])];
        task.title = notes.length > 0 ? `${title} (${notes.join(', ')})` : title;
      }
    },
  });

  const levels = [...new Set(plan.steps.map((s) => s.level))];
  const list = new Listr(
    levels.map((level) => {
      const steps = plan.steps.filter((s) => s.level === level);
      return {
        title: `${levelLabel(level)} (${steps.length} step${steps.length === 1 ? '' : 's'})`,
        task: (_ctx, task) => {
          // Task functions are called only once the renderer is up.
          drawing();
          return task.newListr(steps.map(stepTask), { concurrent: false, exitOnError: false });
        },
      } satisfies ListrTask;
    }),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      renderer: ThrottledRenderer,
      rendererOptions: {
        collapseSubtasks: true,
        collapseErrors: false,
        formatOutput: 'truncate',
        logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(out, out) }),
      },
    },
  );
  let finished: Promise<void> | null = null;
  return {
    onEvent: (e) => {
      if (e.type === 'step-start') startedAt.set(e.step.id, Date.now());
      else if (e.type === 'step-output') lastLine.set(e.step.id, e.lines[e.lines.length - 1]!.text);
    },
    start: () => {
      finished ??= list.run().then(
        () => undefined,
        () => undefined,
      );
      return levels.length === 0 ? Promise.resolve() : up;
    },
    follow: async (run) => {
      follow(run);
      await finished;
    },
  };
}
