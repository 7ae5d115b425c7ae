// A manifest of several hosts through the whole engine on simulated machines: this machine and a
// remote, each observed and planned on its own, applied in one run (engine/plan-hosts.ts,
// core/plan/hosts.ts); the remote's range read by its probe, its server recorded, its lock held.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import { simHost, type SimHost } from '../../src/cli/sim-hosts.js';
import { shellWords } from '../../src/sim/shell.js';
import { parseParallel, rederive } from '../../src/cli/planning.js';
import { TOOL } from '../../src/cli/version.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { hostManifest } from '../../src/core/manifest/hosts.js';
import type { Plan } from '../../src/core/plan/model.js';
import { type ApplyEvent, startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { lockRemotes } from '../../src/engine/remote-locks.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { jsonProgress } from '../../src/render/json-events.js';
import { colours } from '../../src/render/colour.js';

const FILE = 'examples/hosts.yaml';

function load(edit: (text: string) => string = (t) => t): { manifest: Manifest; text: string } {
  const text = edit(readFileSync(FILE, 'utf8'));
  const r = loadManifest(text, FILE);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

/** Each host of the manifest a fresh simulated machine; `subid` replaces a host's /etc/subuid and /etc/subgid. */
function machines(m: Manifest, options: { subid?: Record<string, string>; fingerprint?: string } = {}): SimHost[] {
  return m.hosts.map((h) => {
    const desc = defaultWorld(manifestImages(hostManifest(m, h)), h.flavour);
    const subid = options.subid?.[h.name];
    if (subid) Object.assign(desc.host, { subuid: subid, subgid: subid });
    return simHost(
      h,
      createSimWorld(desc),
      undefined,
      options.fingerprint ? { serverName: h.name, fingerprint: options.fingerprint } : undefined,
    );
  });
}

async function planOn(hosts: SimHost[], m: { manifest: Manifest; text: string }) {
  return planManifest(
    m.manifest,
    hosts.map((h) => h.connection),
    { hostRestart: null, tool: TOOL, manifestText: m.text, simulation: { world: null } },
  );
}

async function plan(hosts: SimHost[], m: { manifest: Manifest; text: string }): Promise<Plan> {
  const r = await planOn(hosts, m);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

const tops = (hosts: SimHost[]) => new Map(hosts.map((h) => [h.name, h.connection]));
const sim = (hosts: SimHost[], name: string) => hosts.find((h) => h.name === name)!.sim;

describe('two hosts in one plan and one apply', () => {
  it("applies this machine's tree and the remote's two levels in one run, with the maps planned, and converges", async () => {
    const m = load();
    const hosts = machines(m.manifest);
    const p = await plan(hosts, m);
    // host.base is no choice on a remote: keeping its range is not worth a warning.
    expect(p.warnings).toEqual([]);
    expect(p.hosts?.map((h) => [h.name, h.remote?.remote ?? null, h.remote?.serverName ?? null])).toEqual([
      ['here', null, null],
      ['nxr1', 'nxr1', 'nxr1'],
    ]);
    expect(new Set(p.steps.map((s) => s.host))).toEqual(new Set(['here', 'nxr1']));
    // Root containers of each host depend only on steps of their own host.
    for (const s of p.steps) for (const d of s.dependsOn) expect(d.startsWith(`${s.host}:`), `${s.id} → ${d}`).toBe(true);
    const summary = await startApply(p, tops(hosts)).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(sim(hosts, 'here').uidMap('c1')).toBe('0 500000 65536');
    const r1 = p.levels.find((l) => l.host === 'nxr1' && l.path === '')!.children.find((c) => c.path === 'r1')!;
    expect(sim(hosts, 'nxr1').uidMap('r1')).toBe(`0 ${r1.map.start} ${r1.map.size}`);
    expect(sim(hosts, 'nxr1').uidMap('r1/r2')).toBe('0 65536 65536');
    // Nothing of the remote's host level is written: its range is only read.
    expect(sim(hosts, 'nxr1').restarts('')).toBe(0);
    expect(p.steps.filter((s) => s.host === 'nxr1' && s.level === '' && (s.kind === 'write-subid' || s.kind === 'restart-daemon'))).toEqual(
      [],
    );
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it("draws one section per host, naming the remote's server and fingerprint", async () => {
    const m = load();
    const hosts = machines(m.manifest, { fingerprint: 'efa39ebc'.padEnd(64, '0') });
    const text = renderPlanText(await plan(hosts, m), colours(false));
    expect(text).toContain('# host here (this machine)\n');
    expect(text).toContain('# host nxr1 (remote nxr1 = server "nxr1", fingerprint efa39ebc…)\n');
    expect(text.indexOf('# host here')).toBeLessThan(text.indexOf('# host nxr1'));
    expect(text.slice(text.indexOf('# host nxr1'))).toContain('+ r1/r2: create from busybox and start');
  });

  it('names the host of each step in the JSON events and in a failure of the summary', async () => {
    const m = load();
    const hosts = machines(m.manifest);
    const p = await plan(hosts, m);
    const events: Array<Record<string, unknown>> = [];
    const json = jsonProgress((e) => events.push(e as Record<string, unknown>), p);
    await startApply(p, tops(hosts), (e: ApplyEvent) => json.onEvent(e)).finished;
    json.close();
    const started = events.filter((e) => e['type'] === 'apply_start');
    expect(started.length).toBe(p.steps.length);
    for (const e of started) expect(e['host']).toBe(p.steps.find((s) => s.id === e['id'])!.host);
  });
});

describe('destroying a tree of two hosts', () => {
  it('deletes what nestctl made on each host, every flavour kept with its host', async () => {
    const m = load();
    const hosts = machines(m.manifest);
    await startApply(await plan(hosts, m), tops(hosts)).finished;
    const r = await planManifest(
      m.manifest,
      hosts.map((h) => h.connection),
      { hostRestart: null, tool: TOOL, manifestText: m.text, mode: 'destroy' },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.flavours).toBeUndefined();
    expect(r.plan.hosts?.map((h) => h.flavours !== undefined)).toEqual([true, true]);
    const summary = await startApply(r.plan, tops(hosts)).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(sim(hosts, 'here').uidMap('c1')).toBeNull();
    expect(sim(hosts, 'nxr1').uidMap('r1')).toBeNull();
  });
});

describe('a remote too small for its tree', () => {
  it("is refused at plan time, at the host's line, with the lines to add on that server", async () => {
    const m = load();
    const r = await planOn(machines(m.manifest, { subid: { nxr1: 'root:100000:65536\n' } }), m);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    const [p] = r.problems;
    expect(p!.where).toEqual({ kind: 'source', file: FILE, line: m.text.split('\n').indexOf('  nxr1:') + 1, column: 3 });
    expect(p!.message).toBe(
      'the tree on host nxr1 needs 131072 ids from the LXD of remote nxr1, which hands out 65536 (uid 100000:65536, gid 100000:65536)',
    );
    expect(p!.hint).toContain(
      "on remote nxr1, make root's first entry of at least 65536 ids root:100000:131072 in /etc/subuid and root:100000:131072 in /etc/subgid",
    );
    expect(p!.hint).toContain('systemctl restart lxd');
  });
});

describe('target: on a remote', () => {
  it("refuses a root container placed on a member of a remote that is not a cluster, at its target's line", async () => {
    const m = load((t) => t.replace('    host: nxr1\n', '    host: nxr1\n    target: m2\n'));
    const r = await planOn(machines(m.manifest), m);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.message)).toEqual([
      'r1 has target: m2, but remote nxr1 (host nxr1) is not a cluster (its /1.0 says server_clustered: false)',
    ]);
    expect(r.problems[0]!.where).toMatchObject({ kind: 'source', column: 13 });
  });
});

describe('a remote too small for its tree, with shell:', () => {
  it("plans root's entry and the restart on that machine, runs them through the prefix, and converges", async () => {
    const m = load((t) => t.replace('    remote: nxr1\n', '    remote: nxr1\n    shell: [ssh, root@nxr1, --]\n'));
    const sent: string[][] = [];
    const hosts = m.manifest.hosts.map((h) => {
      const desc = defaultWorld(manifestImages(hostManifest(m.manifest, h)), h.flavour);
      if (h.name === 'nxr1') Object.assign(desc.host, { subuid: 'root:100000:65536\n', subgid: 'root:100000:65536\n' });
      return simHost(h, createSimWorld(desc), (_path, argv) => void (argv[0] === 'ssh' && sent.push([...argv])));
    });
    const p = await plan(hosts, m);
    const top = p.steps
      .filter((s) => s.host === 'nxr1' && s.level === '' && (s.kind === 'write-subid' || s.kind === 'restart-daemon'))
      .map((s) => s.id);
    expect(top).toEqual(['nxr1:host:write-subid:subuid', 'nxr1:host:write-subid:subgid', 'nxr1:host:restart-daemon']);
    const edit = p.steps.find((s) => s.id === 'nxr1:host:write-subid:subuid')!;
    const entry = edit.kind === 'write-subid' ? edit.after : null;
    expect(entry).toMatch(/^root:\d+:131072\n$/);
    sent.length = 0;
    const summary = await startApply(p, tops(hosts)).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    // Every host-level step went to that machine as one line after the prefix.
    expect(sent.map((a) => [a.slice(0, 3), a.length])).toEqual(Array(sent.length).fill([['ssh', 'root@nxr1', '--'], 4]));
    const step = (line: string): string => {
      const w = shellWords(line)!;
      return w[0] === 'sh' ? w[3]! : w.slice(0, 2).join(' ');
    };
    expect(sent.map((a) => step(a[3]!))).toEqual(['nestctl-write-subid', 'nestctl-write-subid', 'restart', 'lxd waitready']);
    expect(sim(hosts, 'nxr1').file('', '/etc/subuid')).toBe(entry);
    expect(sim(hosts, 'nxr1').restarts('')).toBe(1);
    expect(sim(hosts, 'nxr1').daemonRange('')).toEqual({ kind: 'range', start: Number(entry!.split(':')[1]), size: 131072 });
    const r1 = p.levels.find((l) => l.host === 'nxr1' && l.path === '')!.children.find((c) => c.path === 'r1')!;
    expect(sim(hosts, 'nxr1').uidMap('r1')).toBe(`0 ${r1.map.start} ${r1.map.size}`);
    expect((await plan(hosts, m)).steps).toEqual([]);
  });
});

describe('images relayed to a remote from this machine', () => {
  /** The remote's store empty, this machine's with every image of the manifest. */
  function relayMachines(m: Manifest, remoteImages: string[] = []): SimHost[] {
    const here = createSimWorld(defaultWorld(manifestImages(m), null));
    return m.hosts.map((h) =>
      h.place.kind === 'local'
        ? simHost(h, here, undefined)
        : simHost(
            h,
            createSimWorld(
              defaultWorld(
                manifestImages(m).filter((i) => remoteImages.includes(i.alias)),
                h.flavour,
              ),
            ),
            undefined,
            undefined,
            here,
          ),
    );
  }

  it("copies each missing image to the remote's top level by relay, the creates waiting for it, and converges", async () => {
    const m = load();
    const hosts = relayMachines(m.manifest);
    const p = await plan(hosts, m);
    const relays = p.steps.filter((s) => s.kind === 'copy-image' && s.relay !== undefined);
    expect(relays.map((s) => [s.id, s.level, s.kind === 'copy-image' && s.relay, s.kind === 'copy-image' && s.aliases])).toEqual([
      ['nxr1:host:copy-image:nest', '', 'nxr1', ['nest']],
      ['nxr1:host:copy-image:busybox', '', 'nxr1', ['busybox']],
    ]);
    expect(p.steps.find((s) => s.id === 'nxr1:r1:create-instance')!.dependsOn).toContain('nxr1:host:copy-image:nest');
    expect(p.steps.find((s) => s.id === 'nxr1:r1:copy-image:busybox')!.dependsOn).toContain('nxr1:host:copy-image:busybox');
    const text = renderPlanText(p, colours(false));
    expect(text).toMatch(/\+ nxr1: copy image nest \([0-9a-f]{12}\) from this machine/);
    const summary = await startApply(p, tops(hosts)).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    expect(
      sim(hosts, 'nxr1')
        .log()
        .filter((r) => r.op === 'image-relay')
        .map((r) => r.detail.split(' ')[1]),
    ).toEqual(['nest', 'busybox']);
    expect(sim(hosts, 'nxr1').uidMap('r1/r2')).toBe('0 65536 65536');
    expect((await plan(hosts, m)).steps).toEqual([]);
  });

  it('does not copy an image the remote holds already', async () => {
    const m = load();
    const p = await plan(relayMachines(m.manifest, ['nest']), m);
    expect(p.steps.filter((s) => s.kind === 'copy-image' && s.relay !== undefined).map((s) => s.id)).toEqual([
      'nxr1:host:copy-image:busybox',
    ]);
  });

  it('refuses an image in neither store, at its line', async () => {
    const m = load((t) => t.replace('image: nest ', 'image: nest2'));
    const r = await planOn(relayMachines(load().manifest), m);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.message)).toEqual([
      'image "nest2" (used by r1) is neither in nxr1\'s LXD image store nor in this machine\'s',
    ]);
  });
});

describe('a saved plan whose remote now reaches another server', () => {
  it('is refused as stale, naming the remote and both servers', async () => {
    const m = load();
    const saved = await plan(machines(m.manifest, { fingerprint: 'a'.repeat(64) }), m);
    const hosts = machines(m.manifest, { fingerprint: 'b'.repeat(64) });
    const target = { host: hosts[0]!.connection.level, hosts: hosts.map((h) => h.connection), simulation: { world: null } };
    await expect(rederive(saved, 'plan.json', { ...m, warnings: [] }, target)).rejects.toThrow(
      'plan is stale: remote nxr1 (host nxr1) is now server nxr1 with certificate bbbbbbbbbbbb…, but the plan was made against nxr1 with certificate aaaaaaaaaaaa…',
    );
    // The same server: the saved plan is taken.
    const same = machines(m.manifest, { fingerprint: 'a'.repeat(64) });
    await expect(
      rederive(
        saved,
        'plan.json',
        { ...m, warnings: [] },
        { host: same[0]!.connection.level, hosts: same.map((h) => h.connection), simulation: { world: null } },
      ),
    ).resolves.toEqual(saved);
  });
});

describe("the remotes' locks", () => {
  const twoRemotes = (t: string) =>
    t.replace('  here:\n    base: 500000\n', '  nxr2:\n    remote: nxr2\n').replace('host: here', 'host: nxr2');

  it("refuses an apply while another holds a remote's lock, naming the holder, and gives back the locks it took", async () => {
    const m = load(twoRemotes);
    const hosts = machines(m.manifest);
    const other = await hosts[1]!.connection.remote!.lock('alice@ci pid 7 since 2026-01-01T00:00:00.000Z');
    await expect(
      lockRemotes(
        hosts.map((h) => h.connection),
        'bob@laptop pid 9',
      ),
    ).rejects.toThrow('is locked by another apply: alice@ci pid 7 since 2026-01-01T00:00:00.000Z');
    // nxr2's lock, taken first, was given back: it can be taken again.
    expect(hosts[0]!.server!.profiles.has('nestctl-lock')).toBe(false);
    await other();
    const release = await lockRemotes(
      hosts.map((h) => h.connection),
      'bob@laptop pid 9',
    );
    expect(hosts.every((h) => h.server!.profiles.has('nestctl-lock'))).toBe(true);
    await release();
    expect(hosts.some((h) => h.server!.profiles.has('nestctl-lock'))).toBe(false);
  });
});

describe('one host failing', () => {
  it("does not stop the other host's steps; the failures name their host", async () => {
    const m = load();
    const hosts = machines(m.manifest);
    const p = await plan(hosts, m);
    // A hand edit after planning: this machine's subid write is refused as stale, and what follows it skipped.
    sim(hosts, 'here').editFile('', '/etc/subuid', 'root:100000:70000\n');
    const summary = await startApply(p, tops(hosts)).finished;
    expect(summary.failed.length).toBeGreaterThan(0);
    expect(new Set(summary.failed.map((f) => f.step.host))).toEqual(new Set(['here']));
    expect(summary.skipped.every((s) => s.step.host === 'here')).toBe(true);
    expect(sim(hosts, 'nxr1').uidMap('r1/r2')).toBe('0 65536 65536');
  });
});

describe('hosts planned side by side', () => {
  const threeHosts = (t: string) =>
    t.replace(
      'containers:\n  - name: c1',
      '  nxr2:\n    remote: nxr2\ncontainers:\n  - name: c9\n    host: nxr2\n    image: busybox\n  - name: c1',
    );

  /** The most hosts whose top level was being probed at one time. */
  async function widest(parallel: number | undefined): Promise<number> {
    const m = load(threeHosts);
    const busy = new Set<string>();
    let most = 0;
    const connections = machines(m.manifest).map((h) => {
      const level = h.connection.level;
      const probe = async () => {
        busy.add(h.name);
        most = Math.max(most, busy.size);
        await new Promise((r) => setTimeout(r, 20));
        try {
          return await level.probe();
        } finally {
          busy.delete(h.name);
        }
      };
      return { ...h.connection, level: Object.assign(Object.create(level), { probe }) };
    });
    const r = await planManifest(m.manifest, connections, {
      hostRestart: null,
      tool: TOOL,
      manifestText: m.text,
      ...(parallel ? { parallel } : {}),
    });
    expect(r.ok).toBe(true);
    return most;
  }

  it('observes every host at once by default, and one at a time with --parallel 1', async () => {
    expect(await widest(undefined)).toBe(3);
    expect(await widest(1)).toBe(1);
  });

  it('takes --parallel as a whole number from 1 to 64', () => {
    expect(parseParallel('8')).toBe(8);
    for (const bad of ['0', '65', '-1', '2.5', 'many']) expect(() => parseParallel(bad), bad).toThrow('not a number of hosts');
  });
});
