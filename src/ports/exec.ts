// Run a program: argv in, exit code and output out. No shell, ever.

export interface ExecOptions {
  /** Bytes or text for the program's stdin; when absent stdin is /dev/null. */
  stdin?: string | Buffer;
  timeoutMs?: number;
  /**
   * Output as it comes, decoded as UTF-8, stdout and stderr in the order they arrived. When set,
   * nothing is kept: the result's stdout and stderr are empty (a long command's output never
   * piles up in memory).
   */
  onOutput?: OutputListener;
  /**
   * At most this many bytes of stdout, and of stderr, are kept (default OUTPUT_CAP_BYTES): past
   * it the program is killed and the result says which stream ran over. A program at another level
   * is not trusted to be brief.
   */
  maxOutputBytes?: number;
  /**
   * The program's last line on stdout is `END_MARK CODE` once its work is done (nestctl's own
   * scripts print it): once that line came, a program still running END_GRACE_MS later is killed
   * and the result is that code, with the line left out of stdout. LXD's client can wait for ever
   * for the end of an operation that ended (adapters/lxd/bounded.ts).
   */
  endMark?: string;
}

/** The default bound of each of a command's streams: far above any answer nestctl reads (a probe of a level with a thousand containers is a few MiB). */
export const OUTPUT_CAP_BYTES = 32 * 1024 * 1024;

export type OutputStream = 'stdout' | 'stderr';
export type OutputListener = (stream: OutputStream, chunk: string) => void;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed because it ran past `timeoutMs`: whatever it was doing may or may not have happened. */
  timedOut?: boolean;
  /** Killed because it printed more than `maxOutputBytes` on this stream: stdout or stderr is cut there. */
  overflowed?: OutputStream;
}

export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;
