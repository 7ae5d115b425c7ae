// The sim side of the cluster agreement e2e (test/e2e/cluster.e2e.test.ts), without a real
// cluster: the answers a real three-member LXD 5.0.2 cluster gives nestctl's remote code (recorded
// shapes: /1.0, the probe's queries, /1.0/cluster/members, empty probe instances) go through
// describeRealRemote into a world, and the simulator then plans on it what the e2e compares with
// the real plan: cl1 created on nxc2 with nxc2's map, the images relayed, and, after its apply,
// one move to nxc1.

import { describe, expect, it } from 'vitest';
import { parseWorld, type WorldDescription } from '../../src/sim/index.js';
import { simHostsOf, type SimHosts } from '../../src/cli/sim-hosts.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { Exec, ExecResult } from '../../src/ports/exec.js';
import { agreeingPart, describeRealRemote, describeRemoteServer, type RealRemote } from '../e2e/remote-world.js';

const NEST = 'a3f1e5c2d4b6a8c0e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7';
const BUSYBOX = '5e2b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b';
const CERT = '9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c';
/** cluster.sh gives each member root:65536:(its ids - 65536); nxc3's was cut to 65536 by the e2e. */
const RANGES: Record<string, { start: number; size: number }> = {
  nxc1: { start: 65536, size: 999934464 },
  nxc2: { start: 65536, size: 999934464 },
  nxc3: { start: 65536, size: 65536 },
};

/** This machine as describeRealHost gives it: the lab's nest (carrying Debian's LXD) and busybox. */
const HERE: WorldDescription = {
  host: {
    lxd: { flavour: 'debian', version: '5.0.2', daemon: 'up', initialised: { pool: 'default', bridge: 'lxdbr0', ipv4: '10.66.0.1/24' } },
    systemd: true,
    uidmapTools: true,
    uidMap: '0 0 4294967295',
    subuid: 'root:100000:1000000000\n',
    subgid: 'root:100000:1000000000\n',
    images: [
      {
        fingerprint: NEST,
        aliases: ['nest'],
        lxd: { flavour: 'debian', subuid: 'root:100000:10000001\n', subgid: 'root:100000:10000001\n' },
      },
      { fingerprint: BUSYBOX, aliases: ['busybox'], lxd: false },
    ],
  },
};

const idmapJson = (r: { start: number; size: number }, gidStart = r.start): string =>
  JSON.stringify([
    { Isuid: true, Isgid: false, Hostid: r.start, Nsid: 0, Maprange: r.size },
    { Isuid: false, Isgid: true, Hostid: gidStart, Nsid: 0, Maprange: r.size },
  ]);

/**
 * The nxc cluster as `lxc` answers nestctl's argv: /1.0 (answered by nxc1), the top level's
 * queries, and image-less probe instances placed on their --target (untargeted: nxc1, which holds
 * the fewest instances). `probes` keeps the ones not deleted yet.
 */
