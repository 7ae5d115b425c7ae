// Simulated hosts of a several-host manifest: each host is a simulated machine of its own (full
// nested levels, LXD's rules); a remote one is also a server the client reaches by its remote
// name (remote.ts), answering the real client's argv (ExecRemoteHost) for who it is, its range
// probe and its lock.

import type { Flavour } from '../../core/flavour/index.js';
import type { HostSpec } from '../../core/manifest/model.js';
import type { HostConnection } from '../../ports/remote.js';
import type { IdRange } from '../../core/ids/range.js';
import { ExecRemoteHost } from '../lxd/remote-host.js';
import { ShellHostLevel } from '../lxd/shell-host.js';
import { simShellExec } from './shell.js';
import type { SimWorld } from './index.js';
import type { SimTrace } from './level.js';
import { receiveRelayed } from './images.js';
import { type SimServer, simServerExec, simServerOf } from './remote.js';

export interface SimHost {
  name: string;
  sim: SimWorld;
  /** The server a remote host answers as (null: this machine). */
  server: SimServer | null;
  connection: HostConnection;
}

/**
 * `server`: who a remote says it is (default: named after its remote, fingerprint derived from the name).
 * `local`: this machine, whose host's images a remote receives by relay (none without it).
 */
export function simHost(host: HostSpec, sim: SimWorld, trace: SimTrace | undefined, server?: { serverName: string; fingerprint?: string }, local?: SimWorld): SimHost {
  const level = sim.host(host.flavour as Flavour | null, trace);
  if (host.place.kind === 'local') return { name: host.name, sim, server: null, connection: { name: host.name, level, remote: null } };
  const place = host.place;
  const daemonRange = (): IdRange => {
    const range = sim.daemonRange('');
    if (range.kind !== 'range') throw new Error(`the simulated remote ${place.remote} has no daemon range (${range.kind})`);
    return { start: range.start, size: range.size };
  };
  const srv = simServerOf(host.place.remote, server?.serverName ?? host.place.remote, daemonRange(), server?.fingerprint);
  // Its one member hands out what the machine's daemon loaded at its last start.
  srv.members = [{ name: srv.members[0]!.name, get range() { return daemonRange(); } }];
  const cli = host.place.cli ?? (host.flavour === 'incus' ? 'incus' : 'lxc');
  const held = (): ReadonlySet<string> => new Set(local?.state().host.lxd?.images.map((i) => i.fingerprint) ?? []);
  const exec = simServerExec(srv, held, (fingerprint, aliases) => receiveRelayed(local!.state(), sim.state(), fingerprint, aliases));
  const remote = new ExecRemoteHost(exec, cli, { remote: host.place.remote, project: host.place.project }, async () => (local ? local.host().images() : []));
  const { remote: name, shell } = host.place;
  const top = shell ? new ShellHostLevel(level, { remote: name, prefix: shell, exec: simShellExec(() => sim.state(), shell), restarted: async () => undefined, ...(trace ? { trace } : {}) }, (host.flavour as Flavour | null) ?? (cli === 'incus' ? 'incus' : 'debian')) : level;
  return { name: host.name, sim, server: srv, connection: { name: host.name, level: top, remote } };
}
