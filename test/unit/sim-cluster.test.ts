// Root containers on the members of a clustered remote (`target:`), through the whole engine on a
// simulated cluster: placement at create (`--target`), refusals at the target's line, sizing from
// the member's own map, and a move between members with its cost, converging afterwards.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, nestctl } from './helpers/cli.js';
import { parseWorld } from '../../src/sim/index.js';
import { simHostsOf, type SimHosts } from '../../src/cli/sim-hosts.js';
import { createInstanceArgv } from '../../src/adapters/lxd/commands.js';
import { moveArgvs } from '../../src/adapters/lxd/remote-commands.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { decodePlan } from '../../src/core/plan/codec.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { observeTree } from '../../src/engine/observe.js';
import { hostManifest } from '../../src/core/manifest/hosts.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { colours } from '../../src/render/colour.js';
import { TOOL } from '../../src/cli/version.js';
import { lineCol } from './helpers/placed.js';
import { stopInstance } from '../../src/sim/instances.js';
import { CLUSTER_MEMBERS_QUERY, probeRemoteTop } from '../../src/adapters/lxd/remote-probe.js';
import type { Exec } from '../../src/ports/exec.js';
import { ExecRemoteHost } from '../../src/adapters/lxd/remote-host.js';

const WORLD = `
host:
  lxd: {flavour: debian, initialised: true}
  images: [{alias: nest, lxd: true}, {alias: busybox}]
servers:
  labc:
    members:
      m1: {groups: [fast]}
      m2: {range: "2000000:20000000", groups: [fast]}
      m3: {range: "30000000:100000"}
    host:
      lxd: {flavour: debian, initialised: true}
      subuid: "root:1000000:10000001\\n"
      subgid: "root:1000000:10000001\\n"
`;

const manifestText = (target: string): string => `apiVersion: nestctl/v1
hosts:
  labc:
    remote: labc
containers:
  - name: c1
    host: labc
    target: ${target}
    image: nest
    containers:
      - name: c2
        image: nest
        containers:
          - {name: c3, image: busybox}
      - {name: c4, image: busybox}
`;

