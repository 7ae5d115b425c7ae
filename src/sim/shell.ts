// The `shell:` of a simulated remote: what ssh and the remote user's shell do with the line
// shellStepArgv sends, on the simulated server's own machine. The line is split back into words
// (single quotes, '\'' for a quote, the only quoting shellStepArgv writes) and the host-level
// steps the real scripts would run there are done on that machine's files and daemon: read and
// write /etc/subuid and /etc/subgid (with the writer's refusals and exit codes), restart the
// daemon, wait for it. Anything else is refused, so a step sent another way shows up.

import { NestctlError } from '../core/errors.js';
import type { SubidFile } from '../ports/lxd.js';
import type { Exec } from '../ports/exec.js';
import { STALE_EXIT } from '../adapters/lxd/write-subid-script.js';
import { probeLevel } from './probe.js';
import { restartDaemon } from './restart.js';
import type { World } from './state.js';
import { writeSubid } from './subid.js';
import { ok, failed } from './answers.js';

/** The words a POSIX shell reads from a line of single-quoted words (null: any other quoting). */
export function shellWords(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i += 1;
      continue;
    }
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      if (line[i] === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return null;
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (line[i] === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else return null;
    }
    words.push(word);
  }
  return words;
}

/** The machine of `world` reached through `prefix` (the manifest's shell:). */
export function simShellExec(world: () => World, prefix: readonly string[]): Exec {
  return async (argv, options) => {
    const line = argv.at(-1);
    if (argv.length !== prefix.length + 1 || prefix.some((w, i) => argv[i] !== w) || line === undefined)
      return failed(255, `the simulated shell was not reached through ${prefix.join(' ')}: ${argv.join(' ')}`);
    const words = shellWords(line);
    if (!words) return failed(2, `sh: the simulated shell reads only single-quoted words: ${line}`);
    const w = world();
    try {
      const [program, flag, , name, ...args] = words;
      const file = (path: string | undefined): SubidFile | null =>
        path === '/etc/subuid' ? 'subuid' : path === '/etc/subgid' ? 'subgid' : null;
      if (program === 'sh' && flag === '-c' && name === 'nestctl-read-file' && file(args[0])) {
        const { text } = probeLevel(w, '', null)[file(args[0])!];
        return ok(text === null ? 'absent\n' : `present\n${text}`);
      }
      if (program === 'sh' && flag === '-c' && name === 'nestctl-write-subid' && file(args[0])) {
        const [, expected, forget, entries] = args;
        const text = options?.stdin === undefined ? '' : options.stdin.toString();
        writeSubid(w, '', file(args[0])!, text, expected === 'absent' ? null : (expected ?? null), {
          forgetOriginal: forget === 'forget',
          entries: (entries ?? '').split('\n').filter(Boolean),
        });
        return ok();
      }
      if (program === 'sh' && flag === '-c' && name === 'restart') {
        restartDaemon(w, '', null);
        return ok();
      }
      if ((program === 'lxd' && flag === 'waitready') || (program === 'incus' && flag === 'admin' && words[2] === 'waitready')) return ok();
      // host.restart: the manifest's own restart command.
      if (program === 'systemctl' || program === 'snap' || program === 'service') {
        restartDaemon(w, '', words);
        return ok();
      }
      return failed(127, `sh: the simulated remote machine does not model ${words.join(' ')}`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message.startsWith('plan is stale: ')) return failed(STALE_EXIT, message.slice('plan is stale: '.length));
      return failed(e instanceof NestctlError ? 1 : 70, message);
    }
  };
}
