// The CLI's reading of its inputs (manifests, saved plans, worlds): a regular file's UTF-8 text,
// within a size bound, or an error that says what is wrong with the path.

import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { EnvironmentError, NestctlError } from '../core/errors.js';
import { MAX_BYTES as MANIFEST_MAX } from '../core/manifest/hostile.js';
import { MAX_PLAN_BYTES } from '../core/plan/codec.js';

const MiB = 1024 * 1024;
/** A manifest is hand-written text; anything larger is a mistake (or /dev/zero). */
export const MANIFEST_MAX_BYTES = MANIFEST_MAX;
/** Saved plans and worlds carry a manifest and observed files, so they get a plan's room. */
export const INPUT_MAX_BYTES = MAX_PLAN_BYTES;

function fileError(file: string, e: unknown): NestctlError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new NestctlError('user', `${file}: no such file`);
  if (code === 'ENOTDIR') return new NestctlError('user', `${file}: a part of the path is not a directory`);
  if (code === 'EACCES' || code === 'EPERM') return new EnvironmentError(`${file}: permission denied`);
  return new EnvironmentError(`${file}: ${(e as Error).message}`);
}

/**
 * A regular file's text, at most maxBytes of it. Opened non-blocking so a FIFO cannot hang us
 * before we see what it is; anything but a regular file (directory, FIFO, device) is refused.
 */
export async function readText(file: string, maxBytes = INPUT_MAX_BYTES): Promise<string> {
  if (file === '-')
    throw new NestctlError('user', 'reading from standard input (-) is not supported', 'save the input to a file and give its path');
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fileError(file, e);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new NestctlError('user', `${file}: is a directory, not a file`);
    if (!st.isFile())
      throw new NestctlError(
        'user',
        `${file}: not a regular file (a FIFO, socket or device)`,
        'save the input to a file and give its path',
      );
    // Read one byte past the cap: the size stat reports may be stale or wrong (/proc).
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size + 1, 64 * 1024)));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      total += bytesRead;
      if (total > maxBytes) throw new NestctlError('user', `${file}: larger than ${maxBytes / MiB} MiB; this is not a nestctl input`);
    }
    const bytes = Buffer.concat(chunks, total);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new NestctlError('user', `${file}: not UTF-8 text`);
    }
  } catch (e) {
    throw e instanceof NestctlError ? e : fileError(file, e);
  } finally {
    await fh.close();
  }
}
