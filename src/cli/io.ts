// The CLI's contact with the outside: files, streams, prompts, exit codes.

import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { EnvironmentError, InputError, NestctlError } from '../core/errors.js';
import { formatDiagnostic } from '../core/diagnostics.js';
import type { Colours } from '../render/colour.js';
import { emitDiagnostic, jsonLines } from '../render/json-events.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_CHANGES = 2;

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NestctlError('user', `${file}: no such file`);
    if (code === 'EACCES') throw new EnvironmentError(`${file}: permission denied`);
    throw new EnvironmentError(`${file}: ${(e as Error).message}`);
  }
}

/** Only the word "yes" approves (Terraform's rule). */
export async function askApproval(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new NestctlError('user', 'apply needs approval, but there is no terminal to ask on', 'review the plan with `nestctl plan`, then run `nestctl apply --auto-approve`');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

const debugWanted = (): boolean => Boolean(process.env.NESTCTL_DEBUG) && process.env.NESTCTL_DEBUG !== '0';

/** Print any error the way its fault deserves; never a stack trace unless NESTCTL_DEBUG=1. Returns 1. */
export function reportError(e: unknown, c: Colours): number {
  if (e instanceof InputError) {
    for (const d of e.diagnostics) process.stderr.write(`${d.severity === 'error' ? c.red(formatDiagnostic(d)) : c.yellow(formatDiagnostic(d))}\n`);
  } else if (e instanceof NestctlError) {
    const who = e.fault === 'bug' ? 'internal error' : 'Error';
    process.stderr.write(`${c.red(`${who}: ${e.message}`)}\n${e.hint ? `  ${e.hint}\n` : ''}`);
  } else {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${c.red(`internal error: ${message}`)}\n  This is a bug in nestctl; please report it with the command you ran${debugWanted() ? '' : ' and the output of the same command run with NESTCTL_DEBUG=1'}.\n`);
  }
  if (debugWanted() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return EXIT_ERROR;
}

/** With --json, errors are also diagnostic events on stdout, so a reader of stdout sees them. */
export function reportJsonError(e: unknown): void {
  const emit = jsonLines(process.stdout);
  if (e instanceof InputError) {
    for (const d of e.diagnostics) emitDiagnostic(emit, d.severity, d.message, d.hint ?? '', d);
    return;
  }
  const err = e instanceof NestctlError ? e : new NestctlError('bug', e instanceof Error ? e.message : String(e));
  emitDiagnostic(emit, 'error', err.message, err.hint ?? '');
}
