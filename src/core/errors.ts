// Typed errors that say whose fault a failure is. The CLI maps every one of them to exit 1
// and prints the message; "bug" additionally asks for a report.

import type { Diagnostic, Fault } from './diagnostics.js';

export type { Fault } from './diagnostics.js';

export class NestctlError extends Error {
  constructor(
    readonly fault: Fault,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'NestctlError';
  }
}

/** The manifest (or a flag) is wrong; carries positioned diagnostics. */
export class InputError extends NestctlError {
  constructor(
    readonly diagnostics: Diagnostic[],
    /**
     * The file the diagnostics are about: those without a position point at its start, and its
     * text (when given) lets the CLI show the offending lines.
     */
    readonly source?: { file: string; text?: string },
  ) {
    super('user', `${diagnostics.filter((d) => d.severity === 'error').length} error(s) in input`);
    this.name = 'InputError';
  }
}

/** The machine or a daemon refused or failed (no LXD, daemon down, permission denied, ...). */
export class EnvironmentError extends NestctlError {
  constructor(
    message: string,
    hint?: string,
    /** Which level it happened at: "" for the host, "c1/c2" inside containers. */
    readonly level?: string,
  ) {
    super('environment', message, hint);
    this.name = 'EnvironmentError';
  }
}

/** A command run at some level failed; stderr is kept for the message. */
export class CommandError extends EnvironmentError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
    level?: string,
  ) {
    const where = level ? ` in ${level}` : ' on the host';
    const shown = argv
      .map((a) => (a.includes('\n') ? '<script>' : a))
      .slice(0, 6)
      .join(' ');
    super(`${shown}${argv.length > 6 ? ' …' : ''} failed${where} (exit ${exitCode}): ${stderr.trim() || '(no output)'}`, undefined, level);
    this.name = 'CommandError';
  }
}

/** A command killed when it ran past its time: what it was doing may or may not have happened. */
export class TimedOutError extends EnvironmentError {
  constructor(
    readonly argv: readonly string[],
    /** What it printed before it was stopped (processExec ends it with "(killed after N ms)"). */
    readonly output: string,
    level?: string,
  ) {
    const where = level ? ` in ${level}` : ' on the host';
    const shown = argv
      .map((a) => (a.includes('\n') ? '<script>' : a))
      .slice(0, 6)
      .join(' ');
    super(
      `${shown}${argv.length > 6 ? ' …' : ''} did not finish${where}: ${output.trim() || '(no output)'}`,
      'look at the daemon (lxc operation list, lxc info NAME), then plan and apply again',
      level,
    );
    this.name = 'TimedOutError';
  }
}

/** A container's inside could not be looked at (the probe could not run there). */
export class UnseenError extends EnvironmentError {
  constructor(message: string, level: string) {
    super(message, undefined, level);
    this.name = 'UnseenError';
  }
}

export class BugError extends NestctlError {
  constructor(message: string) {
    super('bug', message, 'This is a bug in nestctl; please report it with the command you ran.');
    this.name = 'BugError';
  }
}

/** A setup command exited non-zero inside a container; `output` is its last lines, as they came. */
export class SetupCommandError extends EnvironmentError {
  constructor(
    message: string,
    hint: string,
    level: string,
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly output: readonly string[],
  ) {
    super(message, hint, level);
    this.name = 'SetupCommandError';
  }
}
