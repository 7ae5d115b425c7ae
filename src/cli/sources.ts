// The files a manifest's `files:` name by `source`, read relative to the manifest before it is
// planned, so the core only ever sees bytes (core/manifest/files.ts).

import { type FileHandle, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FILE_MAX_BYTES, type SourceRead, type SourcesResult, fileSources, withSources } from '../core/manifest/files.js';
import type { Manifest } from '../core/manifest/model.js';

export async function readSources(manifest: Manifest): Promise<SourcesResult> {
  const reads = new Map<string, SourceRead>();
  await Promise.all(
    fileSources(manifest).map(async (source) => reads.set(source, await readSource(resolve(dirname(manifest.file), source)))),
  );
  return withSources(manifest, reads);
}

async function readSource(path: string): Promise<SourceRead> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem: code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? String(e)})`,
      hint: "a source is a path relative to the manifest's directory",
    };
  }
  try {
    // fstat on the opened file: what is checked is what is read.
    const st = await handle.stat();
    if (!st.isFile()) return { ok: false, problem: `${path} is not a regular file`, hint: 'a source must be a regular file' };
    if (st.size > FILE_MAX_BYTES)
      return {
        ok: false,
        problem: `${path} is ${st.size} bytes, more than 1 MiB`,
        hint: 'nestctl pushes files of at most 1 MiB; copy larger ones with a setup command',
      };
    const bytes = await handle.readFile();
    if (bytes.length > FILE_MAX_BYTES)
      return { ok: false, problem: `${path} grew past 1 MiB while it was read`, hint: 'nestctl pushes files of at most 1 MiB' };
    return { ok: true, data: bytes.toString('base64') };
  } finally {
    await handle.close();
  }
}
