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
}

export type OutputStream = 'stdout' | 'stderr';
export type OutputListener = (stream: OutputStream, chunk: string) => void;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed because it ran past `timeoutMs`: whatever it was doing may or may not have happened. */
  timedOut?: boolean;
}

export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;
