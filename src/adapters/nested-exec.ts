// Running a command inside a container is running `lxc exec NAME -- argv…` one level up.
// Recursion is composition: nestedExec(nestedExec(host, 'lxc', 'c1'), 'lxc', 'c2') runs in c1/c2.

import type { Exec } from '../ports/exec.js';

export type Cli = 'lxc' | 'incus';

export function nestedExec(parent: Exec, cli: Cli, name: string): Exec {
  // -T: never allocate a terminal, so nothing waits for one at any depth; stdin still passes.
  return (argv, options = {}) => parent([cli, 'exec', name, '-T', '--', ...argv], options);
}
