// Exec over child_process: argv arrays only, never a shell string.

import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { EnvironmentError } from '../core/errors.js';
import type { Exec, ExecOptions, ExecResult } from '../ports/exec.js';

export const processExec: Exec = (argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> =>
  new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new EnvironmentError('empty command'));
    const child = spawn(cmd, args, {
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C at the terminal reaches nestctl only, which then lets the
      // running steps finish instead of having their lxc commands killed under them.
      detached: true,
    });
    // Past its time the whole process group goes: a program's own children holding its output
    // open would otherwise keep 'close' from ever coming.
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              child.kill('SIGKILL');
            }
          }, options.timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const listen = options.onOutput;
    if (listen) {
      // One decoder a stream: a character split between two chunks is passed on whole.
      const stdout = new StringDecoder('utf8');
      const stderr = new StringDecoder('utf8');
      child.stdout?.on('data', (b: Buffer) => listen('stdout', stdout.write(b)));
      child.stderr?.on('data', (b: Buffer) => listen('stderr', stderr.write(b)));
      child.stdout?.on('end', () => listen('stdout', stdout.end()));
      child.stderr?.on('end', () => listen('stderr', stderr.end()));
    } else {
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new EnvironmentError(`${cmd}: command not found`, `install it, or check PATH`));
      else if (e.code === 'EACCES') reject(new EnvironmentError(`${cmd}: permission denied`, 'run nestctl as root'));
      else reject(new EnvironmentError(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: code ?? (signal ? 128 + 9 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: timedOut
          ? `${stderr}\n(killed after ${options.timeoutMs} ms)`
          : signal && code === null
            ? `${stderr}\n(killed by ${signal})`
            : stderr,
        ...(timedOut ? { timedOut } : {}),
      });
    });
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the program may exit without reading
      child.stdin.end(options.stdin);
    }
  });
