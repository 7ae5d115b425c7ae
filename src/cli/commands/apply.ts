// nestctl apply FILE|PLAN.json and nestctl destroy FILE: plan (or read a saved plan), show,
// approve, execute, summarise; in a simulation, plan again and report convergence.

import { lockHost } from '../../adapters/host-lock.js';
import { lockOwner } from '../../adapters/lxd/remote-host.js';
import { lockRemotes } from '../../engine/remote-locks.js';
import { hostPart } from '../../core/plan/hosts.js';
import { rollbackPlan } from '../../core/plan/snapshots.js';
import { deferredPart } from '../../core/plan/target.js';
import { parseDuration } from '../../core/duration.js';
import { NestctlError } from '../../core/errors.js';
import { OTHER_OWNER_OVERLAP } from '../../core/plan/level-entry.js';
import { type Plan, isEmptyPlan } from '../../core/plan/model.js';
import { type ApplyEvent, type ApplySummary, INTERRUPTED, type StepOutcome, startApply } from '../../engine/apply.js';
import type { LxdLevel } from '../../ports/lxd.js';
import type { HostConnection } from '../../ports/remote.js';
import type { Colours } from '../../render/colour.js';
import { rangeOf } from '../diagnostic-text.js';
import { emitDiagnostic, emitStart, emitSummary, jsonLines, jsonProgress } from '../../render/json-events.js';
import { renderPlanText, stepTitle } from '../../render/plan-text.js';
import { flavourAt } from '../../core/plan/model.js';
import { daemonName } from '../../core/flavour/index.js';
import { plainProgress, terminalProgress } from '../../render/progress.js';
import { EXIT_ERROR, EXIT_OK } from '../exit.js';
import { askApproval } from '../prompt.js';
import { type LoadedManifest, loadManifestFile } from '../load.js';
import { readPlanIfAny, refusePlanningFlags, savedManifest } from '../plan-file.js';
import { type PlanFlags, computePlan, rederive } from '../planning.js';
import { openConnection, openPlanConnection } from '../connection.js';
import type { Connection } from '../connection-types.js';
import { VERSION } from '../version.js';
import { printWarnings, simulatedDaemon, simulatedNote } from './plan.js';
import { printErr, printOut } from '../terminal.js';
import { terminalText } from '../../render/visible.js';

export interface ApplyFlags extends PlanFlags {
  autoApprove?: boolean;
  ci?: boolean;
  /** Duration text (`30s`, `2m`); `0` = fail at once when another apply holds the host lock. */
  lockTimeout?: string;
  /** After a failed step, restore the containers the plan snapshotted (core/plan/snapshots.ts). */
  rollbackOnFailure?: boolean;
}

