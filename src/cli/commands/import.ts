// nestctl import [--out FILE]: observe the machine (or a simulated world) and every level it can
// reach, and write a manifest of what is there (core/import), which `plan` then finds in place.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { importManifest } from '../../core/import/index.js';
import { LOCAL_HOST, type Flavour, type Manifest } from '../../core/manifest/model.js';
import { NestctlError } from '../../core/errors.js';
import { discoverTree } from '../../engine/discover.js';
import type { Colours } from '../../render/colour.js';
import type { ConnectionOptions } from '../connection-types.js';
import { openConnection } from '../connection.js';
import { EXIT_OK } from '../exit.js';
import { checkOutFile } from '../out-file.js';
import { printErr, printOut } from '../terminal.js';

export interface ImportFlags extends ConnectionOptions {
  out?: string;
  force?: boolean;
  flavour?: Flavour;
}

/**
 * The connection opens from a manifest; import has none, so it opens from one that names no
 * container (only the flavour, when --flavour says it). A fresh simulation is then an empty host.
 */
export function emptyManifest(flavour: Flavour | null): Manifest {
  const pos = { line: 1, col: 1 };
  const host = {
    name: LOCAL_HOST,
    section: 'host',
    place: { kind: 'local' as const },
    owner: 'root',
    base: null,
    restart: null,
    flavour,
    pos,
    profiles: [],
  };
  return { apiVersion: 'nestctl/v1', file: '(import)', host, hosts: [host], containers: [], lxc: [], hostPos: pos };
}

export async function importCommand(flags: ImportFlags, c: Colours): Promise<number> {
  if (flags.out !== undefined) {
    if (existsSync(flags.out) && !flags.force)
      throw new NestctlError('user', `--out ${flags.out}: the file exists`, 'pass --force to overwrite it, or choose another name');
    await checkOutFile('--out', flags.out);
  }
  // --state is read, never written: import changes nothing.
  const connection = await openConnection(emptyManifest(flags.flavour ?? null), flags);
  const tree = await discoverTree(connection.host);
  const source =
    connection.simulation === null
      ? 'this machine'
      : flags.state !== undefined && flags.world === undefined
        ? `the simulated world in ${flags.state}`
        : flags.world !== undefined
          ? `the simulated world ${flags.world}`
          : 'a fresh simulated host';
  const result = importManifest(tree, source, flags.out ?? '(imported manifest)');
  if (flags.out === undefined) printOut(result.text, c);
  else {
    await writeFile(flags.out, result.text);
    printErr(
      c.green(
        `Wrote ${flags.out}${result.notes > 0 ? ` (${result.notes} note${result.notes === 1 ? '' : 's'} on what it cannot express)` : ''}. Next: nestctl plan ${flags.out}\n`,
      ),
      c,
    );
  }
  return EXIT_OK;
}
