// nestctl init [FILE]: a starter manifest whose first line points editors at the shipped schema.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { NestctlError } from '../../core/errors.js';
import type { Colours } from '../../render/colour.js';
import { EXIT_OK } from '../exit.js';
import { PACKAGE_ROOT } from '../version.js';
import { printOut } from '../terminal.js';

export function starterManifest(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
apiVersion: nestctl/v1
host:
  # Where the host's ids for the tree start (root:BASE:N in /etc/subuid and /etc/subgid).
  # Leave it out to keep a large-enough existing root entry.
  base: 500000
containers:
  - name: c1
    image: nest          # an alias or fingerprint in the host's LXD image store
    containers:
      - name: c2
        image: busybox
`;
}

export async function initCommand(file: string, flags: { force?: boolean }, c: Colours): Promise<number> {
  const target = resolve(file);
  if (existsSync(target) && !flags.force) throw new NestctlError('user', `${file} already exists`, 'pass --force to overwrite it');
  const schema = join(PACKAGE_ROOT, 'schemas', 'manifest.schema.json');
  let ref = relative(dirname(target), schema);
  if (!ref.startsWith('.')) ref = `./${ref}`;
  await writeFile(target, starterManifest(ref));
  printOut(c.green(`Wrote ${file}. Next: nestctl plan --simulate ${file}\n`), c);
  return EXIT_OK;
}
