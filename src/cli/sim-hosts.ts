// Simulated hosts of a several-host manifest, wired as real ones are (cli/connection.ts): each
// host is a simulated machine of its own (sim/, full nested levels, LXD's rules) under the real
// client; a remote one is also a server the client reaches by its remote name (sim/remote.ts),
// answering the real client's argv (ExecRemoteHost) for who it is, its range probe and its lock.

import type { Flavour } from '../core/flavour/index.js';
import { sourceAt } from '../core/diagnostics.js';
import { InputError } from '../core/errors.js';
import type { HostSpec, Manifest } from '../core/manifest/model.js';
import type { HostConnection } from '../ports/remote.js';
import type { IdRange } from '../core/ids/range.js';
import { ExecRemoteHost } from '../adapters/lxd/remote-host.js';
import { ShellHostLevel } from '../adapters/lxd/shell-host.js';
import { describeWorldText, relayedInto, serverMachine, type ServerWorld, serverWorld, simServerExec, simServerOf, type SimServer, simShellExec, simulatedWorldOf, type WorldDescription } from '../sim/index.js';
import { connectedWorld, createSimWorld, type SimTrace, type SimWorld } from './sim-world.js';

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
  const cluster = sim.state().cluster;
  // A standalone server's one member hands out what the machine's daemon loaded at its last start; a cluster's each its own.
  srv.members = cluster
    ? cluster.members.map((m) => ({ name: m.name, get range() { return m.range ?? daemonRange(); } }))
    : [{ name: srv.members[0]!.name, get range() { return daemonRange(); } }];
  srv.clustered = cluster !== undefined;
  const cli = host.place.client;
  const held = (): ReadonlySet<string> => new Set(local?.state().host.lxd?.images.map((i) => i.fingerprint) ?? []);
  const exec = simServerExec(srv, held, (fingerprint, aliases) => relayedInto(local!, sim, fingerprint, aliases), serverMachine(sim));
  const remote = new ExecRemoteHost(exec, cli, { remote: host.place.remote, project: host.place.project }, async () => (local ? local.host().images() : []));
  const { remote: name, shell } = host.place;
  const top = shell ? new ShellHostLevel(level, { remote: name, prefix: shell, exec: simShellExec(() => sim.state(), shell), restarted: async () => undefined, ...(trace ? { trace } : {}) }, place.flavour) : level;
  return { name: host.name, sim, server: srv, connection: { name: host.name, level: top, remote } };
}

/** The machines a world describes for a manifest of several hosts: this machine, and each server by remote name. */
export interface SimHosts {
  hosts: SimHost[];
  /** This machine: the manifest's host without `remote:`, and where images are relayed from. */
  local: SimWorld;
  /** The text a state file holds: this machine's world with every server's. */
  describe(): string;
}

/** Each host of the manifest on the machine `desc` describes for it; a remote the world has no server for is refused at the host's line. */
export function simHostsOf(manifest: Manifest, desc: WorldDescription, trace: SimTrace | undefined): SimHosts {
  const local = createSimWorld({ ...desc, servers: undefined });
  const servers = new Map<string, ServerWorld>(
    Object.entries(desc.servers ?? {}).map(([remote, s]) => {
      const serverName = s.serverName ?? remote;
      return [remote, { serverName, fingerprint: s.fingerprint ?? simServerOf(remote, serverName, { start: 0, size: 0 }).fingerprint, world: createSimWorld(serverWorld(desc, s)).state() }];
    }),
  );
  // One SimWorld per server, however many hosts of the manifest name its remote.
  const worlds = new Map<string, SimWorld>();
  const hosts = manifest.hosts.map((h) => {
    if (h.place.kind === 'local') return simHost(h, local, trace);
    const server = servers.get(h.place.remote);
    if (!server) {
      throw new InputError(
        [{ severity: 'error', fault: 'user', where: sourceAt(manifest.file, h.pos), message: `the simulated world has no server for remote ${h.place.remote}`, hint: `describe it under servers.${h.place.remote} in the world file (the format of schemas/world.schema.json)` }],
        { file: manifest.file },
      );
    }
    const sim = worlds.get(h.place.remote) ?? connectedWorld(simulatedWorldOf(server.world));
    worlds.set(h.place.remote, sim);
    return simHost(h, sim, trace, { serverName: server.serverName, fingerprint: server.fingerprint }, local);
  });
  return { hosts, local, describe: () => describeWorldText(local.state(), servers) };
}

