// Simulated hosts of a several-host manifest: each host is a simulated machine of its own (full
// nested levels, LXD's rules); a remote one is also a server the client reaches by its remote
// name (remote.ts), answering the real client's argv (ExecRemoteHost) for who it is, its range
// probe and its lock.

import type { Flavour } from '../../core/flavour/index.js';
import type { HostSpec } from '../../core/manifest/model.js';
import type { HostConnection } from '../../ports/remote.js';
import { ExecRemoteHost } from '../lxd/remote-host.js';
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
  const range = sim.daemonRange('');
  if (range.kind !== 'range') throw new Error(`the simulated remote ${host.place.remote} has no daemon range (${range.kind})`);
  const srv = simServerOf(host.place.remote, server?.serverName ?? host.place.remote, { start: range.start, size: range.size }, server?.fingerprint);
  const cli = host.place.cli ?? (host.flavour === 'incus' ? 'incus' : 'lxc');
  const held = (): ReadonlySet<string> => new Set(local?.state().host.lxd?.images.map((i) => i.fingerprint) ?? []);
  const exec = simServerExec(srv, held, (fingerprint, aliases) => receiveRelayed(local!.state(), sim.state(), fingerprint, aliases));
  const remote = new ExecRemoteHost(exec, cli, { remote: host.place.remote, project: host.place.project }, async () => (local ? local.host().images() : []));
  return { name: host.name, sim, server: srv, connection: { name: host.name, level, remote } };
}
