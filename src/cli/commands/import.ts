// nestctl import [--out FILE]: observe the machine (or a simulated world) and every level it can
// reach, and write a manifest of what is there (core/import), which `plan` then finds in place.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { importHosts } from '../../core/import/index.js';
import { HOST_NAME_RULE, remoteDaemon } from '../../core/manifest/hosts.js';
import { LOCAL_HOST, type Flavour, type HostSpec, type Manifest } from '../../core/manifest/model.js';
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
  /** Remotes of the client's configuration to import too. */
  remote?: string[];
  cli?: 'lxc' | 'incus';
}

const pos = { line: 1, col: 1 };

function hostSpec(name: string, place: HostSpec['place'], flavour: Flavour | null): HostSpec {
  return { name, section: `hosts.${name}`, place, owner: 'root', base: null, restart: null, flavour, pos, profiles: [] };
}

/**
 * The connection opens from a manifest; import has none, so it opens from one that names no
 * container: this machine (its flavour when --flavour says it) and each remote asked for. A fresh
 * simulation is then an empty host.
 */
export function emptyManifest(flavour: Flavour | null, remotes: readonly string[] = [], cli: 'lxc' | 'incus' | null = null): Manifest {
  const local = { ...hostSpec(LOCAL_HOST, { kind: 'local' }, flavour), section: remotes.length > 0 ? `hosts.${LOCAL_HOST}` : 'host' };
  const others = remotes.map((r) => {
    const daemon = remoteDaemon(cli, null);
    return hostSpec(
      r,
      { kind: 'remote', remote: r, cli, client: daemon.client, flavour: daemon.flavour, project: null, shell: null },
      null,
    );
  });
  const hosts = [local, ...others];
  return { apiVersion: 'nestctl/v1', file: '(import)', host: local, hosts, containers: [], lxc: [], moves: [], hostPos: pos };
}

/** A remote's name is its key in `hosts:`, so it must be one. */
function checkRemotes(remotes: readonly string[]): void {
  for (const r of remotes) {
    if (!HOST_NAME.test(r) || r === LOCAL_HOST)
      throw new NestctlError(
        'user',
        `--remote ${JSON.stringify(r)}: nestctl names a host by its remote, and ${HOST_NAME_RULE}`,
        'rename the remote (lxc remote rename)',
      );
  }
  if (new Set(remotes).size !== remotes.length) throw new NestctlError('user', '--remote names a remote twice');
}

const HOST_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export async function importCommand(flags: ImportFlags, c: Colours): Promise<number> {
  const remotes = flags.remote ?? [];
  checkRemotes(remotes);
  if (flags.out !== undefined) {
    if (existsSync(flags.out) && !flags.force)
      throw new NestctlError('user', `--out ${flags.out}: the file exists`, 'pass --force to overwrite it, or choose another name');
    await checkOutFile('--out', flags.out);
  }
  // --state is read, never written: import changes nothing.
  const connection = await openConnection(emptyManifest(flags.flavour ?? null, remotes, flags.cli ?? null), flags);
  const levels = connection.hosts?.map((h) => ({ name: h.name, level: h.level })) ?? [{ name: LOCAL_HOST, level: connection.host }];
  const observed = await Promise.all(
    levels.map(async (h) => ({
      name: h.name,
      remote: h.name === LOCAL_HOST ? null : { name: h.name, cli: flags.cli ?? null },
      tree: await discoverTree(h.level, h.name !== LOCAL_HOST),
    })),
  );
  const source =
    connection.simulation === null
      ? remotes.length > 0
        ? `this machine and ${remotes.join(', ')}`
        : 'this machine'
      : flags.state !== undefined
        ? `the simulated world in ${flags.state}`
        : flags.world !== undefined
          ? `the simulated world ${flags.world}`
          : 'a fresh simulated host';
  const result = importHosts(observed, source, flags.out ?? '(imported manifest)');
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
