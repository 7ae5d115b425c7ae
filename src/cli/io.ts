// The CLI's contact with the outside: files, streams, prompts, exit codes.

import { MAX_BYTES as MANIFEST_MAX } from '../core/manifest/hostile.js';
import { MAX_PLAN_BYTES } from '../core/plan/codec.js';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { EnvironmentError, InputError, NestctlError } from '../core/errors.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { formatDiagnostic, type InputFile, rangeOf } from './diagnostic-text.js';
import type { Colours } from '../render/colour.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_CHANGES = 2;

const MiB = 1024 * 1024;
/** A manifest is hand-written text; anything larger is a mistake (or /dev/zero). */
export const MANIFEST_MAX_BYTES = MANIFEST_MAX;
/** Saved plans and worlds carry a manifest and observed files, so they get a plan's room. */
export const INPUT_MAX_BYTES = MAX_PLAN_BYTES;

function fileError(file: string, e: unknown): NestctlError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new NestctlError('user', `${file}: no such file`);
  if (code === 'ENOTDIR') return new NestctlError('user', `${file}: a part of the path is not a directory`);
  if (code === 'EACCES' || code === 'EPERM') return new EnvironmentError(`${file}: permission denied`);
  return new EnvironmentError(`${file}: ${(e as Error).message}`);
}

/**
 * A regular file's text, at most maxBytes of it. Opened non-blocking so a FIFO cannot hang us
 * before we see what it is; anything but a regular file (directory, FIFO, device) is refused.
 */
export async function readText(file: string, maxBytes = INPUT_MAX_BYTES): Promise<string> {
  if (file === '-') throw new NestctlError('user', 'reading from standard input (-) is not supported', 'save the input to a file and give its path');
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fileError(file, e);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new NestctlError('user', `${file}: is a directory, not a file`);
    if (!st.isFile()) throw new NestctlError('user', `${file}: not a regular file (a FIFO, socket or device)`, 'save the input to a file and give its path');
    // Read one byte past the cap: the size stat reports may be stale or wrong (/proc).
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size + 1, 64 * 1024)));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      total += bytesRead;
      if (total > maxBytes) throw new NestctlError('user', `${file}: larger than ${maxBytes / MiB} MiB; this is not a nestctl input`);
    }
    const bytes = Buffer.concat(chunks, total);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new NestctlError('user', `${file}: not UTF-8 text`);
    }
  } catch (e) {
    throw e instanceof NestctlError ? e : fileError(file, e);
  } finally {
    await fh.close();
  }
}

/**
 * Only the word "yes" approves (Terraform's rule). End of input (Ctrl-D) and Ctrl-C at the
 * prompt both decline; the caller says the run was cancelled.
 */
export async function askApproval(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new NestctlError('user', 'apply needs approval, but there is no terminal to ask on', 'review the plan with `nestctl plan`, then run `nestctl apply --auto-approve`');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<boolean>((resolve) => {
      // Ctrl-C in raw mode reaches readline as a key, not as a signal to the process.
      rl.once('SIGINT', () => {
        process.stderr.write('^C\n');
        resolve(false);
      });
      rl.once('close', () => {
        process.stderr.write('\n');
        resolve(false);
      });
      rl.question(`${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `, (answer) => resolve(answer.trim() === 'yes'));
    });
  } finally {
    rl.removeAllListeners('close');
    rl.close();
    // Let later readers (listr2's renderer) find stdin as it was, and let the process exit.
    process.stdin.pause();
  }
}

const debugWanted = (): boolean => Boolean(process.env.NESTCTL_DEBUG) && process.env.NESTCTL_DEBUG !== '0';

/** One diagnostic on stderr, with its source line and a caret when the input's text is given. */
export function printDiagnostic(d: Diagnostic, input: InputFile | undefined, c: Colours): void {
  const shown = formatDiagnostic(d, input);
  process.stderr.write(`${d.severity === 'error' ? c.red(shown) : c.yellow(shown)}\n`);
}

/** Print any error the way its fault deserves; never a stack trace unless NESTCTL_DEBUG=1. Returns 1. */
export function reportError(e: unknown, c: Colours): number {
  if (e instanceof InputError) {
    for (const d of e.diagnostics) printDiagnostic(d, e.source, c);
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
