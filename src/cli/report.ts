// How problems reach the user: a diagnostic on stderr, any error as its fault deserves, and with
// --json the same as events on stdout.

import type { Diagnostic } from '../core/diagnostics.js';
import { InputError, NestctlError } from '../core/errors.js';
import type { Colours } from '../render/colour.js';
import { formatDiagnostic, type InputFile, rangeOf } from './diagnostic-text.js';
import { EXIT_ERROR } from './exit.js';
import { printErr } from './terminal.js';

const debugWanted = (): boolean => Boolean(process.env.NESTCTL_DEBUG) && process.env.NESTCTL_DEBUG !== '0';

/** One diagnostic on stderr, with its source line and a caret when the input's text is given. */
export function printDiagnostic(d: Diagnostic, input: InputFile | undefined, c: Colours): void {
  const shown = formatDiagnostic(d, input);
  printErr(`${d.severity === 'error' ? c.red(shown) : c.yellow(shown)}\n`, c);
}

/** Print any error the way its fault deserves; never a stack trace unless NESTCTL_DEBUG=1. Returns 1. */
export function reportError(e: unknown, c: Colours): number {
  if (e instanceof InputError) {
    for (const d of e.diagnostics) printDiagnostic(d, e.source, c);
  } else if (e instanceof NestctlError) {
    const who = e.fault === 'bug' ? 'internal error' : 'Error';
    printErr(`${c.red(`${who}: ${e.message}`)}\n${e.hint ? `  ${e.hint}\n` : ''}`, c);
  } else {
    const message = e instanceof Error ? e.message : String(e);
    printErr(
      `${c.red(`internal error: ${message}`)}\n  This is a bug in nestctl; please report it with the command you ran${debugWanted() ? '' : ' and the output of the same command run with NESTCTL_DEBUG=1'}.\n`,
      c,
    );
  }
  if (debugWanted() && e instanceof Error && e.stack) printErr(`${e.stack}\n`, c);
  return EXIT_ERROR;
}

/** With --json, errors are also diagnostic events on stdout, so a reader of stdout sees them. */
export async function reportJsonError(e: unknown): Promise<void> {
  // Imported here: the event renderer (and the plan text under it) is not needed to start.
  const { emitDiagnostic, jsonLines } = await import('../render/json-events.js');
  const emit = jsonLines(process.stdout);
  if (e instanceof InputError) {
    for (const d of e.diagnostics) emitDiagnostic(emit, d.severity, d.message, d.hint ?? '', rangeOf(d, e.source?.file ?? ''));
    return;
  }
  const err = e instanceof NestctlError ? e : new NestctlError('bug', e instanceof Error ? e.message : String(e));
  emitDiagnostic(emit, 'error', err.message, err.hint ?? '');
}