function load(text: string): { manifest: Manifest; text: string } {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

/** The world as a state file would continue it: this machine and the cluster, built for the manifest. */
const world = (m: { manifest: Manifest }, text = WORLD): SimHosts => simHostsOf(m.manifest, parseWorld(text, 'world.yaml'), undefined);

async function planOn(hosts: SimHosts, m: { manifest: Manifest; text: string }) {
  return planManifest(
    m.manifest,
    hosts.hosts.map((h) => h.connection),
    { hostRestart: null, tool: TOOL, manifestText: m.text, simulation: { world: 'world.yaml' } },
  );
}

async function plan(hosts: SimHosts, m: { manifest: Manifest; text: string }): Promise<Plan> {
  const r = await planOn(hosts, m);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

async function apply(hosts: SimHosts, p: Plan): Promise<void> {
  const summary = await startApply(p, new Map(hosts.hosts.map((h) => [h.name, h.connection]))).finished;
  expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}

const labc = (hosts: SimHosts) => hosts.hosts.find((h) => h.name === 'labc')!.sim;
const location = (hosts: SimHosts, name: string) =>
  labc(hosts)
    .state()
    .host.lxd!.instances.find((i) => i.name === name)?.location;
const stepOf = <K extends Step['kind']>(p: Plan, kind: K) => p.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);

async function problemsOf(m: { manifest: Manifest; text: string }, text = WORLD) {
  const r = await planOn(world(m, text), m);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.problems;
}

describe('target: on a cluster member', () => {
  it("creates the root container with --target on that member, its tree sized from that member's map, and converges", async () => {
    const m = load(manifestText('m2'));
    const hosts = world(m);
    const p = await plan(hosts, m);
    const create = stepOf(p, 'create-instance').find((s) => s.path === 'c1')!;
    expect(create.target).toBe('m2');
    expect(
      createInstanceArgv('lxc', {
        name: 'labc:c1',
        fingerprint: 'labc:abc',
        profiles: ['default'],
        config: {},
        ...(create.target ? { target: create.target } : {}),
      }),
    ).toEqual(['lxc', 'init', '-q', 'labc:abc', 'labc:c1', '-p', 'default', '--target', 'm2']);
    // c1 gets a copy of m2's map, not the server's default (m1's, root:1000000:10000001).
    expect(p.levels.find((l) => l.path === '')!.children.find((c) => c.path === 'c1')!.map).toEqual({ start: 2000000, size: 20000000 });
    expect(renderPlanText(p, colours(false), { verbose: false })).toContain('on cluster member: m2');
    expect(decodePlan(JSON.stringify(p), 'plan.json', p.tool)).toMatchObject({ ok: true });
    await apply(hosts, p);
    expect(location(hosts, 'c1')).toBe('m2');
    expect(labc(hosts).uidMap('c1')).toBe('0 2000000 20000000');
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it("sizes the server's own range only for the containers the server places: a small default member is left alone", async () => {
    const m = load(manifestText('m2'));
    const small = WORLD.replaceAll('root:1000000:10000001', 'root:1000000:70000');
    const hosts = world(m, small);
    const p = await plan(hosts, m);
    expect(p.steps.filter((s) => s.level === '' && (s.kind === 'write-subid' || s.kind === 'restart-daemon'))).toEqual([]);
    await apply(hosts, p);
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it('places @group on the least-loaded member of the group, and keeps it there', async () => {
    const m = load(manifestText('"@fast"'));
    const hosts = world(m);
    const p = await plan(hosts, m);
    expect(stepOf(p, 'create-instance').find((s) => s.path === 'c1')!.target).toBe('@fast');
    await apply(hosts, p);
    expect(['m1', 'm2']).toContain(location(hosts, 'c1'));
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it("refuses a member or group the cluster does not have, at the target's line, naming what exists", async () => {
    const [member] = await problemsOf(load(manifestText('m9')));
    expect(lineCol(member!)).toBe('8:13');
    expect(member!.message).toBe('c1 has target: m9, but remote labc has no member m9');
    expect(member!.hint).toBe('its members: m1, m2, m3; its groups: @fast');
    const [group] = await problemsOf(load(manifestText('"@slow"')));
    expect(group!.message).toBe('c1 has target: @slow, but no member of remote labc is in group slow');
  });

  it('refuses a member whose map is smaller than the tree, with the lines to add on that member', async () => {
    const problems = await problemsOf(load(manifestText('m3')));
    // Only the member's problem: c1's own level is not judged against a map it will not get.
    expect(problems).toHaveLength(1);
    const p = problems[0]!;
    expect(lineCol(p)).toBe('8:13');
    expect(p.message).toBe(
      'c1 (target: m3): the tree on host labc needs 196608 ids from the LXD of member m3 of remote labc, which hands out 100000 (uid 30000000:100000, gid 30000000:100000)',
    );
    expect(p.hint).toMatch(
      /^on member m3 of remote labc, make root's first entry of at least 65536 ids root:30000000:196608 in \/etc\/subuid and root:30000000:196608 in \/etc\/subgid .*systemctl restart lxd$/,
    );
  });

  it('refuses target: on a remote that is not a cluster', async () => {
    const standalone = WORLD.replace(/ {4}members:\n(.*\n){3}/, '');
    const [p] = await problemsOf(load(manifestText('m2')), standalone);
    expect(lineCol(p!)).toBe('8:13');
    expect(p!.message).toBe('c1 has target: m2, but remote labc (host labc) is not a cluster (its /1.0 says server_clustered: false)');
  });
});

describe('a changed target: moves the root container', () => {
  it("plans one move with its cost, stops and starts it around the move, gives it the new member's map, and converges", async () => {
    const first = load(manifestText('m2'));
    const hosts = world(first);
    await apply(hosts, await plan(hosts, first));
    const inner = labc(hosts).uidMap('c1/c2');
    const m = load(manifestText('m1'));
    const p = await plan(hosts, m);
    expect(p.steps.map((s) => s.id)).toEqual(['labc:c1:move-instance']);
    const [move] = stepOf(p, 'move-instance');
    expect(move).toMatchObject({ from: 'm2', to: 'm1', running: true, stops: ['c1', 'c1/c2', 'c1/c2/c3', 'c1/c4'] });
    // What ran inside is waited for once c1 runs on m1: apply returns when the tree runs.
    expect(move).toMatchObject({ inside: ['c1/c4', 'c1/c2', 'c1/c2/c3'] });
    expect(renderPlanText(p, colours(false), { verbose: false })).toContain(
      "~ c1: move from member m2 to m1\n      c1 is on member m2, not on its target m1: stops c1 and its 3 nested containers while it moves; their files move with c1's rootfs",
    );
    expect(decodePlan(JSON.stringify(p), 'plan.json', p.tool)).toMatchObject({ ok: true });
    expect(moveArgvs('lxc', { remote: 'labc', project: null }, 'c1', 'm1')).toEqual([
      ['lxc', 'stop', 'labc:c1', '--timeout', '600', '-q'],
      ['lxc', 'move', 'labc:c1', '--target', 'm1', '-q'],
      ['lxc', 'start', 'labc:c1', '-q'],
    ]);
    await apply(hosts, p);
    expect(location(hosts, 'c1')).toBe('m1');
    expect(labc(hosts).uidMap('c1')).toBe('0 1000000 10000001');
    // The levels inside keep their maps: they lie inside c1's own ids.
    expect(labc(hosts).uidMap('c1/c2')).toBe(inner);
    expect((await labc(hosts).level('c1/c2').probe()).instances.map((i) => [i.name, i.status])).toEqual([['c3', 'Running']]);
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it('refuses a move to a member whose map is smaller than the tree, and moves nothing', async () => {
    const first = load(manifestText('m2'));
    const hosts = world(first);
    await apply(hosts, await plan(hosts, first));
    const r = await planOn(hosts, load(manifestText('m3')));
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems.map((p) => p.message)).toContain(
      'c1 (target: m3): the tree on host labc needs 196608 ids from the LXD of member m3 of remote labc, which hands out 100000 (uid 30000000:100000, gid 30000000:100000)',
    );
    expect(location(hosts, 'c1')).toBe('m2');
  });

  it('moves a stopped container only (no stop, no recreate), then starts it', async () => {
    const first = load(manifestText('m2'));
    const hosts = world(first);
    await apply(hosts, await plan(hosts, first));
    stopInstance(labc(hosts).state(), '', 'c1');
    const m = load(manifestText('m1'));
    const p = await plan(hosts, m);
    // Its inside is planned as for any stopped container (as new, re-read when it runs); c1 itself is moved and started, not created again.
    const own = p.steps.filter((s) => 'path' in s && s.path === 'c1');
    expect(own.map((s) => `${s.id} ${s.dependsOn.join(',')}`)).toEqual([
      'labc:c1:move-instance ',
      'labc:c1:start-instance labc:c1:move-instance',
    ]);
    expect(stepOf(p, 'move-instance')[0]).toMatchObject({ running: false, stops: [] });
    expect(renderPlanText(p, colours(false), { verbose: false })).toContain('c1 is stopped: moved with its files, nothing stops');
    expect(moveArgvs('lxc', { remote: 'labc', project: null }, 'c1', 'm1', false)).toEqual([
      ['lxc', 'move', 'labc:c1', '--target', 'm1', '-q'],
    ]);
    await apply(hosts, p);
    expect(location(hosts, 'c1')).toBe('m1');
    expect(labc(hosts).uidMap('c1')).toBe('0 1000000 10000001');
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it('moves a container off a member that left its @group', async () => {
    const first = load(manifestText('m2'));
    const hosts = world(first);
    await apply(hosts, await plan(hosts, first));
    labc(hosts)
      .state()
      .cluster!.members.find((x) => x.name === 'm2')!.groups = [];
    const m = load(manifestText('"@fast"'));
    const p = await plan(hosts, m);
    expect(stepOf(p, 'move-instance').map((s) => [s.from, s.to])).toEqual([['m2', 'm1']]);
  });
});

describe('a target member that is not online', () => {
  const withStatus = (statuses: Record<string, string>): string =>
    Object.entries(statuses).reduce((w, [m, status]) => w.replace(new RegExp(`( {6}${m}: \\{)`), `$1status: ${status}, `), WORLD);

  it("refuses a create on an evacuated member at the target's line, with the restore command and the online members", async () => {
    const [p, ...rest] = await problemsOf(load(manifestText('m2')), withStatus({ m2: 'Evacuated' }));
    expect(rest).toEqual([]);
    expect(lineCol(p!)).toBe('8:13');
    expect(p!.message).toBe('c1 has target: m2, but member m2 of remote labc is not online (m2 is Evacuated); a create there would fail');
    expect(p!.hint).toBe('bring it back (lxc cluster restore labc:m2) or wait until it is online, or target an online member: m1, m3');
  });

  it("refuses a group whose members are all not online, naming each one's status", async () => {
    const [p] = await problemsOf(load(manifestText('"@fast"')), withStatus({ m1: 'Offline', m2: 'Blocked' }));
    expect(lineCol(p!)).toBe('8:13');
    expect(p!.message).toBe(
      'c1 has target: @fast, but no member of group fast on remote labc is online (m1 is Offline, m2 is Blocked); a create there would fail',
    );
    expect(p!.hint).toBe('wait until it is online, or target an online member: m3');
  });

  it("sizes and creates a group's container on its online members only: an offline one too small for the tree is not judged", async () => {
    const m = load(manifestText('"@fast"'));
    const hosts = world(m, WORLD.replace('m1: {groups: [fast]}', 'm1: {range: "30000000:100000", status: Offline, groups: [fast]}'));
    const p = await plan(hosts, m);
    await apply(hosts, p);
    expect(location(hosts, 'c1')).toBe('m2');
  });

  it('leaves a container on its target member that went offline untouched and unseen, and says so', async () => {
    const m = load(manifestText('m2'));
    const hosts = world(m);
    await apply(hosts, await plan(hosts, m));
    labc(hosts)
      .state()
      .cluster!.members.find((x) => x.name === 'm2')!.status = 'Offline';
    const r = await planOn(hosts, m);
    expect(r.ok ? [] : r.problems.map((x) => x.message)).toEqual([]);
    if (!r.ok) return;
    expect(r.plan.steps).toEqual([]);
    expect(r.plan.warnings).toContain(
      'host labc: c1 is on member m2 of remote labc, which is Offline: c1 and the containers inside it were not seen and are left as they are; plan again once m2 is online',
    );
    expect(r.plan.levels.map((l) => l.path)).toEqual(['']);
    // Observed without an exec through m2: c1's inside is unseen, not a failed probe.
    const labcHost = hosts.hosts.find((h) => h.name === 'labc')!;
    const tree = await observeTree(labcHost.connection.level, hostManifest(m.manifest, m.manifest.hosts.find((h) => h.name === 'labc')!));
    expect(tree.levels['c1']).toEqual({ kind: 'unseen', reason: 'c1 is on cluster member m2, which is Offline' });
    expect(tree.levels['c1/c2']).toBeUndefined();
  });

  it('refuses to move a container off a member that is not online', async () => {
    const first = load(manifestText('m2'));
    const hosts = world(first);
    await apply(hosts, await plan(hosts, first));
    labc(hosts)
      .state()
      .cluster!.members.find((x) => x.name === 'm2')!.status = 'Evacuated';
    const [p] = await problemsOf(load(manifestText('m1')), hosts.describe());
    expect(lineCol(p!)).toBe('8:13');
    expect(p!.message).toBe(
      'c1 has target: m1, but it is on member m2 of remote labc, which is Evacuated: it cannot be stopped and moved from there',
    );
    expect(p!.hint).toBe('wait until m2 is online (lxc cluster restore labc:m2), or set target: m2 to leave it there for now');
  });
});

describe('an isolated root container with target:', () => {
  const isolatedText = (target: string, extra = ''): string => `apiVersion: nestctl/v1
hosts:
  labc:
    remote: labc
containers:
  - name: c1
    host: labc
    target: ${target}
    image: nest
    idmap: {isolated: true}
    containers:
      - {name: c2, image: busybox}
  - name: c5
    host: labc
    target: ${target}
    image: busybox
    idmap: {isolated: true}
${extra}`;

  it("gets its slice inside its member's range, where that member's LXD puts it, and converges", async () => {
    const m = load(isolatedText('m2'));
    const hosts = world(m);
    const p = await plan(hosts, m);
    const top = p.levels.find((l) => l.path === '')!;
    // 65536 into m2's range (2000000:20000000), first fit in manifest order; not m2's whole map, not the server's.
    expect(top.children.filter((c) => c.path === 'c1' || c.path === 'c5').map((c) => [c.path, c.map])).toEqual([
      ['c1', { start: 2065536, size: 131072 }],
      ['c5', { start: 2196608, size: 65536 }],
    ]);
    await apply(hosts, p);
    expect(labc(hosts).uidMap('c1')).toBe('0 2065536 131072');
    expect(labc(hosts).uidMap('c5')).toBe('0 2196608 65536');
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it('on a @group, converges on whichever member LXD chose', async () => {
    const m = load(isolatedText('"@fast"'));
    const hosts = world(m);
    await apply(hosts, await plan(hosts, m));
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it("is refused at its target's line when its slice, placed after the member's own isolated instances, does not fit the member's range", async () => {
    // m3 already holds an isolated instance in its first slice: c1's slice starts after it.
    const text = `${WORLD.replace('m3: {range: "30000000:100000"}', 'm3: {range: "30000000:300000"}')}      images: [{alias: busybox}]
      instances: [{name: old, image: busybox, location: m3, config: {security.idmap.isolated: "true"}}]
`;
    const problems = await problemsOf(load(isolatedText('m3')), text);
    expect(problems.map((p) => [lineCol(p), p.message])).toEqual([
      [
        '8:13',
        'c1 (target: m3): the tree on host labc needs 327680 ids from the LXD of member m3 of remote labc, which hands out 300000 (uid 30000000:300000, gid 30000000:300000)',
      ],
      [
        '15:13',
        'c5 (target: m3): the tree on host labc needs 393216 ids from the LXD of member m3 of remote labc, which hands out 300000 (uid 30000000:300000, gid 30000000:300000)',
      ],
    ]);
    expect(problems[0]!.hint).toMatch(
      /^on member m3 of remote labc, make root's first entry of at least 65536 ids root:30000000:327680 in \/etc\/subuid/,
    );
  });
});

describe('a cluster in a state file', () => {
  it("keeps its members and each root container's location", async () => {
    const m = load(manifestText('m2'));
    const hosts = world(m);
    await apply(hosts, await plan(hosts, m));
    const saved = hosts.describe();
    expect(saved).toContain('    members:\n      m1:\n        groups:\n          - fast\n      m2:\n        range: 2000000:20000000');
    expect(saved).toContain('location: m2');
    expect(simHostsOf(m.manifest, parseWorld(saved, 'state.yaml'), undefined).describe()).toBe(saved);
  });
});

describe('a clustered remote through the real client', () => {
  it("reads the members (status, groups) and each instance's location in the top level's one batched probe", async () => {
    const asked: string[][] = [];
    const answers: Record<string, unknown> = {
      'labc:/1.0': { environment: { server_name: 'm1', server_version: '5.0.2', server_clustered: true } },
      'labc:/1.0/instances?recursion=1&all-projects=true': [
        { name: 'c1', project: 'default', status: 'Running', location: 'm2' },
        { name: 'c0', project: 'default', status: 'Stopped', location: 'none' },
      ],
      [`labc:${CLUSTER_MEMBERS_QUERY}`]: [
        { server_name: 'm1', status: 'Online', groups: ['default', 'fast'] },
        { server_name: 'm2', status: 'Evacuated', groups: ['default'] },
      ],
    };
    const exec: Exec = async (argv) => {
      asked.push([...argv]);
      const answer = answers[argv.at(-1)!];
      return answer === undefined
        ? { code: 0, stdout: '[]\n', stderr: '' }
        : { code: 0, stdout: `${JSON.stringify(answer)}\n`, stderr: '' };
    };
    const range = { start: 1000000, size: 10000001 };
    const level = await probeRemoteTop(
      exec,
      'lxc',
      { remote: 'labc', project: null, range: async () => ({ uid: range, gid: range }) },
      'debian',
    );
    expect(asked).toContainEqual(['lxc', 'query', `labc:${CLUSTER_MEMBERS_QUERY}`]);
    expect(level.cluster).toEqual({
      members: [
        { name: 'm1', status: 'Online', groups: ['default', 'fast'] },
        { name: 'm2', status: 'Evacuated', groups: ['default'] },
      ],
    });
    expect(level.instances.map((i) => [i.name, i.location])).toEqual([
      ['c1', 'm2'],
      ['c0', undefined],
    ]);
    // A standalone server's answer has no members, whatever the members query said.
    answers['labc:/1.0'] = { environment: { server_name: 's', server_version: '5.0.2', server_clustered: false } };
    expect(
      (await probeRemoteTop(exec, 'lxc', { remote: 'labc', project: null, range: async () => ({ uid: range, gid: range }) }, 'debian'))
        .cluster,
    ).toBeUndefined();
  });
});

describe("the server's map, read untargeted", () => {
  it("is the smallest online member's map: an untargeted container may land on any of them", async () => {
    const text = `
host:
  lxd: {flavour: debian, initialised: true}
  images: [{alias: busybox}]
servers:
  labc:
    members:
      m1: {range: "1000000:1000000"}
      m2: {range: "3000000:2000000"}
      m3: {range: "6000000:65536", status: Offline}
    host:
      lxd: {flavour: debian, initialised: true}
      subuid: "root:1000000:1000000\\n"
      subgid: "root:1000000:1000000\\n"
      images: [{alias: busybox}]
      instances: [{name: web, image: busybox, location: m1}]
`;
    const m = load(manifestText('m2'));
    const remote = world(m, text).hosts.find((h) => h.name === 'labc')!.connection.remote!;
    // An untargeted container may land on m1 or m2 (m3 is offline): m1's map is what it can count on.
    expect(await remote.probeRange(null)).toEqual({ uid: { start: 1000000, size: 1000000 }, gid: { start: 1000000, size: 1000000 } });
  });
});

describe('docs/hosts.md: Clusters', () => {
  it('the walk-through works as written: apply on the cluster world, a changed target plans one move, applied, then No changes', async () => {
    const readme = readFileSync(join(ROOT, 'docs/hosts.md'), 'utf8');
    const at = readme.indexOf('\n## Clusters\n');
    expect(at).toBeGreaterThan(0);
    const world = /```yaml\n(# cluster-world\.yaml[\s\S]*?)```/.exec(readme.slice(at))![1]!;
    const commands = /```sh\n([\s\S]*?)```/
      .exec(readme.slice(at))![1]!
      .split('\n')
      .filter((l) => l.trim() !== '');
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-cluster-'));
    cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    writeFileSync(join(dir, 'cluster-world.yaml'), world);
    for (const line of commands) {
      const edit = /^# edit (\S+): web's target: (\S+) becomes (\S+)$/.exec(line);
      if (edit) {
        const file = join(dir, edit[1]!);
        writeFileSync(file, readFileSync(file, 'utf8').replace(`target: ${edit[2]}\n`, `target: ${edit[3]}\n`));
        continue;
      }
      const [command, comment] = line.split(/\s+#\s+/) as [string, string | undefined];
      const r = await nestctl(command.split(/\s+/).slice(1), { cwd: dir });
      expect(r.code, `${command}\n${r.stdout}${r.stderr}`).toBe(0);
      if (comment) expect(r.stdout, command).toContain(comment);
    }
    const state = parseWorld(readFileSync(join(dir, 'cluster-sim.yaml'), 'utf8'), 'cluster-sim.yaml');
    expect(state.servers!['labc']!.host.instances!.find((i) => i.name === 'web')!.location).toBe('m1');
  });
});

describe('a move through the real client', () => {
  it('runs stop (600 s), move --target, start, each given longer than the stop may take', async () => {
    const calls: Array<{ argv: string[]; timeoutMs: number | undefined }> = [];
    const exec: Exec = async (argv, o) => (calls.push({ argv: [...argv], timeoutMs: o?.timeoutMs }), { code: 0, stdout: '', stderr: '' });
    await new ExecRemoteHost(exec, 'lxc', { remote: 'labc', project: 'trees' }, async () => []).move('web', 'm1', true);
    expect(calls.map((c) => c.argv)).toEqual([
      ['lxc', 'stop', '--project', 'trees', 'labc:web', '--timeout', '600', '-q'],
      ['lxc', 'move', '--project', 'trees', 'labc:web', '--target', 'm1', '-q'],
      ['lxc', 'start', '--project', 'trees', 'labc:web', '-q'],
    ]);
    for (const c of calls) expect(c.timeoutMs).toBeGreaterThan(600_000);
  });
});
