// Simulated hosts of a several-host manifest, wired as real ones are (cli/connection.ts): each
// host is a simulated machine of its own (sim/, full nested levels, LXD's rules) under the real
// client; a remote one is also a server the client reaches by its remote name (sim/remote.ts),
// answering the real client's argv (ExecRemoteHost) for who it is, its range probe and its lock.

import { sourceAt } from '../core/diagnostics.js';
import { InputError } from '../core/errors.js';
import type { HostSpec, Manifest } from '../core/manifest/model.js';
import type { HostConnection } from '../ports/remote.js';
import type { IdRange } from '../core/ids/range.js';
import {
  defaultWorld,
  describeWorldText,
  relayedInto,
  serverMachine,
  type ServerWorld,
  serverWorld,
  simClient,
  type SimRemote,
  simServerExec,
  simServerOf,
  type SimServer,
  simulatedWorldOf,
  type WorldDescription,
} from '../sim/index.js';
import { hostConnection } from './hosts.js';
import { connectedWorld, createSimWorld, type SimTrace, type SimWorld } from './sim-world.js';

export interface SimHost {
  name: string;
  sim: SimWorld;
  /** The server a remote host answers as (null: this machine). */
  server: SimServer | null;
  connection: HostConnection;
}

/**
 * The simulated remote behind a remote host: its server (who it is, its members' maps) and what
 * the server itself answers. `server`: who it says it is (default: named after its remote,
 * fingerprint derived from the name). `local`: this machine, whose host's images it receives by
 * relay (none without it).
 */
function simRemote(
  host: HostSpec & { place: { kind: 'remote' } },
  sim: SimWorld,
  server?: { serverName: string; fingerprint?: string },
  local?: SimWorld,
): SimRemote {
  const place = host.place;
  const daemonRange = (): IdRange => {
    const range = sim.daemonRange('');
    if (range.kind !== 'range') throw new Error(`the simulated remote ${place.remote} has no daemon range (${range.kind})`);
    return { start: range.start, size: range.size };
  };
  const srv = simServerOf(place.remote, server?.serverName ?? place.remote, daemonRange(), server?.fingerprint);
  const cluster = sim.state().cluster;
  // A standalone server's one member hands out what the machine's daemon loaded at its last start; a cluster's each its own.
  srv.members = cluster
    ? cluster.members.map((m) => ({
        name: m.name,
        get range() {
          return m.range ?? daemonRange();
        },
      }))
    : [
        {
          name: srv.members[0]!.name,
          get range() {
            return daemonRange();
          },
        },
      ];
  srv.clustered = cluster !== undefined;
  const held = (): ReadonlySet<string> => new Set(local?.state().host.lxd?.images.map((i) => i.fingerprint) ?? []);
  const serverExec = simServerExec(srv, held, (fingerprint, aliases) => relayedInto(local!, sim, fingerprint, aliases), serverMachine(sim));
  return { server: srv, world: sim.state(), serverExec, shell: place.shell };
}

const isRemote = (h: HostSpec): h is HostSpec & { place: { kind: 'remote' } } => h.place.kind === 'remote';

/** One host of a manifest on its own simulated machine, through the real client (cli/hosts.ts); a remote one reached from `local` (a fresh machine without it). */
export function simHost(
  host: HostSpec,
  sim: SimWorld,
  trace: SimTrace | undefined,
  server?: { serverName: string; fingerprint?: string },
  local?: SimWorld,
): SimHost {
  if (!isRemote(host)) return { name: host.name, sim, server: null, connection: hostConnection(host, simClient(sim.state(), []), trace) };
  const remote = simRemote(host, sim, server, local);
  const here = local ?? createSimWorld(defaultWorld([]));
  return { name: host.name, sim, server: remote.server, connection: hostConnection(host, simClient(here.state(), [remote]), trace) };
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
      return [
        remote,
        {
          serverName,
          fingerprint: s.fingerprint ?? simServerOf(remote, serverName, { start: 0, size: 0 }).fingerprint,
          world: createSimWorld(serverWorld(desc, s)).state(),
        },
      ];
    }),
  );
  // One machine per server, however many hosts of the manifest name its remote; one client here reaching them all.
  const remotes = new Map<string, { sim: SimWorld; remote: SimRemote }>();
  for (const h of manifest.hosts) {
    if (!isRemote(h) || remotes.has(h.place.remote)) continue;
    const server = servers.get(h.place.remote);
    if (!server) {
      throw new InputError(
        [
          {
            severity: 'error',
            fault: 'user',
            where: sourceAt(manifest.file, h.pos),
            message: `the simulated world has no server for remote ${h.place.remote}`,
            hint: `describe it under servers.${h.place.remote} in the world file (the format of schemas/world.schema.json)`,
          },
        ],
        { file: manifest.file },
      );
    }
    const sim = connectedWorld(simulatedWorldOf(server.world));
    remotes.set(h.place.remote, {
      sim,
      remote: simRemote(h, sim, { serverName: server.serverName, fingerprint: server.fingerprint }, local),
    });
  }
  const exec = simClient(
    local.state(),
    [...remotes.values()].map((r) => r.remote),
  );
  const hosts = manifest.hosts.map((h): SimHost => {
    const there = isRemote(h) ? remotes.get(h.place.remote)! : null;
    return { name: h.name, sim: there?.sim ?? local, server: there?.remote.server ?? null, connection: hostConnection(h, exec, trace) };
  });
  return { hosts, local, describe: () => describeWorldText(local.state(), servers) };
}
