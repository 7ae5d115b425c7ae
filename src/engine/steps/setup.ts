// The setup step (core/plan/concerns/setup.ts): the manifest's setup commands run in order inside
// a container, their output streamed as lines, and their hash recorded on it when all succeeded.

import { argvText } from '../../core/argv-text.js';
import { SetupCommandError } from '../../core/errors.js';
import { MARKER_SETUP } from '../../core/plan/desired-config.js';
import { OutputLines } from '../output-lines.js';
import { CHANGED, instanceOf, stale } from './recheck.js';
import type { StepOf, StepResult, StepRun } from './types.js';

type RunSetup = StepOf<'run-setup'>;

export async function runSetup(step: RunSetup, { level, context }: StepRun): Promise<StepResult> {
  const live = await instanceOf(level, step.name, step);
  const recorded = live.config[MARKER_SETUP] ?? null;
  if (recorded === step.sha256) return { changed: false, why: 'setup already ran' };
  if (step.precondition.kind === 'instance-config' && recorded !== step.before)
    throw stale(step, `${step.path}'s setup record changed after the plan was made`);
  for (const [i, argv] of step.commands.entries()) {
    const lines = new OutputLines((l) => context.output?.(step, l));
    const r = await level.runIn(step.name, argv, (stream, chunk) => lines.push(stream, chunk));
    // What was not streamed: all of it from a level that does not stream, a timeout's note.
    lines.push('stdout', r.stdout);
    lines.push('stderr', r.stderr);
    lines.end();
    if (r.code !== 0) throw setupFailed(step, i, argv, r.code, lines.tail());
  }
  await level.updateInstance(step.name, { set: { [MARKER_SETUP]: step.sha256 } });
  return CHANGED;
}

function setupFailed(step: RunSetup, index: number, argv: readonly string[], code: number, tail: string[]): SetupCommandError {
  const left = step.commands.length - index - 1;
  return new SetupCommandError(
    `setup command ${index + 1} of ${step.commands.length} in ${step.path} failed (exit ${code}): ${argvText(argv)}${tail.length > 0 ? `\n${tail.map((l) => `  │ ${l}`).join('\n')}` : ''}`,
    `${left > 0 ? `the ${left} command${left === 1 ? '' : 's'} after it did not run; ` : ''}fix the command or the container and apply again: what did not run to the end runs again`,
    step.level,
    argv,
    code,
    tail,
  );
}
