// Runs the built CLI (npm test builds first) as a child process, asynchronously and with a time
// bound, so a hang is a failed test, not a stuck suite. Tests pass --simulate or --world.

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CliOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Close our end of the child's stdout at once: its writes then fail with EPIPE. */
  closeStdout?: boolean;
  /** Working directory (default: the repository). */
  cwd?: string;
}

export function runCommand(argv: string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '', NESTCTL_DEBUG: '', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 15_000);
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, timedOut });
    });
  });
}

export const nestctl = (args: string[], opts: CliOptions = {}): Promise<CliRun> => runCommand(['node', CLI, ...args], opts);

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`), waits for the approval prompt and
 * types `keys` (e.g. "\x04" for Ctrl-D, "\x03" for Ctrl-C). Output is the terminal's, both streams.
 */
export function nestctlAtPrompt(args: string[], keys: string, timeoutMs = 15_000): Promise<CliRun & { prompted: boolean }> {
  return new Promise((done, fail) => {
    const cmd = ['node', CLI, ...args].map(shellQuote).join(' ');
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '', NESTCTL_DEBUG: '' },
    });
    let out = '';
    let prompted = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!prompted && out.includes('Enter a value:')) {
        prompted = true;
        child.stdin.write(keys);
      }
    });
    child.stdin.on('error', () => undefined);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout: out, stderr: '', timedOut, prompted });
    });
  });
}
