// nestctl fmt [--check] FILE…: each manifest in canonical form (core/manifest/format.ts). A
// manifest that does not validate is reported as validate reports it and left as it is.

import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { formatManifest } from '../../core/manifest/format.js';
import type { Colours } from '../../render/colour.js';
import { EXIT_ERROR, EXIT_OK } from '../exit.js';
import { loadManifestFile } from '../load.js';
import { rewriteAtomically } from '../out-file.js';
import { reportError } from '../report.js';
import { printOut } from '../terminal.js';

export interface FmtFlags {
  check?: boolean;
}

type Outcome = 'canonical' | 'changed' | 'failed';

async function fmtFile(file: string, flags: FmtFlags, c: Colours): Promise<Outcome> {
  try {
    const { text } = await loadManifestFile(file);
    const canonical = formatManifest(text);
    if (canonical === text) return 'canonical';
    if (flags.check)
      printOut(
        `${file}\n${colouredDiff(createTwoFilesPatch(file, `${file} (canonical)`, text, canonical, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY }), c)}`,
        c,
      );
    else {
      await rewriteAtomically(file, canonical);
      printOut(`${file}\n`, c);
    }
    return 'changed';
  } catch (e) {
    reportError(e, c);
    return 'failed';
  }
}

const colouredDiff = (patch: string, c: Colours): string =>
  patch
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? c.green(l) : l.startsWith('-') && !l.startsWith('---') ? c.red(l) : l))
    .join('\n');

export async function fmtCommand(files: string[], flags: FmtFlags, c: Colours): Promise<number> {
  const outcomes: Outcome[] = [];
  for (const file of files) outcomes.push(await fmtFile(file, flags, c));
  if (outcomes.includes('failed')) return EXIT_ERROR;
  return flags.check && outcomes.includes('changed') ? EXIT_ERROR : EXIT_OK;
}
