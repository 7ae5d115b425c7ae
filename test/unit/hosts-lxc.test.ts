// Classic LXC containers in a manifest of several hosts: each belongs to its root container's host
// (or to the host its top-level entry names), is planned and applied there only, and a remote's
// top level, reached only through its daemon's API, runs none.

import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, manifestImages, manifestLxcUsers } from '../../src/sim/index.js';
import { simHost, type SimHost } from '../../src/cli/sim-hosts.js';
import { EnvironmentError } from '../../src/core/errors.js';
import { LAST_ID } from '../../src/core/ids/range.js';
import { checkManifest } from '../../src/core/manifest/check.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { hostManifest } from '../../src/core/manifest/hosts.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { Exec } from '../../src/ports/exec.js';
import { lineCol } from './helpers/placed.js';

const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

const TREE = doc(
  'apiVersion: nestctl/v1',
  'hosts:',
  '  here:',
  '    base: 500000',
  '  nxr1:',
  '    remote: nxr1',
  'containers:',
  '  - name: c1',
  '    host: here',
  '    image: busybox',
  '  - name: rootbox',
  '    host: here',
  '    runtime: lxc',
  '  - name: r1',
  '    host: nxr1',
  '    image: nestlxc',
  '    containers:',
  '      - name: rbox',
  '        runtime: lxc',
);

function load(text: string): { manifest: Manifest; text: string } {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

/** Each host a fresh simulated machine, LXC installed where its own containers need it; images carrying LXD carry LXC too. */
function machines(m: Manifest): SimHost[] {
  return m.hosts.map((h) => {
    const own = hostManifest(m, h);
    const desc = defaultWorld(manifestImages(own), h.flavour, manifestLxcUsers(own));
    desc.host.images = desc.host.images!.map((i) => (i.lxd ? { ...i, lxc: true } : i));
    return simHost(h, createSimWorld(desc), undefined);
  });
}

describe('classic LXC on several hosts', () => {
  it("builds each LXC container with its host: a top-level one with the host it names, a nested one with its root container's", () => {
    const { manifest } = load(TREE);
    expect(manifest.lxc.map((l) => [l.path, l.host])).toEqual([['rootbox', 'here']]);
    expect(manifest.containers.find((c) => c.name === 'r1')!.lxc.map((l) => [l.path, l.host])).toEqual([['r1/rbox', 'nxr1']]);
    const here = manifest.hosts.find((h) => h.name === 'here')!;
    const nxr1 = manifest.hosts.find((h) => h.name === 'nxr1')!;
    expect(hostManifest(manifest, here).lxc.map((l) => l.path)).toEqual(['rootbox']);
    expect(hostManifest(manifest, nxr1).lxc).toEqual([]);
  });

  it('plans and applies each LXC container on its own host only, and converges', async () => {
    const m = load(TREE);
    const hosts = machines(m.manifest);
    const planned = await planManifest(
      m.manifest,
      hosts.map((h) => h.connection),
      { hostRestart: null, tool: 'test', manifestText: m.text, simulation: { world: null } },
    );
    if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
    const lxcSteps = planned.plan.steps.filter((s) => s.kind === 'create-lxc').map((s) => [s.host, s.id]);
    expect(lxcSteps).toEqual([
      ['here', 'here:rootbox:create-lxc'],
      ['nxr1', 'nxr1:r1/rbox:create-lxc'],
    ]);
    const tops = new Map(hosts.map((h) => [h.name, h.connection]));
    const summary = await startApply(planned.plan, tops).finished;
    expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    const sim = (name: string) => hosts.find((h) => h.name === name)!.sim;
    expect(sim('here').lxcUidMap('', 'root', 'rootbox')).not.toBeNull();
    expect(sim('nxr1').lxcUidMap('r1', 'root', 'rbox')).toBe('0 131072 65536');
    const again = await planManifest(
      m.manifest,
      hosts.map((h) => h.connection),
      { hostRestart: null, tool: 'test', manifestText: m.text, simulation: { world: null } },
    );
    expect(again.ok ? again.plan.steps : again.problems).toEqual([]);
  });

  it('plans --target of an LXC container on the host that holds it only', async () => {
    const m = load(TREE);
    const hosts = machines(m.manifest);
    const planned = await planManifest(
      m.manifest,
      hosts.map((h) => h.connection),
      { hostRestart: null, tool: 'test', manifestText: m.text, simulation: { world: null }, target: 'rootbox' },
    );
    if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
    expect(planned.plan.steps.map((s) => s.id)).toEqual([
      'here:host:write-subid:subuid',
      'here:host:write-subid:subgid',
      'here:host:restart-daemon',
      'here:rootbox:create-lxc',
      'here:rootbox:configure-lxc',
      'here:rootbox:start-lxc',
    ]);
  });

  it("counts a host's own LXC containers in that host's range, apart from its LXD's need", () => {
    // 65536 ids for c1 through the LXD, 65536 more for rootbox's slice: only the first fit from this base.
    const base = LAST_ID + 1 - 65536;
    const fits = checkManifest(TREE.replace('base: 500000', `base: ${base - 65536}`), 'm.yaml');
    expect(fits.ok ? fits.allocation.hostNeeds : fits.diagnostics.map((d) => d.message)).toEqual({ here: 65536, nxr1: 196608 });
    const r = checkManifest(TREE.replace('base: 500000', `base: ${base}`), 'm.yaml');
    expect(r.ok ? [] : r.diagnostics.map((d) => [lineCol(d), d.message])).toEqual([
      ['3:3', `the tree on host here needs 131072 host ids, which from hosts.here.base ${base} run past the last usable id ${LAST_ID}`],
    ]);
  });

  it("refuses an LXC container at a remote's top level, at its runtime: line, saying where it can go", () => {
    const text = doc('apiVersion: nestctl/v1', 'hosts:', '  nxr1:', '    remote: nxr1', 'containers:', '  - name: box', '    runtime: lxc');
    const r = checkManifest(text, 'm.yaml');
    if (r.ok) throw new Error('expected the manifest to be rejected');
    expect(r.diagnostics.map((d) => [lineCol(d), d.message, d.hint])).toEqual([
      [
        '7:14',
        "LXC container box is at the top level of remote host nxr1: nestctl reaches a remote only through its daemon's API and cannot run lxc-create on that machine",
        'put it inside one of nxr1\'s containers (nestctl runs LXC there through "lxc exec"), or on a host without remote:',
      ],
    ]);
  });

  it("runs no lxc-* command on this machine for a remote's top level", async () => {
    const calls: Array<readonly string[]> = [];
    const exec: Exec = async (argv) => (calls.push(argv), { code: 0, stdout: '', stderr: '' });
    const range = async () => ({ uid: { start: 65536, size: 65536 }, gid: { start: 65536, size: 65536 } });
    const level = new ExecLevel(exec, '', {}, 'debian', { remote: 'nxr1', project: null, range });
    await expect(
      level.lxcCreate({ name: 'box', owner: { user: null, home: null }, template: 'busybox', templateArgs: [], config: null }),
    ).rejects.toThrow(EnvironmentError);
    await expect(level.probeLxc(['root'])).rejects.toThrow(/remote nxr1/);
    expect(calls).toEqual([]);
  });
});
