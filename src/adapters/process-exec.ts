// Exec over child_process: argv arrays only, never a shell string.

import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { EnvironmentError } from '../core/errors.js';
import { type Exec, type ExecOptions, type ExecResult, OUTPUT_CAP_BYTES, type OutputStream } from '../ports/exec.js';

/** How long a program that printed its end mark may take to exit before it is killed (a client that lost its operation's end). */
export const END_GRACE_MS = 3000;

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
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs);
    // What is kept is bounded whatever the program prints: past the cap it is killed, as a
    // program past its time is, and the result says so.
    const cap = options.maxOutputBytes ?? OUTPUT_CAP_BYTES;
    let overflowed: OutputStream | undefined;
    const keeper = (stream: OutputStream, chunks: Buffer[]) => {
      let kept = 0;
      return (b: Buffer): void => {
        if (overflowed) return;
        if (kept + b.length > cap) {
          chunks.push(b.subarray(0, cap - kept));
          overflowed = stream;
          killGroup();
          return;
        }
        kept += b.length;
        chunks.push(b);
      };
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // The end mark: the last line of stdout, watched for in the output's tail.
    const ending = options.endMark === undefined ? null : new RegExp(`(?:^|\\n)${options.endMark} (\\d+)\\n$`);
    let tail = '';
    let marked: number | null = null;
    let endedByMark = false;
    let grace: ReturnType<typeof setTimeout> | null = null;
    const watch = (b: Buffer): void => {
      if (!ending) return;
      tail = (tail + b.toString('latin1')).slice(-256);
      const m = ending.exec(tail);
      // Output after a mark: it was not the last line after all.
      if (!m) {
        marked = null;
        if (grace) clearTimeout(grace);
        grace = null;
        return;
      }
      if (marked !== null) return;
      marked = Number(m[1]);
      grace = setTimeout(() => {
        endedByMark = true;
        killGroup();
      }, END_GRACE_MS);
    };
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
      const keep = keeper('stdout', out);
      child.stdout?.on('data', (b: Buffer) => (keep(b), watch(b)));
      child.stderr?.on('data', keeper('stderr', err));
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new EnvironmentError(`${cmd}: command not found`, `install it, or check PATH`));
      else if (e.code === 'EACCES') reject(new EnvironmentError(`${cmd}: permission denied`, 'run nestctl as root'));
      else reject(new EnvironmentError(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (grace) clearTimeout(grace);
      const stderr = Buffer.concat(err).toString('utf8');
      const stdout = Buffer.concat(out).toString('utf8');
      if (marked !== null && !timedOut && !overflowed) {
        resolve({ code: endedByMark ? marked : (code ?? marked), stdout: stdout.replace(/(^|\n)[^\n]*\n$/, '$1'), stderr });
        return;
      }
      resolve({
        code: code ?? (signal ? 128 + 9 : 1),
        stdout,
        stderr: overflowed
          ? `${stderr}\n(killed: printed more than ${cap} bytes on ${overflowed})`
          : timedOut
            ? `${stderr}\n(killed after ${options.timeoutMs} ms)`
            : signal && code === null
              ? `${stderr}\n(killed by ${signal})`
              : stderr,
        ...(timedOut && !overflowed ? { timedOut } : {}),
        ...(overflowed ? { overflowed } : {}),
      });
    });
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the program may exit without reading
      child.stdin.end(options.stdin);
    }
  });
