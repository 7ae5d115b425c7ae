// The file probe's output (adapters/lxd/files-script.ts) → each path's state. One line per path,
// in the order the paths were given: `MARK absent`, `MARK other`, or
// `MARK file MODE UID GID SIZE SHA256 BASE64|-` (MODE in octal, as stat prints it).

import type { ObservedFile } from '../observed.js';

export function parseFileFacts(out: string, mark: string, paths: readonly string[]): Record<string, ObservedFile | null> | null {
  const lines = out.split('\n').filter((l) => l.startsWith(`${mark} `));
  if (lines.length !== paths.length) return null;
  const result: Record<string, ObservedFile | null> = {};
  for (const [i, line] of lines.entries()) {
    const words = line.slice(mark.length + 1).split(' ');
    const path = paths[i]!;
    if (words[0] === 'absent') result[path] = null;
    else if (words[0] === 'other') result[path] = { kind: 'other' };
    else if (words[0] === 'file' && words.length >= 7 && /^[0-7]+$/.test(words[1]!) && /^[0-9a-f]{64}$/.test(words[5]!)) {
      const [mode, uid, gid, size] = [parseInt(words[1]!, 8), Number(words[2]), Number(words[3]), Number(words[4])];
      if (![uid, gid, size].every(Number.isInteger)) return null;
      result[path] = { kind: 'file', sha256: words[5]!, mode, uid, gid, size, data: words[6] === '-' ? null : (words[6] ?? '') };
    } else return null;
  }
  return result;
}
