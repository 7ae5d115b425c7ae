// A container's `files:` and `setup:`: the checks the schema cannot say in plain words (an absolute
// path without `..`, an octal mode, exactly one of content and source, the size cap), and the
// build of each file into a FileSpec. A `source` is read by the CLI (cli/sources.ts), never here.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { DAEMON_JSON, dockerRemapSize } from './docker.js';
import type { ContainerSpec, FileSpec, Manifest } from './model.js';
import { type Path, scalarSource, type Source, valuePos } from './source.js';
import { containerLabel, dataAt, isRecord } from './words.js';

/** The largest file nestctl pushes (content or source); the plan carries every byte. */
export const FILE_MAX_BYTES = 1024 * 1024;

export interface RawFile {
  path: string;
  content?: string;
  source?: string;
  mode?: string | number;
  uid?: number;
  gid?: number;
}

const DEFAULT_MODE = 0o644;
const MODE_HINT = 'write the mode in octal, as a quoted string ("0644", "0755") or as octal digits (644)';

/**
 * The mode a value stands for. YAML reads `0644` as the number 644, so a number's decimal digits
 * are the octal digits the user wrote; only `0o644` (which YAML reads as 420) is taken as is.
 */
export function fileMode(value: string | number, written: string | null): number | null {
  if (typeof value === 'number' && written !== null && /^0o[0-7]+$/i.test(written)) return value <= 0o7777 ? value : null;
  const digits = String(value);
  if (!/^0?[0-7]{1,4}$/.test(digits)) return null;
  return parseInt(digits, 8);
}

/** Why a path inside a container is not one nestctl writes to, or null. */
export function filePathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'it is not absolute';
  if (path.split('/').includes('..')) return 'it has a ".." component';
  if (/[\0\n]/.test(path)) return 'it holds a NUL or newline character';
  if (path.endsWith('/')) return 'it names a directory';
  return null;
}

export function fileFindings(data: unknown, src: Source, container: Path): Diagnostic[] {
  const files = dataAt(data, [...container, 'files']);
  if (!Array.isArray(files)) return [];
  const who = `container ${containerLabel(data, container)}`;
  const found: Diagnostic[] = [];
  const firstLine = new Map<string, number>();
  files.forEach((file: unknown, i) => {
    if (!isRecord(file)) return;
    const at = [...container, 'files', i];
    const path = file['path'];
    if (typeof path === 'string' && path !== '') {
      const bad = filePathProblem(path);
      if (bad)
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, valuePos(src, [...at, 'path'])),
          message: `file path ${JSON.stringify(path)} in ${who}: ${bad}`,
          hint: 'write an absolute path inside the container, e.g. /etc/motd',
        });
      const first = firstLine.get(path);
      if (first !== undefined)
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, valuePos(src, [...at, 'path'])),
          message: `file ${path} is listed twice in ${who} (first at line ${first})`,
          hint: 'list each file once',
        });
      else firstLine.set(path, valuePos(src, [...at, 'path']).line);
      if (path === DAEMON_JSON && dockerRemapSize(dataAt(data, [...container, 'docker'])) !== null) {
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, valuePos(src, [...at, 'path'])),
          message: `${DAEMON_JSON} in ${who}: nestctl writes it for docker.userns_remap`,
          hint: `remove this files: entry (nestctl writes {"userns-remap": "default"}), or drop userns_remap and keep your own ${DAEMON_JSON} with your keys merged into it`,
        });
      }
    }
    const hasContent = file['content'] !== undefined;
    const hasSource = file['source'] !== undefined;
    if (hasContent === hasSource) {
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, valuePos(src, at)),
        message: `file ${typeof path === 'string' ? path : `#${i + 1}`} in ${who} ${hasContent ? 'has both content and source' : 'has neither content nor source'}`,
        hint: 'give exactly one: content (the text itself) or source (a file next to the manifest)',
      });
    }
    const content = file['content'];
    if (typeof content === 'string' && Buffer.byteLength(content) > FILE_MAX_BYTES) {
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, valuePos(src, [...at, 'content'])),
        message: `the content of ${String(path)} in ${who} is larger than 1 MiB`,
        hint: 'nestctl pushes files of at most 1 MiB; copy larger ones with a setup command',
      });
    }
    const mode = file['mode'];
    if ((typeof mode === 'string' || typeof mode === 'number') && fileMode(mode, scalarSource(src, [...at, 'mode'])) === null) {
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, valuePos(src, [...at, 'mode'])),
        message: `mode ${JSON.stringify(mode)} of ${String(path)} in ${who} is not an octal mode`,
        hint: MODE_HINT,
      });
    }
  });
  return found;
}

