// A real LXD/Incus remote described to the simulator (`servers:` of the --world format), read
// with nestctl's own remote adapter code: who the server is (readServer), its top level as the
// plan observes it (probeRemoteTop: images, instances with config and location, pools, networks,
// members with groups and status), the map the server hands out untargeted and each member's own
// (probeRemoteRange, one empty probe instance each, deleted again). Nothing is written by hand.
// Takes the Exec it runs commands with, so a unit test feeds it recorded answers
// (test/unit/remote-world.test.ts); the cluster e2e (cluster.e2e.test.ts) gives it processExec.

import { stringify } from 'yaml';
import { probeRemoteTop } from '../../src/adapters/lxd/remote-probe.js';
import { ExecRemoteHost, probeRemoteRange, readServer } from '../../src/adapters/lxd/remote-host.js';
import type { Cli, RemoteTop } from '../../src/adapters/nested-exec.js';
import { parseWorld, type ImageDescription, type WorldDescription } from '../../src/sim/index.js';
import type { MemberDescription, ServerDescription } from '../../src/sim/world-file.js';
import type { Flavour } from '../../src/core/flavour/index.js';
import type { IdRange } from '../../src/core/ids/range.js';
import type { Plan } from '../../src/core/plan/model.js';
import type { Exec } from '../../src/ports/exec.js';
import { describeInstance } from './agreement-lib.js';

/** A remote of this machine's client, and the daemon flavour it runs. */
export interface RealRemote {
  exec: Exec;
  cli: Cli;
  top: RemoteTop;
  flavour: Flavour;
}

/** The world format gives a member one range for uids and gids: a member whose two differ cannot be described. */
function memberRange(remote: string, member: string, r: { uid: IdRange; gid: IdRange }): string {
  if (r.uid.start !== r.gid.start || r.uid.size !== r.gid.size) {
    throw new Error(
      `member ${member} of remote ${remote} hands out uids ${r.uid.start}:${r.uid.size} but gids ${r.gid.start}:${r.gid.size}; a world's member has one range for both`,
    );
  }
  return `${r.uid.start}:${r.uid.size}`;
}

/**
 * The server `r` names, as a world's `servers.REMOTE`. `here`: this machine's images (from
 * describeRealHost); an image the remote holds with the same fingerprint carries what this
 * machine's copy carries (a daemon, LXC), as it is the same image.
 */
export async function describeRemoteServer(r: RealRemote, here: readonly ImageDescription[]): Promise<ServerDescription> {
  const server = await readServer(r.exec, r.cli, r.top);
  // The server's range as a plan reads it (on a cluster, the smallest online member's map).
  // Read before the queries, not beside them as the plan does: the instance list must not catch the probe instances.
  const untargeted = await new ExecRemoteHost(r.exec, r.cli, r.top, async () => []).probeRange(null);
  const top = await probeRemoteTop(r.exec, r.cli, { ...r.top, range: async () => untargeted }, r.flavour);
  if (top.daemon.kind !== 'up' || !top.flavour)
    throw new Error(`the daemon of remote ${r.top.remote} is not up: ${JSON.stringify(top.daemon)}`);
  const members: Record<string, MemberDescription> = {};
  for (const m of top.cluster?.members ?? []) {
    members[m.name] = {
      range: memberRange(r.top.remote, m.name, await probeRemoteRange(r.exec, r.cli, r.top, m.name)),
      groups: m.groups,
      status: m.status,
    };
  }
  const images: ImageDescription[] = top.images.map((i) => {
    const same = here.find((h) => h.fingerprint === i.fingerprint);
    return { fingerprint: i.fingerprint, aliases: i.aliases, lxd: same?.lxd ?? false, ...(same?.lxc ? { lxc: true } : {}) };
  });
  const instances = top.instances.map(describeInstance);
  const bridge = top.networks.find((n) => n.managed && n.ipv4);
  // probeRemoteTop writes the untargeted map as root's one entry: the simulated machine's daemon loads the same.
  const entry = `root:${untargeted.uid.start}:${untargeted.uid.size}\n`;
  const gidEntry = `root:${untargeted.gid.start}:${untargeted.gid.size}\n`;
  return {
    serverName: server.serverName,
    fingerprint: server.fingerprint,
    ...(top.cluster ? { members } : {}),
    host: {
      lxd: {
        flavour: top.flavour,
        version: top.daemon.version,
        daemon: 'up',
        initialised:
          top.storagePools.length > 0 && bridge ? { pool: top.storagePools[0]!, bridge: bridge.name, ipv4: bridge.ipv4! } : false,
      },
      systemd: top.systemd,
      subuid: entry,
      subgid: gidEntry,
      images,
      ...(instances.length > 0 ? { instances } : {}),
    },
  };
}

/**
 * This machine (`here`, describeRealHost's description) with the server of `r` under
 * `servers`, read back through the same reader as `--world FILE`, so it is one a user could
 * write. Returns the text too, for the CLI's --world and for a look after a failure.
 */
export async function describeRealRemote(
  r: RealRemote,
  here: WorldDescription,
  file: string,
): Promise<{ desc: WorldDescription; text: string }> {
  const server = await describeRemoteServer(r, here.host.images ?? []);
  const text = stringify({ ...here, servers: { ...here.servers, [r.top.remote]: server } });
  return { desc: parseWorld(text, file), text };
}

/**
 * What a simulated plan and a real one of the same manifest must share: everything but
 * observedSha256 (a digest over all that was observed, the probes' clocks included, and the
 * simulator's clock is a logical one) and simulation (what each was planned against: null for
 * the real one). Steps, levels with their predicted ranges, hosts with the server's name and
 * certificate fingerprint, warnings and the manifest are compared in full.
 */
export function agreeingPart(plan: Plan): Omit<Plan, 'observedSha256' | 'simulation'> {
  const { observedSha256: _digest, simulation: _against, ...rest } = plan;
  return rest;
}
