// Files the CLI writes for the user (plan --out): checked before any work, written atomically
// and privately — a saved plan is authority to act as root.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError, NestctlError } from '../core/errors.js';

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** Refuses a destination that cannot or must not be written, before anything is observed. */
export async function checkOutFile(flag: string, file: string): Promise<void> {
  if (file === '' || file.endsWith('/'))
    throw new NestctlError('user', `${flag} "${file}": expected a file name`, `e.g. ${flag} nestctl.plan.json`);
  const dir = dirname(file);
  const dirStat = await stat(dir).catch((e: unknown) => {
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR')
      throw new NestctlError(
        'user',
        `${flag} ${file}: the directory ${dir} does not exist`,
        `create it first (mkdir -p ${dir}) or save the plan elsewhere`,
      );
    throw new EnvironmentError(`${flag} ${file}: cannot look at ${dir}: ${(e as Error).message}`);
  });
  if (!dirStat.isDirectory()) throw new NestctlError('user', `${flag} ${file}: ${dir} is not a directory`);
  const here = await lstat(file).catch((e: unknown) => {
    if (code(e) === 'ENOENT') return null;
    throw new EnvironmentError(`${flag} ${file}: ${(e as Error).message}`);
  });
  if (here?.isSymbolicLink())
    throw new NestctlError(
      'user',
      `${flag} ${file}: is a symbolic link; nestctl does not write a plan through one`,
      'give the path of the file itself',
    );
  if (here?.isDirectory())
    throw new NestctlError('user', `${flag} ${file}: is a directory`, `give a file name, e.g. ${join(file, 'nestctl.plan.json')}`);
  if (here && !here.isFile()) throw new NestctlError('user', `${flag} ${file}: exists and is not a regular file`);
  // Root passes every permission check, so only trying shows a read-only mount, /proc or /sys.
  const probe = tempName(file);
  await open(probe, CREATE_FLAGS, 0o600).then(
    (fh) => fh.close().then(() => unlink(probe)),
    (e: unknown) => {
      throw new EnvironmentError(
        `${flag} ${file}: cannot create a file in ${dir} (${code(e) ?? (e as Error).message})`,
        'save the plan in a directory you can write to',
      );
    },
  );
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const tempName = (file: string): string => join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

/** Temp file in the same directory, mode 0600, then rename over the destination. */
export async function writePrivateAtomically(flag: string, file: string, text: string): Promise<void> {
  const tmp = tempName(file);
  try {
    const fh = await open(tmp, CREATE_FLAGS, 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (code(e) === 'EISDIR') throw new NestctlError('user', `${flag} ${file}: is a directory`);
    throw new EnvironmentError(`${flag} ${file}: cannot write it (${code(e) ?? (e as Error).message})`);
  }
}

/**
 * Rewrites an existing file of the user's (nestctl fmt): temp file beside it, same mode (and, as
 * root, same owner), then rename over it, so a reader sees the old text or the new, never half.
 * A symbolic link is followed: the file it names is replaced, the link stays.
 */
export async function rewriteAtomically(file: string, text: string): Promise<void> {
  const target = await realpath(file).catch((e: unknown) => {
    throw new EnvironmentError(`${file}: ${(e as Error).message}`);
  });
  const st = await stat(target);
  const tmp = tempName(target);
  try {
    const fh = await open(tmp, CREATE_FLAGS, 0o600);
    try {
      await fh.writeFile(text);
      await fh.chmod(st.mode & 0o7777);
      if (process.getuid?.() === 0) await fh.chown(st.uid, st.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new EnvironmentError(`${file}: cannot rewrite it (${code(e) ?? (e as Error).message})`);
  }
}
