// A simulated LXD server reached as a client remote: it answers the argv the real client would
// run (adapters/lxd/remote-commands.ts), so ExecRemoteHost over it is the simulated RemoteHost
// and --verbose would show the real commands. Modelled: who it is (/1.0), cluster members each
// with its own daemon map, image-less probe instances (a non-isolated instance gets a copy of
// its member's whole map, findIdmap in driver_lxc.go), the lock profile (created once), images
// relayed from this machine, and stopped moves between members (the map becomes the new
// member's, as seen on the lab's LXD 5.0.2 cluster).

import type { IdRange } from '../core/ids/range.js';
import { sha256 } from '../core/hash.js';
import type { Exec } from '../ports/exec.js';
import { CommandError } from '../core/errors.js';
import { ok, clientError as fail } from './answers.js';

export interface SimServer {
  /** The remote's name in the client's configuration. */
  remote: string;
  serverName: string;
  /** sha256 of the server certificate, hex. */
  fingerprint: string;
  /** Members with their daemon's map; a standalone server has exactly one and is not clustered. */
  members: { name: string; range: IdRange }[];
  clustered: boolean;
  profiles: Map<string, Record<string, string>>;
  images: Set<string>;
  instances: Map<string, { member: string; running: boolean; map: IdRange }>;
}

export function simServer(remote: string, serverName: string, fingerprint: string, members: { name: string; range: IdRange }[]): SimServer {
  return {
    remote,
    serverName,
    fingerprint,
    members,
    clustered: members.length > 1,
    profiles: new Map(),
    images: new Set(),
    instances: new Map(),
  };
}

const idmapJson = (r: IdRange): string =>
  JSON.stringify([
    { Isuid: true, Isgid: false, Hostid: r.start, Nsid: 0, Maprange: r.size },
    { Isuid: false, Isgid: true, Hostid: r.start, Nsid: 0, Maprange: r.size },
  ]);

/** The words of a command without `--project P` and `-q` (the simulated server has one project). */
function words(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--project' || argv[i] === '--target-project') i += 1;
    else if (argv[i] !== '-q') out.push(argv[i]!);
  }
  return out;
}

const option = (w: readonly string[], name: string): string | null => {
  const i = w.indexOf(name);
  return i >= 0 ? (w[i + 1] ?? null) : null;
};

/** The remote machine's own root containers, for the stop, move and start of a move between members. */
export interface SimMachine {
  has(name: string): boolean;
  /** Moves a stopped root container to `member`; throws the client's error (a CommandError) when the daemon refuses. */
  move(name: string, member: string | null): void;
  /** /1.0/cluster/members?recursion=1, as a cluster answers it. */
  members(): Array<{ server_name: string; status: string; groups: string[] }>;
  /** The member an instance created without --target lands on (cluster.ts placeNew: online, fewest instances). */
  place(): string | null;
}

/**
 * The client's side of the remote: `localImages` says which fingerprints this machine's daemon
 * holds (what a relay copy can send); `received` puts a relayed image into the remote machine's store;
 * `machine`, its root containers (a move acts on them).
 */
export function simServerExec(
  server: SimServer,
  localImages: () => ReadonlySet<string>,
  received: (fingerprint: string, aliases: string[]) => void = () => undefined,
  machine?: SimMachine,
): Exec {
  return async (argv) => {
    const w = words(argv).slice(1);
    const prefix = `${server.remote}:`;
    const ref = w.find((x) => x.startsWith(prefix));
    if (ref === undefined) return fail(`the simulated remote ${server.remote} was not named in ${argv.join(' ')}`);
    const name = ref.slice(prefix.length);
    const member = (m: string | null) => server.members.find((x) => (m === null ? true : x.name === m));
    const [verb, sub] = w;
    if (verb === 'move' && machine?.has(name)) {
      try {
        machine.move(name, option(w, '--target'));
        return ok();
      } catch (e) {
        return { code: 1, stdout: '', stderr: e instanceof CommandError ? e.stderr : String(e) };
      }
    }
    switch (verb) {
      case 'query':
        if (name.startsWith('/1.0/cluster/members'))
          return server.clustered && machine ? ok(`${JSON.stringify(machine.members())}\n`) : fail("Server isn't part of a cluster");
        return ok(
          `${JSON.stringify({ api_version: '1.0', environment: { server_name: server.serverName, certificate_fingerprint: server.fingerprint, server_clustered: server.clustered } })}\n`,
        );
      case 'init': {
        const target = option(w, '--target');
        if (target !== null && !server.clustered) return fail('This server is not clustered');
        // Untargeted, a cluster places it as any new instance, not on its first member: a probe reads that member's map.
        const m = member(target ?? (server.clustered ? (machine?.place() ?? null) : null));
        if (!m) return fail(`Failed to get cluster member "${target}"`);
        if (server.instances.has(name)) return fail(`Instance "${name}" already exists`);
        server.instances.set(name, { member: m.name, running: false, map: m.range });
        return ok();
      }
      case 'config': {
        const inst = server.instances.get(name);
        if (!inst) return fail('Instance not found');
        const key = w.at(-1);
        return ok(key === 'volatile.idmap.next' || key === 'volatile.idmap.current' ? `${idmapJson(inst.map)}\n` : '\n');
      }
      case 'delete':
        return server.instances.delete(name) ? ok() : fail('Instance not found');
      case 'profile': {
        const profile = server.profiles.get(name);
        if (sub === 'create') return profile ? fail('The profile already exists') : (server.profiles.set(name, {}), ok());
        if (!profile) return fail('Profile not found');
        if (sub === 'set') {
          const [key, ...value] = w.at(-1)!.split('=');
          profile[key!] = value.join('=');
          return ok();
        }
        if (sub === 'get') return ok(`${profile[w.at(-1)!] ?? ''}\n`);
        if (sub === 'delete') return (server.profiles.delete(name), ok());
        break;
      }
      case 'image': {
        const fingerprint = w[2]!;
        if (!localImages().has(fingerprint)) return fail('Image not found');
        const aliases = w.flatMap((x, i) => (w[i - 1] === '--alias' ? [x] : []));
        try {
          received(fingerprint, aliases);
        } catch (e) {
          return fail(e instanceof Error ? e.message : String(e));
        }
        server.images.add(fingerprint);
        return ok();
      }
      case 'stop':
      case 'start': {
        const inst = server.instances.get(name);
        if (!inst) return fail('Instance not found');
        if (inst.running === (verb === 'start'))
          return fail(verb === 'start' ? 'The instance is already running' : 'The instance is already stopped');
        inst.running = verb === 'start';
        return ok();
      }
      case 'move': {
        const inst = server.instances.get(name);
        const m = member(option(w, '--target'));
        if (!inst) return fail('Instance not found');
        if (!server.clustered || !m) return fail(`Failed to get cluster member "${option(w, '--target') ?? ''}"`);
        if (inst.running) return fail('Instance is running; stop it first (this simulator has no live migration)');
        // The member's daemon computes a new map for the instance it receives; its files are shifted to it on start.
        server.instances.set(name, { ...inst, member: m.name, map: m.range });
        return ok();
      }
    }
    return fail(`the simulated remote does not model ${argv.join(' ')}`);
  };
}

/**
 * The server a simulated remote machine answers as: its one member hands out what the machine's
 * daemon loaded (its world's host range). The fingerprint is derived from the server name unless given.
 */
export function simServerOf(remote: string, serverName: string, range: IdRange, fingerprint?: string): SimServer {
  return simServer(remote, serverName, fingerprint ?? sha256(`simulated server ${serverName}`), [{ name: serverName, range }]);
}
