// Classic LXC's commands on a simulated machine (adapters/lxd/lxc-commands.ts builds them): a
// user's run through `runuser -u USER -- env HOME=H …` (or, for lxc-start under systemd,
// `systemd-run --uid=USER … -- env HOME=H …`), root's as they are. `lxc-attach -n NAME -- …`
// enters the machine inside that container.

import { CommandError } from '../core/errors.js';
import { joinPath } from '../core/paths.js';
import type { ExecOptions, ExecResult } from '../ports/exec.js';
import type { LxcOwner } from '../ports/lxd.js';
import { lxcCreate, lxcDelete, lxcStart, lxcStop } from './lxc.js';
import type { Enter } from './answers.js';
import { reach } from './reach.js';
import type { World } from './state.js';

const ROOT: LxcOwner = { user: null, home: null };

/** Who runs argv, and the command itself without the wrapper that made it that user's. */
export function unwrapOwner(argv: readonly string[]): { owner: LxcOwner; rest: readonly string[] } {
  let user: string | null = null;
  let rest = argv;
  if (argv[0] === 'runuser' && argv[1] === '-u' && argv[3] === '--') {
    user = argv[2]!;
    rest = argv.slice(4);
  } else if (argv[0] === 'systemd-run' && argv.includes('--')) {
    user = argv.find((w) => w.startsWith('--uid='))?.slice('--uid='.length) ?? null;
    rest = argv.slice(argv.indexOf('--') + 1);
  }
  if (user === null) return { owner: ROOT, rest };
  const home = rest[0] === 'env' && rest[1]?.startsWith('HOME=') ? rest[1].slice('HOME='.length) : null;
  return { owner: { user, home }, rest: home === null ? rest : rest.slice(2) };
}

const COMMANDS = new Set(['lxc-create', 'lxc-start', 'lxc-stop', 'lxc-destroy', 'lxc-attach']);
export const isLxcCommand = (argv: readonly string[]): boolean => COMMANDS.has(argv[0] ?? '');

const option = (argv: readonly string[], flag: string): string | null => {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? null) : null;
};

export async function answerLxc(
  world: World,
  path: string,
  argv: readonly string[],
  owner: LxcOwner,
  options: ExecOptions,
  enter: Enter,
): Promise<ExecResult> {
  const name = option(argv, '-n') ?? '';
  const shown = owner.user === null ? argv : ['runuser', '-u', owner.user, '--', ...argv];
  switch (argv[0]) {
    case 'lxc-create': {
      const dashes = argv.indexOf('--');
      const configFile = option(argv, '-f');
      const config = configFile === null ? null : (reach(world, path, argv).files[configFile]?.text ?? null);
      if (configFile !== null && config === null)
        throw new CommandError(shown, 1, `lxc-create: ${name}: Failed to load config file ${configFile}\n`, path);
      lxcCreate(
        world,
        path,
        { name, owner, template: option(argv, '-t') ?? '', templateArgs: dashes < 0 ? [] : argv.slice(dashes + 1), config },
        shown,
      );
      break;
    }
    case 'lxc-start':
      lxcStart(world, path, name, owner, shown);
      break;
    case 'lxc-stop':
      lxcStop(world, path, name, owner, shown);
      break;
    case 'lxc-destroy':
      lxcDelete(world, path, name, owner, false, shown);
      break;
    case 'lxc-attach': {
      const inner = argv.slice(argv.indexOf('--') + 1);
      reach(world, joinPath(path, name), inner);
      return enter(world, path, name, inner, options);
    }
  }
  return { code: 0, stdout: '', stderr: '' };
}
