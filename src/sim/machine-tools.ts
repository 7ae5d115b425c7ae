// The few other programs nestctl runs on a level: the daemon's own admin commands (`lxd init
// --preseed`, `lxd waitready`, `incus admin …`), and the temp directories an image travels
// through (mktemp, find, rm).

import type { ExecOptions, ExecResult } from '../ports/exec.js';
import { commandNotFound } from './errors.js';
import { makeTempDir, listFiles, removeFiles } from './images.js';
import { activate } from './power.js';
import { initDaemon } from './preseed.js';
import { reach } from './reach.js';
import type { World } from './state.js';
import { selectDaemon } from './world.js';
import { ok } from './answers.js';

/** The answer of one of these programs; null when argv is none of them. */
export function answerTool(world: World, path: string, argv: readonly string[], options: ExecOptions): ExecResult | null {
  // `lxd init|waitready …` for either LXD (deb or snap), `incus admin init|waitready …` for Incus.
  const admin = argv[0] === 'lxd' ? argv.slice(1) : argv[0] === 'incus' && argv[1] === 'admin' ? argv.slice(2) : null;
  if (admin && (admin[0] === 'init' || admin[0] === 'waitready')) {
    const level = reach(world, path, argv);
    const daemon = [level.lxd, level.beside].find((d) => d && (d.flavour === 'incus') === (argv[0] === 'incus'));
    if (!daemon) throw commandNotFound(path, argv);
    selectDaemon(level, daemon.flavour);
    if (admin[0] === 'init') initDaemon(world, path, options.stdin?.toString() ?? '');
    else activate(world, level, argv);
    return ok();
  }
  if (argv[0] === 'mktemp' && argv[1] === '-d') return ok(`${makeTempDir(world, path, argv[2] ?? '/tmp/tmp.XXXXXX')}\n`);
  if (argv[0] === 'find' && argv[2] === '-type' && argv[3] === 'f')
    return ok(
      listFiles(world, path, argv[1] ?? '')
        .map((f) => `${f}\n`)
        .join(''),
    );
  if (argv[0] === 'rm' && argv.includes('--')) {
    removeFiles(world, path, argv.slice(argv.indexOf('--') + 1), argv[1] === '-rf');
    return ok();
  }
  return null;
}
