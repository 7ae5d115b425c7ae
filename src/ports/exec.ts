// Run a program: argv in, exit code and output out. No shell, ever.

export interface ExecOptions {
  /** Bytes or text for the program's stdin; when absent stdin is /dev/null. */
  stdin?: string | Buffer;
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;
