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

/** A command as messages show it: its first words, a script as <script>. */
const shownCommand = (argv: readonly string[]): string =>
  `${argv
    .map((a) => (a.includes('\n') ? '<script>' : a))
    .slice(0, 6)
    .join(' ')}${argv.length > 6 ? ' …' : ''}`;

const where = (level: string | undefined): string => (level ? ` in ${level}` : ' on the host');

/** A command run at some level failed; stderr is kept for the message. */
export class CommandError extends EnvironmentError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
    level?: string,
  ) {
    super(`${shownCommand(argv)} failed${where(level)} (exit ${exitCode}): ${stderr.trim() || '(no output)'}`, undefined, level);
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
    super(
      `${shownCommand(argv)} did not finish${where(level)}: ${output.trim() || '(no output)'}`,
      'look at the daemon (lxc operation list, lxc info NAME), then plan and apply again',
      level,
    );
    this.name = 'TimedOutError';
  }
}

/**
 * A command printed far more than any answer nestctl reads (adapters/process-exec.ts stops it at
 * its cap): what runs at that level, or at one above it, is not what nestctl expects.
 */
export class OutputTooLargeError extends EnvironmentError {
  constructor(
    readonly argv: readonly string[],
    readonly stream: 'stdout' | 'stderr',
    readonly capBytes: number,
    level: string,
  ) {
    super(
      `${shownCommand(argv)}${where(level)} printed more than ${Math.round(capBytes / 1048576)} MiB on ${stream}; nestctl stopped it and changed nothing there`,
      `a real answer is far smaller: look at what runs${where(level)} or a level above it (a program early on the PATH, a replaced client)`,
      level,
    );
    this.name = 'OutputTooLargeError';
  }
}

/** What a level said about itself cannot be true (a malformed or contradictory answer): nestctl does not act on it. */
export class UntrustedAnswerError extends EnvironmentError {
  constructor(what: string, level: string) {
    super(
      `the answer${where(level)} is refused: ${what}`,
      `a real LXD does not answer so: look at what runs${where(level)} or a level above it; nothing was changed there`,
      level,
    );
    this.name = 'UntrustedAnswerError';
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