export async function applyCommand(file: string, flags: ApplyFlags, c: Colours, mode: Plan['mode'] = 'apply'): Promise<number> {
  const lockTimeoutMs = parseDuration('--lock-timeout', flags.lockTimeout ?? '0');
  const saved = mode === 'apply' ? await readPlanIfAny(file) : null;
  const json = Boolean(flags.json);
  const out = json ? null : process.stdout;
  if (json && !saved && !flags.autoApprove) {
    throw new NestctlError('user', `${mode} --json needs --auto-approve (or a saved plan): there is no one to ask`);
  }
  let loaded: LoadedManifest;
  let connection: Connection;
  let plan: Plan;
  if (saved) {
    refusePlanningFlags(file, flags);
    mode = saved.mode;
    loaded = await savedManifest(saved, file);
    connection = await openPlanConnection(saved, loaded.manifest, flags, file);
    // The file's steps are never run: only a fresh plan identical to them.
    plan = await rederive(saved, file, loaded, connection);
  } else {
    // A rollback needs its snapshots.
    if (flags.rollbackOnFailure) flags = { ...flags, snapshot: true };
    loaded = await loadManifestFile(file);
    printWarnings(loaded, c, json);
    connection = await openConnection(loaded.manifest, flags);
    plan = await computePlan(loaded, connection, flags, mode);
  }

  if (out) {
    out.write(simulatedNote(connection, plan, c));
    out.write(renderPlanText(plan, c, { verbose: flags.verbose ?? false }));
  }
  const emit = json ? jsonLines(process.stdout) : null;
  if (emit) {
    emitStart(emit, VERSION, plan);
    for (const w of plan.warnings) emitDiagnostic(emit, 'warning', w);
    for (const w of loaded.warnings) emitDiagnostic(emit, 'warning', w.message, w.hint ?? '', rangeOf(w, loaded.manifest.file));
  }
  if (isEmptyPlan(plan)) {
    await connection.save?.();
    if (emit) emitSummary(emit, { done: 0, unchanged: 0, failed: [], skipped: [], ms: 0 });
    return EXIT_OK;
  }
  if (!saved && !flags.autoApprove) {
    // Said during planning, but easy to miss above a long plan: repeat it where the decision is made.
    for (const w of plan.warnings.filter((w) => w.includes(OTHER_OWNER_OVERLAP))) printErr(`\n${c.yellow(`Warning: ${w}`)}\n`, c);
    const verb = mode === 'destroy' ? 'destroy these containers' : 'perform these actions';
    if (!(await askApproval(`\nDo you want to ${verb}?`))) {
      out?.write(`\n${mode === 'destroy' ? 'Destroy' : 'Apply'} cancelled.\n`);
      return EXIT_ERROR;
    }
  }
  out?.write('\n');
  // Two applies must not interleave on one machine (a simulation touches nothing real).
  const release = connection.simulation
    ? () => undefined
    : await lockHost({ timeoutMs: lockTimeoutMs, onWait: (m) => printErr(`${m}\n`, c) });
  let summary: ApplySummary;
  let rolledBack: ApplySummary | null = null;
  try {
    const releaseRemotes = await lockRemotes(connection.hosts ?? [], lockOwner());
    const host = connection.hosts ? new Map(connection.hosts.map((h) => [h.name, h])) : connection.host;
    try {
      summary = await execute(plan, host, flags, c, emit);
      if (flags.rollbackOnFailure && (summary.failed.length > 0 || summary.skipped.length > 0))
        rolledBack = await rollBack(plan, summary, (p) => execute(p, host, flags, c, emit), out, c);
      // Copies that waited for their source (Plan.deferred): planned and made once it runs.
      let deferred = mode === 'apply' && summary.failed.length === 0 && summary.skipped.length === 0 ? (plan.deferred ?? []) : [];
      while (deferred.length > 0) {
        await connection.save?.();
        const again = deferredPart(await computePlan(loaded, connection, { ...flags, prune: false, replace: [] }), deferred);
        if (isEmptyPlan(again)) break;
        out?.write(
          `\n${c.bold(`Now that their sources run, copying ${deferred.map((d) => `${d.path} (a copy of ${d.source})`).join(', ')}:`)}\n`,
        );
        out?.write(renderPlanText(again, c, { verbose: flags.verbose ?? false }));
        out?.write('\n');
        summary = addSummaries(summary, await execute(again, host, flags, c, emit));
        if (summary.failed.length > 0 || summary.skipped.length > 0) break;
        // A copy of a copy waits one more round; the same list again would never end.
        const next = again.deferred ?? [];
        const same = next.length === deferred.length && next.every((d) => deferred.some((e) => e.path === d.path && e.host === d.host));
        deferred = same ? [] : next;
      }
    } finally {
      await releaseRemotes();
    }
  } finally {
    release();
  }
  if (emit) emitSummary(emit, summary);
  else printSummary(summary, c, plan, connection.simulation !== null);
  if (rolledBack && !emit) printRollback(rolledBack, c, plan);
  if (summary.failed.length > 0 || summary.skipped.length > 0) return EXIT_ERROR;
  await connection.save?.();
  if (connection.simulation && !json && mode === 'apply' && !plan.target) {
    return reportConvergence(await computePlan(loaded, connection, { ...flags, prune: false, replace: [] }), c);
  }
  return EXIT_OK;
}

async function execute(
  plan: Plan,
  host: LxdLevel | ReadonlyMap<string, HostConnection>,
  flags: ApplyFlags,
  c: Colours,
  emit: ReturnType<typeof jsonLines> | null,
): Promise<ApplySummary> {
  // A terminal that reports no width (a pty nobody sized) cannot be drawn on: plain lines there.
  const drawable = Boolean(process.stdout.isTTY) && (process.stdout.columns ?? 0) > 0;
  const tty = !emit && drawable && !flags.ci ? terminalProgress(plan) : null;
  const json = emit ? jsonProgress(emit, plan) : null;
  const plain = !emit && !tty ? plainProgress(process.stdout, c, plan) : null;
  const ended = new Map<string, StepOutcome>();
  const onEvent = (e: ApplyEvent): void => {
    if (e.type === 'step-end') ended.set(e.step.id, e.outcome);
    json?.onEvent(e);
    tty?.onEvent(e);
    plain?.(e);
  };
  await tty?.start();
  const run = startApply(plan, host, onEvent);
  let presses = 0;
  const onSigint = (): void => {
    presses += 1;
    if (presses === 1) {
      process.stderr.write('\nInterrupted: letting running steps finish, starting no new ones. Press Ctrl-C again to abort at once.\n');
      run.stop();
      return;
    }
    // Second press: say what completed, then leave without waiting for running steps.
    const done = plan.steps.filter((s) => ended.get(s.id)?.status === 'done');
    process.stderr.write(
      terminalText(
        `\nAborted. Completed before the abort (${done.length} of ${plan.steps.length}):\n${done.map((s) => `  ✔ ${stepTitle(s, plan)}\n`).join('')}Run nestctl plan to see what remains.\n`,
        false,
      ),
    );
    process.exit(EXIT_ERROR);
  };
  process.on('SIGINT', onSigint);
  try {
    if (tty) await tty.follow(run);
    const summary = await run.finished;
    if (presses > 0) reportInterrupted(summary, plan);
    return summary;
  } finally {
    process.removeListener('SIGINT', onSigint);
    json?.close();
  }
}

