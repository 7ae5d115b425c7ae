// Writing /etc/subuid or /etc/subgid the way the real adapter's script does: refuse when the
// file is not what was planned (sha256) or the new text is not a whole subid file (the same
// words as the script), keep a backup FILE-, replace, new mtime.

import { EnvironmentError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { REFUSED_HINT, refuseSubidText } from '../core/subid/check-text.js';
import type { SubidFile, SubidWriteOptions } from '../ports/lxd.js';
import { reach } from './reach.js';
import type { World } from './state.js';
import { record, tick } from './world.js';

// The one sha256 of the code base, still reachable where the simulator's tests look for it.
export { sha256 };

export const originalPath = (file: SubidFile): string => `/var/lib/nestctl/${file}.orig`;

export function writeSubid(
  world: World,
  path: string,
  file: SubidFile,
  text: string,
  expectedSha256: string | null,
  options: SubidWriteOptions = {},
): void {
  const name = `/etc/${file}`;
  const level = reach(world, path, ['sh', '-c', '<write subid>', 'nestctl-write-subid', name, expectedSha256 ?? 'absent']);
  const current = level.files[name];
  const currentSha = current ? sha256(current.text) : 'absent';
  const planned = expectedSha256 ?? 'absent';
  if (currentSha !== planned) {
    throw new EnvironmentError(
      `plan is stale: ${name} changed since it was planned (sha256 ${currentSha}, planned ${planned})`,
      'run nestctl plan again',
      path,
    );
  }
  const refused = refuseSubidText(name, current?.text ?? null, text, options.entries ?? [], Boolean(options.forgetOriginal));
  if (refused) throw new EnvironmentError(refused, REFUSED_HINT, path);
  const t = tick(world);
  if (current) level.files[`${name}-`] = { ...current };
  // Like the real script: the first write keeps the untouched file for `destroy --restore-ids`.
  if (!options.forgetOriginal && current && !level.files[originalPath(file)]) level.files[originalPath(file)] = { ...current };
  level.files[name] = { text, mtime: t };
  if (options.forgetOriginal) delete level.files[originalPath(file)];
  record(world, path, 'write', `${name} ${JSON.stringify(text)}`);
}
