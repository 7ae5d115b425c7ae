// Files inside a container, as nestctl's file scripts read and write them there (reached through
// every container on the way, reach.ts; refused without a shell).

import { sha256 } from '../core/hash.js';
import { EnvironmentError } from '../core/errors.js';
import type { ObservedFile } from '../core/observed.js';
import type { FileWrite } from '../ports/lxd.js';
import { FILE_DIFF_MAX_BYTES } from '../adapters/lxd/files-script.js';
import { noShell } from './errors.js';
import { reach } from './reach.js';
import type { LevelState, SimFile, World } from './state.js';
import { record, tick } from './world.js';

const bytesOf = (f: SimFile): Buffer => (f.data !== undefined ? Buffer.from(f.data, 'base64') : Buffer.from(f.text, 'utf8'));

function inside(world: World, path: string, argv: readonly string[]): LevelState {
  const there = reach(world, path, argv);
  if (!there.shell) throw noShell(path, argv);
  return there;
}

/** The files at `path` (the machine inside a container), as READ_FILES_SCRIPT reports them. */
export function readFiles(world: World, path: string, paths: readonly string[]): Record<string, ObservedFile | null> {
  const there = inside(world, path, ['sh', '-c', '<read-files>', 'files', ...paths]);
  return Object.fromEntries(
    paths.map((p) => {
      const f = there.files[p];
      if (!f) return [p, null];
      const bytes = bytesOf(f);
      return [
        p,
        {
          kind: 'file',
          sha256: sha256(bytes),
          mode: f.mode ?? 0o644,
          uid: f.uid ?? 0,
          gid: f.gid ?? 0,
          size: bytes.length,
          data: bytes.length <= FILE_DIFF_MAX_BYTES ? bytes.toString('base64') : null,
        },
      ];
    }),
  );
}

/** WRITE_FILE_SCRIPT at `path`: refused as stale unless the file is as planned. */
export function writeFile(world: World, path: string, file: FileWrite): void {
  const there = inside(world, path, ['sh', '-c', '<write-file>', 'push-file', file.path]);
  if (file.expected !== 'any') {
    const now = there.files[file.path];
    const have = now ? sha256(bytesOf(now)) : null;
    if (have !== file.expected)
      throw new EnvironmentError(`plan is stale: ${file.path} changed after the plan was made`, 'run nestctl plan again', path);
  }
  setFile(world, path, file.path, Buffer.from(file.data, 'base64'), { mode: file.mode, uid: file.uid, gid: file.gid });
  record(world, path, 'write-file', file.path);
}

/** A file as a write (or a hand edit) leaves it. */
export function setFile(world: World, path: string, file: string, bytes: Buffer, owner: { mode: number; uid: number; gid: number }): void {
  const there = reach(world, path, ['sh']);
  there.files[file] = { text: bytes.toString('utf8'), data: bytes.toString('base64'), mtime: tick(world), ...owner };
}
