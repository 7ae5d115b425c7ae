// Running a command inside a container is running `CLIENT exec NAME -- argv…` one level up (the
// client of that level's flavour). Recursion is composition: nestedExec(nestedExec(host, cli, 'c1'),
// cli, 'c2') runs in c1/c2.

import type { FlavourInfo } from '../core/flavour/index.js';
import type { Exec } from '../ports/exec.js';

export type Cli = FlavourInfo['client'];

/** `cli`: the parent level's client, or how to find it out (the parent is probed once, on first use). */
export function nestedExec(parent: Exec, cli: Cli | (() => Promise<Cli>), name: string): Exec {
  // -T: never allocate a terminal, so nothing waits for one at any depth; stdin still passes.
  return async (argv, options = {}) => parent([typeof cli === 'string' ? cli : await cli(), 'exec', name, '-T', '--', ...argv], options);
}