function recordedCluster(options: { gidStart?: number } = {}): { exec: Exec; probes: Map<string, string>; asked: string[][] } {
  const probes = new Map<string, string>();
  const asked: string[][] = [];
  const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
  const query: Record<string, unknown> = {
    '/1.0': {
      api_version: '1.0',
      auth: 'trusted',
      environment: { server_name: 'nxc1', server_version: '5.0.2', server_clustered: true, certificate_fingerprint: CERT },
    },
    '/1.0/instances?recursion=1&all-projects=true': [],
    '/1.0/images?recursion=1': [],
    '/1.0/storage-pools?recursion=1': [{ name: 'default', driver: 'dir', status: 'Created', locations: ['nxc1', 'nxc2', 'nxc3'] }],
    '/1.0/networks?recursion=1': [
      { name: 'eth0', managed: false, type: 'physical', config: {} },
      {
        name: 'lxdbr0',
        managed: true,
        type: 'bridge',
        config: { 'ipv4.address': '10.79.1.1/24', 'ipv4.nat': 'true', 'ipv6.address': 'none' },
        locations: ['nxc1', 'nxc2', 'nxc3'],
      },
    ],
    '/1.0/profiles?recursion=1': [
      {
        name: 'default',
        description: 'Default LXD profile',
        config: {},
        devices: { eth0: { name: 'eth0', network: 'lxdbr0', type: 'nic' }, root: { path: '/', pool: 'default', type: 'disk' } },
        used_by: [],
      },
    ],
    '/1.0/cluster/members?recursion=1': ['nxc1', 'nxc2', 'nxc3'].map((m, i) => ({
      server_name: m,
      url: `https://10.66.0.21${i + 1}:8443`,
      database: true,
      status: 'Online',
      message: 'Fully operational',
      architecture: 'x86_64',
      failure_domain: 'default',
      description: '',
      config: {},
      groups: ['default'],
      roles: ['database'],
    })),
  };
  const exec: Exec = async (argv) => {
    asked.push([...argv]);
    const [cli, verb] = argv;
    const ref = argv.find((w) => w.startsWith('nxc:'))?.slice('nxc:'.length) ?? '';
    if (cli !== 'lxc') return { code: 1, stdout: '', stderr: `not lxc: ${argv.join(' ')}` };
    if (verb === 'query' && ref in query) return ok(`${JSON.stringify(query[ref], null, 4)}\n`);
    if (verb === 'init' && argv.includes('--empty')) {
      const t = argv.indexOf('--target');
      probes.set(ref, t >= 0 ? argv[t + 1]! : 'nxc1');
      return ok('');
    }
    if (verb === 'config' && argv[2] === 'get' && probes.has(ref)) return ok(`${idmapJson(RANGES[probes.get(ref)!]!, options.gidStart)}\n`);
    if (verb === 'delete' && probes.delete(ref)) return ok('');
    return { code: 1, stdout: '', stderr: `Error: not recorded: ${argv.join(' ')}\n` };
  };
  return { exec, probes, asked };
}

const remote = (exec: Exec): RealRemote => ({ exec, cli: 'lxc', top: { remote: 'nxc', project: null }, flavour: 'debian' });

const manifestText = (target: string): string =>
  [
    'apiVersion: nestctl/v1',
    'hosts:',
    '  nxc:',
    '    remote: nxc',
    '    cli: lxc',
    'containers:',
    '  - name: cl1',
    '    host: nxc',
    `    target: ${target}`,
    '    image: nest',
    '    containers:',
    '      - name: cl2',
    '        image: busybox',
    '',
  ].join('\n');

