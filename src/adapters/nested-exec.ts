// Running a command inside a container is running `CLIENT exec NAME -- argv…` one level up (the
// client of that level's flavour). Recursion is composition: nestedExec(nestedExec(host, cli, 'c1'),
// cli, 'c2') runs in c1/c2. A root container on a remote is `CLIENT exec [--project P] REMOTE:NAME`
// run here: the levels below it are reached through that one exec, as on this machine.

import type { FlavourInfo } from '../core/flavour/index.js';
import type { Exec, OutputStream } from '../ports/exec.js';

export type Cli = FlavourInfo['client'];

/** Where a root container lives when it is not on this machine's daemon: a client remote, and its project. */
export interface RemoteTop {
  remote: string;
  project: string | null;
}

/**
 * The daemon's answer when the command never started in the container: its forkexec helper could
 * not attach, and the daemon waited for it before answering (`Exec` in LXD's
 * lxd/instance/drivers/driver_lxc.go). Seen on the lab while a container's services were starting;
 * running the command again is safe because it did not run.
 */
const NOT_STARTED = /^Error: Failed to retrieve PID of executing child process\s*$/m;
/** The daemon's whole answer was that the command never started (safe to run it again). */
export const neverStarted = (code: number, said: string): boolean =>
  code === 255 && NOT_STARTED.test(said) && said.trim().split('\n').length === 1;
/** Seen to last a few seconds while Docker started in the container: up to 8 tries over about 5.5 s. */
export const EXEC_ATTEMPTS = 8;
export const retryDelayMs = (attempt: number): number => Math.min(1000, 250 * attempt);

/** `cli`: the parent level's client, or how to find it out (the parent is probed once, on first use). */
export function nestedExec(parent: Exec, cli: Cli | (() => Promise<Cli>), name: string, top?: RemoteTop): Exec {
  return async (argv, options = {}) => {
    const nested = nestedArgv(typeof cli === 'string' ? cli : await cli(), name, argv, top);
    for (let attempt = 1; ; attempt++) {
      // Streamed output is not kept in the result: remember whether anything but the daemon's
      // "never started" line came, since only then did the command not run.
      let streamed = '';
      const listen = options.onOutput;
      const tried = listen
        ? {
            ...options,
            onOutput: (stream: OutputStream, chunk: string) => ((streamed = (streamed + chunk).slice(-4096)), listen(stream, chunk)),
          }
        : options;
      const r = await parent(nested, tried);
      const said = listen ? streamed : r.stderr + r.stdout;
      if (!neverStarted(r.code, said) || attempt === EXEC_ATTEMPTS) return r;
      await new Promise((res) => setTimeout(res, retryDelayMs(attempt)));
    }
  };
}

/** `--project P` for a remote's command, or nothing (the remote's default project). */
export const projectArgs = (top: RemoteTop | undefined): string[] => (top?.project ? ['--project', top.project] : []);

/** `REMOTE:NAME` for an instance or profile on a remote, the name alone on this machine. */
export const remoteRef = (name: string, top?: RemoteTop): string => (top ? `${top.remote}:${name}` : name);

/** argv run in container `name` through its parent's client (on a remote: `top`). */
export function nestedArgv(cli: string, name: string, argv: readonly string[], top?: RemoteTop): string[] {
  // -T: never allocate a terminal, so nothing waits for one at any depth; stdin still passes.
  return [cli, 'exec', ...projectArgs(top), remoteRef(name, top), '-T', '--', ...argv];
}
