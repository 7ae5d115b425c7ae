// The simulated machine: an Exec that answers the argv the real client runs (adapters/lxd), as
// a machine with LXD on it would. `lxc exec NAME -- …` and `lxc-attach -n NAME -- …` enter the
// machine inside that container, so nesting is the same composition as on a real host
// (adapters/nested-exec.ts). What each command does to the world is the neighbouring modules'
// LXD rules (instances.ts, images.ts, subid.ts, …); this file only reads the argv and writes the
// answer as the tool would: output on stdout, "Error: …" on stderr and the tool's exit code.

import { CommandError, NestctlError } from '../core/errors.js';
import { joinPath } from '../core/paths.js';
import type { Exec, ExecOptions, ExecResult } from '../ports/exec.js';
import { answerClient, isClientCommand } from './machine-client.js';
import { answerLxc, isLxcCommand, unwrapOwner } from './machine-lxc.js';
import { answerScript } from './machine-scripts.js';
import { answerTool } from './machine-tools.js';
import { runSimCommand } from './commands.js';
import { setFile } from './files.js';
import { reach } from './reach.js';
import { restartDaemon } from './restart.js';
import type { World } from './state.js';
import { record } from './world.js';
import { ok, type Enter } from './answers.js';

/** The machine at `path` ("" the host; "c1/c2" the machine inside c1/c2). */
export function simMachine(world: World, path = ''): Exec {
  return async (argv, options = {}) => {
    // Answered on the event loop's next turn, as a process would: commands started together
    // overlap, and reads in flight are shared (adapters/shared-read.ts) as on a real host.
    await new Promise<void>((resume) => setImmediate(resume));
    return answer(world, path, argv, options);
  };
}

/** Runs argv at `path`; every failure is the tool's output, never a thrown error. */
export async function answer(world: World, path: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  try {
    return await dispatch(world, path, argv, options);
  } catch (e) {
    if (e instanceof CommandError) return { code: e.exitCode, stdout: '', stderr: e.stderr };
    if (e instanceof NestctlError) return { code: 1, stdout: '', stderr: `Error: ${e.message}\n` };
    throw e;
  }
}

async function dispatch(world: World, path: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  // No /bin/sh in the image: the daemon finds nothing to run (exit 127), whatever the command.
  if (!reach(world, path, argv).shell) return { code: 127, stdout: '', stderr: 'Error: Command not found\n' };
  const { owner, rest } = unwrapOwner(argv);
  if (isClientCommand(rest)) return answerClient(world, path, rest, options, enter);
  if (isLxcCommand(rest)) return answerLxc(world, path, rest, owner, options, enter);
  if (rest[0] === 'sh' && rest[1] === '-c' && rest.length > 3) {
    const scripted = await answerScript(world, path, rest, owner, options);
    if (scripted) return scripted;
  }
  const tool = answerTool(world, path, rest, options);
  if (tool) return tool;
  // nestctl runs nothing else of its own on a level but the manifest's restart command (on the
  // host: host.restart, --host-restart); inside a container, setup commands.
  if (path !== '') return setupCommand(world, path, rest, options);
  restartDaemon(world, path, rest);
  return ok();
}

/** argv in the machine inside container `name` of the level at `path` (the caller reached it). */
const enter: Enter = (world, path, name, argv, options) => answer(world, joinPath(path, name), argv, options);

/** A setup command inside a container: recorded, and run by the small allow-list of commands.ts. */
async function setupCommand(world: World, path: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const there = reach(world, path, argv);
  record(world, path, 'exec', JSON.stringify(argv));
  return runSimCommand(
    argv,
    { touch: (file) => void (there.files[file] ?? setFile(world, path, file, Buffer.alloc(0), { mode: 0o644, uid: 0, gid: 0 })) },
    options.onOutput,
  );
}
