// Files and commands inside a container, as `lxc exec NAME -- sh -c …` would read, write and run
// them: reached through every container on the way (reach.ts), refused without a shell. Setup
// commands are modelled by a small allow-list (commands.ts); any other command succeeds and is
// only recorded, so a simulation shows the order of commands, never their effects.

import { sha256 } from '../core/hash.js';
import { EnvironmentError } from '../core/errors.js';
import type { ObservedFile } from '../core/observed.js';
import type { ExecResult, OutputListener } from '../ports/exec.js';
import { type CommandHost, runSimCommand } from './commands.js';
import type { FileWrite } from '../ports/lxd.js';
import { FILE_DIFF_MAX_BYTES } from '../adapters/lxd/files-script.js';
import { noShell } from './errors.js';
import { reach } from './reach.js';
import { joinPath, type LevelState, type SimFile, type World } from './state.js';
import { record, tick } from './world.js';

const bytesOf = (f: SimFile): Buffer => (f.data !== undefined ? Buffer.from(f.data, 'base64') : Buffer.from(f.text, 'utf8'));

function inside(world: World, level: string, name: string, argv: readonly string[]): LevelState {
  const path = joinPath(level, name);
  const there = reach(world, path, argv);
  if (!there.shell) throw noShell(path, argv);
  return there;
}

export function readFiles(world: World, level: string, name: string, paths: readonly string[]): Record<string, ObservedFile | null> {
  const there = inside(world, level, name, ['sh', '-c', '<read-files>', 'files', ...paths]);
  return Object.fromEntries(
    paths.map((p) => {
      const f = there.files[p];
      if (!f) return [p, null];
      const bytes = bytesOf(f);
      return [p, { kind: 'file', sha256: sha256(bytes), mode: f.mode ?? 0o644, uid: f.uid ?? 0, gid: f.gid ?? 0, size: bytes.length, data: bytes.length <= FILE_DIFF_MAX_BYTES ? bytes.toString('base64') : null }];
    }),
  );
}

export function writeFile(world: World, level: string, name: string, file: FileWrite): void {
  const path = joinPath(level, name);
  const there = inside(world, level, name, ['sh', '-c', '<write-file>', 'push-file', file.path]);
  if (file.expected !== 'any') {
    const now = there.files[file.path];
    const have = now ? sha256(bytesOf(now)) : null;
    if (have !== file.expected) throw new EnvironmentError(`plan is stale: ${file.path} changed after the plan was made`, 'run nestctl plan again', path);
  }
  setFile(world, path, file.path, Buffer.from(file.data, 'base64'), { mode: file.mode, uid: file.uid, gid: file.gid });
  record(world, path, 'write-file', file.path);
}

/** A file as a write (or a hand edit) leaves it. */
export function setFile(world: World, path: string, file: string, bytes: Buffer, owner: { mode: number; uid: number; gid: number }): void {
  const there = reach(world, path, ['sh']);
  there.files[file] = { text: bytes.toString('utf8'), data: bytes.toString('base64'), mtime: tick(world), ...owner };
}

export async function runIn(world: World, level: string, name: string, argv: readonly string[], onOutput?: OutputListener): Promise<ExecResult> {
  const path = joinPath(level, name);
  const there = inside(world, level, name, argv);
  record(world, path, 'exec', JSON.stringify(argv));
  const host: CommandHost = {
    touch: (file) => {
      if (!there.files[file]) setFile(world, path, file, Buffer.alloc(0), { mode: 0o644, uid: 0, gid: 0 });
    },
  };
  return runSimCommand(argv, host, onOutput);
}
