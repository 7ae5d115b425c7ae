// Running a command inside a container is running `CLIENT exec NAME -- argv…` one level up (the
// client of that level's flavour). Recursion is composition: nestedExec(nestedExec(host, cli, 'c1'),
// cli, 'c2') runs in c1/c2.

import type { FlavourInfo } from '../core/flavour/index.js';
import type { Exec } from '../ports/exec.js';

export type Cli = FlavourInfo['client'];

/** `cli`: the parent level's client, or how to find it out (the parent is probed once, on first use). */
export function nestedExec(parent: Exec, cli: Cli | (() => Promise<Cli>), name: string): Exec {
  return async (argv, options = {}) => parent(nestedArgv(typeof cli === 'string' ? cli : await cli(), name, argv), options);
}

/** argv run in container `name` through its parent's client. */
export function nestedArgv(cli: string, name: string, argv: readonly string[]): string[] {
  // -T: never allocate a terminal, so nothing waits for one at any depth; stdin still passes.
  return [cli, 'exec', name, '-T', '--', ...argv];
}
