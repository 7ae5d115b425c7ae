// The imports of src/ files, read from their text (a regex, not the compiler) and resolved to a
// repository path or a package name: for the layer rule (layers.test.ts) and the import-cycle
// check (import-cycles.test.ts).

import { readdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix } from 'node:path';
import { ROOT } from './cli.js';

export interface Import {
  file: string; // repository path of the importing file, e.g. src/core/plan/digest.ts
  line: number;
  specifier: string; // as written
  target: string; // a repository path (relative imports), `node:x`, or a package name
  typeOnly: boolean; // `import type …` / `export type …`: erased at build time
}

// `import … from '…'` (type-only and multi-line included), `export … from '…'`, `import '…'`
// and `import('…')`.
const IMPORT =
  /^\s*import\s+(?:type\s+)?[\w*{$][^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*export\s+(?:type\s+)?[*{][^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;

export function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = (m[1] ?? m[2] ?? m[3] ?? m[4])!;
    const line = text.slice(0, m.index).split('\n').length + (m[0].match(/^\s*/)![0].split('\n').length - 1);
    let target: string;
    if (specifier.startsWith('.')) target = posix.normalize(posix.join(posix.dirname(file), specifier));
    else if (isBuiltin(specifier)) target = specifier.startsWith('node:') ? specifier : `node:${specifier}`;
    else target = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
    found.push({ file, line, specifier, target, typeOnly: /^\s*(?:import|export)\s+type\s/.test(m[0]) });
  }
  return found;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => posix.join(dir, f.split('\\').join('/')))
    .sort();
}