/** After Ctrl-C: the steps that were never started, so the user sees what is left undone. */
function reportInterrupted(s: ApplySummary, plan: Plan): void {
  const notStarted = s.skipped.filter((k) => k.reason === INTERRUPTED);
  if (notStarted.length === 0) return;
  const shown = notStarted
    .slice(0, 10)
    .map((k) => `  - ${stepTitle(k.step, plan)}\n`)
    .join('');
  const more = notStarted.length > 10 ? `  … and ${notStarted.length - 10} more\n` : '';
  process.stderr.write(
    terminalText(
      `\nInterrupted: ${notStarted.length} step(s) not started (and the steps that depend on them skipped):\n${shown}${more}`,
      false,
    ),
  );
}

function printSummary(s: ApplySummary, c: Colours, plan: Plan, simulated: boolean): void {
  const mode = plan.mode;
  const out = { write: (text: string) => printOut(text, c) };
  const what = mode === 'destroy' ? 'Destroy' : 'Apply';
  out.write('\n');
  // In a simulation a failure is a prediction: this is what the real LXD would answer.
  for (const f of s.failed)
    out.write(
      c.red(
        `✖ ${simulated ? `${daemonName(flavourAt(f.step.host !== undefined ? hostPart(plan, f.step.host) : plan, f.step.level))} would refuse ` : ''}${stepTitle(f.step, plan)}: ${f.error.message}\n`,
      ),
    );
  const counts = `${s.done} done, ${s.unchanged} already so, ${s.failed.length} failed, ${s.skipped.length} skipped`;
  const secs = `${(s.ms / 1000).toFixed(1)} s`;
  if (s.failed.length === 0 && s.skipped.length === 0) out.write(c.green(c.bold(`${what} complete! Steps: ${counts} (${secs}).\n`)));
  else out.write(c.red(c.bold(`${what} incomplete. Steps: ${counts} (${secs}). Run nestctl plan to see what remains.\n`)));
}

/**
 * After a failed apply: the containers snapshotted before it whose subtree did not complete are
 * restored, as a plan of their own (core/plan/snapshots.ts); null when there is nothing to restore.
 */
async function rollBack(
  plan: Plan,
  summary: ApplySummary,
  run: (p: Plan) => Promise<ApplySummary>,
  out: NodeJS.WriteStream | null,
  c: Colours,
): Promise<ApplySummary | null> {
  const unfinished = [...summary.failed.map((f) => f.step), ...summary.skipped.map((k) => k.step)];
  const ids = new Set(unfinished.map((s) => s.id));
  const taken = plan.steps.filter((s) => s.kind === 'snapshot-instance' && !ids.has(s.id)).map((s) => s.id);
  const back = rollbackPlan(plan, taken, unfinished);
  if (back.steps.length === 0) return null;
  out?.write(
    `\n${c.bold('Rolling back (--rollback-on-failure): the containers the failed steps were about, as they were before this apply:')}\n`,
  );
  out?.write(renderPlanText(back, c));
  out?.write('\n');
  return run(back);
}

function printRollback(s: ApplySummary, c: Colours, plan: Plan): void {
  for (const f of s.failed) printOut(c.red(`✖ rollback: ${stepTitle(f.step, plan)}: ${f.error.message}\n`), c);
  printOut(
    s.failed.length === 0
      ? c.yellow(
          `Rolled back ${s.done} container${s.done === 1 ? '' : 's'} to their snapshots. Run nestctl plan to see what the manifest still asks for.\n`,
        )
      : c.red('Rollback incomplete: look at the containers above; their snapshots are kept (lxc info NAME lists them).\n'),
    c,
  );
}

function addSummaries(a: ApplySummary, b: ApplySummary): ApplySummary {
  return {
    done: a.done + b.done,
    unchanged: a.unchanged + b.unchanged,
    failed: [...a.failed, ...b.failed],
    skipped: [...a.skipped, ...b.skipped],
    ms: a.ms + b.ms,
  };
}

function reportConvergence(again: Plan, c: Colours): number {
  if (isEmptyPlan(again)) {
    printOut(c.green(`Converged: planning again in the simulated ${simulatedDaemon(again)} finds no changes.\n`), c);
    return EXIT_OK;
  }
  printOut(c.red(`Did not converge: planning again finds ${again.steps.length} step(s):\n`), c);
  printOut(renderPlanText(again, c), c);
  return EXIT_ERROR;
}
