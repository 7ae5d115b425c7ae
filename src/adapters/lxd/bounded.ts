// No client command runs unbounded. The client waits for a daemon operation's end on the events
// stream (WaitContext and setupListener in LXD's client/operations.go); when that event is lost
// the client waits for ever although the work is done and the daemon lists no operation. Seen on
// the lab: an `lxc exec` of a sub-second read and an `lxc start` each hung for over 8 minutes.
// So a read that takes far longer than reads do is killed and asked again, and a change whose
// client was killed is judged by what the daemon shows afterwards, or fails as timed out.

import { OutputTooLargeError } from '../../core/errors.js';
import { type Exec, type ExecOptions, type ExecResult, OUTPUT_CAP_BYTES } from '../../ports/exec.js';

/** Reads finish in well under a second; one still running after this is stuck. */
export const READ_TIMEOUT_MS = 120_000;
/** A change that names no timeout of its own (a config or profile edit, a daemon init). */
export const CHANGE_TIMEOUT_MS = 600_000;
/** How often a read whose answer was lost, or that timed out, is tried before it fails. */
export const READ_ATTEMPTS = 3;

/**
 * The last line nestctl's own scripts print, with their exit code (ExecOptions.endMark): once it
 * came, nothing waits for a client that lost its operation's end.
 */
export const END_MARK = '@@nestctl-end@@';

/** A script's body run in a subshell, its exit code printed after END_MARK and returned. */
export const endMarked = (body: string): string => `(${body}
); c=$?; echo "${END_MARK} $c"; exit $c
`;

/** A read: killed past READ_TIMEOUT_MS and asked again, up to READ_ATTEMPTS times (a stuck client; see READ_TIMEOUT_MS). */
export async function ask(exec: Exec, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  for (let attempt = 1; ; attempt += 1) {
    const r = await exec(argv, { timeoutMs: READ_TIMEOUT_MS, ...options });
    if (!r.timedOut || attempt === READ_ATTEMPTS) return r;
  }
}

/**
 * `exec` for the commands of level `level`: one whose output ran past its cap (processExec killed
 * it) fails, naming the level, before anything reads the part that came.
 */
export function capped(exec: Exec, level: string): Exec {
  return async (argv, options) => {
    const r = await exec(argv, options);
    if (r.overflowed) throw new OutputTooLargeError(argv, r.overflowed, options?.maxOutputBytes ?? OUTPUT_CAP_BYTES, level);
    return r;
  };
}