function load(target: string): { manifest: Manifest; text: string } {
  const text = manifestText(target);
  const r = loadManifest(text, 'cluster.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

async function plan(hosts: SimHosts, m: { manifest: Manifest; text: string }): Promise<Plan> {
  const r = await planManifest(
    m.manifest,
    hosts.hosts.map((h) => h.connection),
    { hostRestart: null, tool: 'agreement', manifestText: m.text, simulation: { world: 'world.yaml' } },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

describe("describeRealRemote: a real cluster remote as the simulator's world", () => {
  it('reads who the server is, its members with their own maps, groups and status, and its top level; every probe instance is deleted', async () => {
    const cluster = recordedCluster();
    const server = await describeRemoteServer(remote(cluster.exec), HERE.host.images!);
    expect(server).toEqual({
      serverName: 'nxc1',
      fingerprint: CERT,
      members: {
        nxc1: { range: '65536:999934464', groups: ['default'], status: 'Online' },
        nxc2: { range: '65536:999934464', groups: ['default'], status: 'Online' },
        nxc3: { range: '65536:65536', groups: ['default'], status: 'Online' },
      },
      host: {
        lxd: {
          flavour: 'debian',
          version: '5.0.2',
          daemon: 'up',
          initialised: { pool: 'default', bridge: 'lxdbr0', ipv4: '10.79.1.1/24' },
        },
        systemd: true,
        // The server's range as a plan reads it: the smallest online member's (nxc3's).
        subuid: 'root:65536:65536\n',
        subgid: 'root:65536:65536\n',
        images: [],
      },
    });
    expect(cluster.probes.size, 'probe instances left behind').toBe(0);
    // Each member's map came from a probe instance created on it: first for the server's range (the smallest), then for each member's.
    expect(
      cluster.asked.filter((a) => a[1] === 'init').map((a) => (a.includes('--target') ? a[a.indexOf('--target') + 1] : 'untargeted')),
    ).toEqual(['nxc1', 'nxc2', 'nxc3', 'nxc1', 'nxc2', 'nxc3']);
  });

  it("describes the remote's images and instances: an image this machine has too carries its daemon, an instance keeps its member and config", async () => {
    const cluster = recordedCluster();
    const exec: Exec = async (argv, o) => {
      const url = argv.find((w) => w.startsWith('nxc:/1.0/'));
      if (url === 'nxc:/1.0/images?recursion=1')
        return { code: 0, stdout: JSON.stringify([{ fingerprint: NEST, aliases: [{ name: 'nest', description: '' }] }]), stderr: '' };
      if (url === 'nxc:/1.0/instances?recursion=1&all-projects=true') {
        const config = {
          'security.nesting': 'true',
          'image.os': 'Debian',
          'volatile.base_image': NEST,
          'volatile.idmap.current': idmapJson(RANGES.nxc2!),
        };
        return {
          code: 0,
          stdout: JSON.stringify([
            { name: 'other', project: 'default', status: 'Running', profiles: ['default'], config, location: 'nxc2' },
          ]),
          stderr: '',
        };
      }
      return cluster.exec(argv, o);
    };
    const server = await describeRemoteServer(remote(exec), HERE.host.images!);
    expect(server.host.images).toEqual([{ fingerprint: NEST, aliases: ['nest'], lxd: HERE.host.images![0]!.lxd }]);
    expect(server.host.instances).toEqual([
      {
        name: 'other',
        image: NEST,
        status: 'Running',
        profiles: ['default'],
        config: { 'security.nesting': 'true', 'volatile.base_image': NEST, 'volatile.idmap.current': idmapJson(RANGES.nxc2!) },
        location: 'nxc2',
      },
    ]);
  });

  it("refuses a member whose uid and gid maps differ (a world's member has one range for both)", async () => {
    await expect(describeRemoteServer(remote(recordedCluster({ gidStart: 70000 }).exec), HERE.host.images!)).rejects.toThrow(
      /member nxc1 of remote nxc hands out uids 65536:999934464 but gids 70000:999934464/,
    );
  });

  it("gives a world the simulator plans cl1 on nxc2 in, sized from nxc2's map, and after its apply one move to nxc1, then nothing", async () => {
    const { desc, text } = await describeRealRemote(remote(recordedCluster().exec), HERE, 'world.yaml');
    expect(parseWorld(text, 'world.yaml')).toEqual(desc);
    const m2 = load('nxc2');
    const hosts = simHostsOf(m2.manifest, desc, undefined);
    const placed = await plan(hosts, m2);
    const create = placed.steps.find((s) => s.kind === 'create-instance' && s.path === 'cl1');
    expect(create).toMatchObject({ target: 'nxc2', host: 'nxc' });
    expect(
      placed.steps
        .filter((s) => s.kind === 'copy-image' && s.level === '')
        .map((s) => (s.kind === 'copy-image' ? `${s.image} ${s.relay ?? ''}` : '')),
    ).toEqual(['nest nxc', 'busybox nxc']);
    expect(placed.levels.find((l) => l.host === 'nxc' && l.path === '')!.children.find((c) => c.path === 'cl1')!.map).toEqual({
      start: 65536,
      size: 999934464,
    });
    expect(placed.hosts).toEqual([{ name: 'nxc', remote: { remote: 'nxc', serverName: 'nxc1', fingerprint: CERT } }]);
    const summary = await startApply(placed, new Map(hosts.hosts.map((h) => [h.name, h.connection]))).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);

    const moved = await plan(hosts, load('nxc1'));
    expect(moved.steps.map((s) => (s.kind === 'move-instance' ? `${s.id}: ${s.from} -> ${s.to}` : s.id))).toEqual([
      'nxc:cl1:move-instance: nxc2 -> nxc1',
    ]);
    // What the e2e leaves out of the comparison is only the digest and what it was planned against.
    expect(Object.keys(agreeingPart(moved)).sort()).toEqual(
      Object.keys(moved)
        .filter((k) => k !== 'observedSha256' && k !== 'simulation')
        .sort(),
    );
  });
});
