// Execute a plan: every step starts as soon as the steps it depends on are done, so sibling
// branches run concurrently and each branch runs in order. A failure stops its own branch
// (dependents are skipped); the rest of the tree finishes. Events feed the renderers.

import { hostPart } from '../core/plan/hosts.js';
import { type Plan, type Step, flavourAt } from '../core/plan/model.js';
import type { LxdLevel } from '../ports/lxd.js';
import type { HostConnection, RemoteHost } from '../ports/remote.js';
import { executeStep, type StepContext, stepContext } from './execute-step.js';
import { type LevelResolver, levelResolver } from './levels.js';
import type { OutputLine } from './output-lines.js';

export type { OutputLine } from './output-lines.js';

export type StepOutcome =
  | { status: 'done'; changed: boolean; note?: string; ms: number }
  | { status: 'failed'; error: Error; ms: number }
  | { status: 'skipped'; reason: string };

export type ApplyEvent =
  | { type: 'step-start'; step: Step }
  | { type: 'step-end'; step: Step; outcome: StepOutcome }
  /** A running step's command printed these lines (cut to a bounded length, safe to draw). */
  | { type: 'step-output'; step: Step; lines: OutputLine[] };

/** The reason of a step not started because the apply was stopped (Ctrl-C). */
export const INTERRUPTED = 'apply was interrupted';

export interface ApplySummary {
  done: number;
  unchanged: number;
  failed: Array<{ step: Step; error: Error }>;
  skipped: Array<{ step: Step; reason: string }>;
  ms: number;
}

export interface ApplyRun {
  outcome(stepId: string): Promise<StepOutcome>;
  /** Stop starting new steps; running ones finish. */
  stop(): void;
  finished: Promise<ApplySummary>;
}

interface HostRun {
  levels: LevelResolver;
  context: StepContext;
  /** The step as that host's engine reads it (its id as planned there), by the plan's id. */
  local: Map<string, Step>;
}

/** `host`: this machine's level, or each host's connection by name for a plan of several hosts (Plan.hosts). */
function hostRuns(
  plan: Plan,
  host: LxdLevel | ReadonlyMap<string, HostConnection>,
  output: (step: Step, lines: OutputLine[]) => void,
): Map<string | undefined, HostRun> {
  const one = (part: Plan, top: LxdLevel, steps: readonly Step[], remote: RemoteHost | null = null): HostRun => {
    const levels = levelResolver(
      top,
      (path) => flavourAt(part, path),
      (path) => part.lxcLevels?.[path]?.user,
    );
    const planned = new Map(part.steps.map((s, i) => [s, steps[i]!]));
    return {
      levels,
      context: {
        ...stepContext(part, levels),
        output: (s, lines) => output(planned.get(s) ?? s, lines),
        ...(remote
          ? {
              relay: (fingerprint: string, aliases: readonly string[]) => remote.relayImage(fingerprint, aliases),
              move: (name: string, member: string, running: boolean) => remote.move(name, member, running),
            }
          : {}),
      },
      local: new Map(part.steps.map((s, i) => [steps[i]!.id, s])),
    };
  };
  if (!plan.hosts) return new Map([[undefined, one(plan, host as LxdLevel, plan.steps)]]);
  const tops = host as ReadonlyMap<string, HostConnection>;
  return new Map(
    plan.hosts.map((h) => {
      const conn = tops.get(h.name);
      if (!conn) throw new Error(`no connection to host ${h.name}`);
      return [
        h.name,
        one(
          hostPart(plan, h.name),
          conn.level,
          plan.steps.filter((s) => s.host === h.name),
          conn.remote,
        ),
      ];
    }),
  );
}

export function startApply(
  plan: Plan,
  host: LxdLevel | ReadonlyMap<string, HostConnection>,
  onEvent: (e: ApplyEvent) => void = () => undefined,
): ApplyRun {
  const runs = hostRuns(plan, host, (step: Step, lines: OutputLine[]) => onEvent({ type: 'step-output', step, lines }));
  const outcomes = new Map<string, Promise<StepOutcome>>();
  const started = Date.now();
  let stopping = false;

  for (const step of plan.steps) {
    const deps = step.dependsOn.map(
      (id) => outcomes.get(id) ?? Promise.resolve<StepOutcome>({ status: 'skipped', reason: `unknown step ${id}` }),
    );
    outcomes.set(
      step.id,
      (async (): Promise<StepOutcome> => {
        const before = await Promise.all(deps);
        // Let timers and signals in before each step: a simulated level answers in microtasks
        // only, and without this a whole apply ran without one redraw or a chance for Ctrl-C.
        await new Promise<void>((resume) => setImmediate(resume));
        let outcome: StepOutcome;
        if (before.some((o) => o.status !== 'done')) outcome = { status: 'skipped', reason: 'a step it depends on did not complete' };
        else if (stopping) outcome = { status: 'skipped', reason: INTERRUPTED };
        else {
          onEvent({ type: 'step-start', step });
          const t0 = Date.now();
          try {
            const run = runs.get(step.host)!;
            const r = await executeStep(run.local.get(step.id)!, run.levels, run.context);
            outcome = r.changed
              ? { status: 'done', changed: true, ms: Date.now() - t0 }
              : { status: 'done', changed: false, note: r.why, ms: Date.now() - t0 };
          } catch (error) {
            outcome = { status: 'failed', error: error instanceof Error ? error : new Error(String(error)), ms: Date.now() - t0 };
          }
        }
        if (outcome.status === 'done') {
          const run = runs.get(step.host)!;
          run.context.exports.stepDone(run.local.get(step.id)!);
        }
        onEvent({ type: 'step-end', step, outcome });
        return outcome;
      })(),
    );
  }

  const finished = (async (): Promise<ApplySummary> => {
    const all = await Promise.all(plan.steps.map(async (step) => ({ step, outcome: await outcomes.get(step.id)! })));
    await Promise.all([...runs.values()].flatMap((r) => [r.context.exports.close(), r.context.snapshots.close()]));
    return {
      done: all.filter((a) => a.outcome.status === 'done' && a.outcome.changed).length,
      unchanged: all.filter((a) => a.outcome.status === 'done' && !a.outcome.changed).length,
      failed: all.flatMap((a) => (a.outcome.status === 'failed' ? [{ step: a.step, error: a.outcome.error }] : [])),
      skipped: all.flatMap((a) => (a.outcome.status === 'skipped' ? [{ step: a.step, reason: a.outcome.reason }] : [])),
      ms: Date.now() - started,
    };
  })();

  return {
    outcome: (id) => outcomes.get(id) ?? Promise.resolve({ status: 'skipped', reason: `unknown step ${id}` }),
    stop: () => {
      stopping = true;
    },
    finished,
  };
}