export function setupFindings(data: unknown, src: Source, container: Path): Diagnostic[] {
  const setup = dataAt(data, [...container, 'setup']);
  if (!Array.isArray(setup)) return [];
  return setup.flatMap((argv: unknown, i): Diagnostic[] =>
    Array.isArray(argv) && argv[0] === ''
      ? [
          {
            severity: 'error',
            fault: 'user',
            where: sourceAt(src.file, valuePos(src, [...container, 'setup', i, 0])),
            message: `setup command ${i + 1} of container ${containerLabel(data, container)} has an empty program name`,
            hint: 'each command is an argv list, program first, e.g. [touch, /var/lib/ready]',
          },
        ]
      : [],
  );
}

export function buildFiles(files: RawFile[], at: Path, src: Source): FileSpec[] {
  return files.map((f, i) => ({
    path: f.path,
    source: f.source ?? null,
    data: f.content !== undefined ? Buffer.from(f.content, 'utf8').toString('base64') : null,
    mode: f.mode === undefined ? DEFAULT_MODE : (fileMode(f.mode, scalarSource(src, [...at, i, 'mode'])) ?? DEFAULT_MODE),
    uid: f.uid ?? 0,
    gid: f.gid ?? 0,
    pos: f.source !== undefined ? valuePos(src, [...at, i, 'source']) : valuePos(src, [...at, i]),
  }));
}

/** Each `source` the manifest names, once. */
export function fileSources(manifest: Manifest): string[] {
  const out = new Set<string>();
  const walk = (list: ContainerSpec[]): void => {
    for (const c of list) {
      for (const f of c.files) if (f.source !== null) out.add(f.source);
      walk(c.containers);
    }
  };
  walk(manifest.containers);
  return [...out];
}

/** What the CLI found reading a source: its bytes (base64), or why it cannot be used. */
export type SourceRead = { ok: true; data: string } | { ok: false; problem: string; hint: string };

export type SourcesResult = { ok: true; manifest: Manifest } | { ok: false; diagnostics: Diagnostic[] };

/** The manifest with every source's bytes in place, or a diagnostic at each source that cannot be used. */
export function withSources(manifest: Manifest, reads: ReadonlyMap<string, SourceRead>): SourcesResult {
  const diagnostics: Diagnostic[] = [];
  const fill = (c: ContainerSpec): ContainerSpec => ({
    ...c,
    files: c.files.map((f) => {
      if (f.source === null) return f;
      const read = reads.get(f.source);
      if (read?.ok) return { ...f, data: read.data };
      const problem = read ? read.problem : 'it was not read';
      diagnostics.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(manifest.file, f.pos),
        message: `source ${JSON.stringify(f.source)} of ${f.path} in container ${c.path}: ${problem}`,
        hint: read && !read.ok ? read.hint : 'a source is a regular file, relative to the manifest',
      });
      return f;
    }),
    containers: c.containers.map(fill),
  });
  const filled = { ...manifest, containers: manifest.containers.map(fill) };
  return diagnostics.length > 0 ? { ok: false, diagnostics } : { ok: true, manifest: filled };
}
