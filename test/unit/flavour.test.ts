// One model of the daemon flavours: which daemon a level is planned for and talked to, on hosts
// with LXD, Incus, or both; and that the real client reaches every depth with that daemon's client.

import { pathOfProblem } from './helpers/placed.js';
import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { discoverTree } from '../../src/engine/discover.js';
import { defaultWorld, type WorldDescription } from '../../src/sim/index.js';
import { decideFlavour } from '../../src/core/flavour/index.js';
import { startApply } from '../../src/engine/apply.js';
import { levelResolver } from '../../src/engine/levels.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { Exec } from '../../src/ports/exec.js';
import { hostWith, load, nestInside, ours } from './helpers/sim-worlds.js';

describe('decideFlavour', () => {
  it("takes the manifest's flavour when it is installed, else the one installed", () => {
    expect(decideFlavour('debian', ['debian', 'incus'], 'host', 'host.flavour')).toEqual({ ok: true, flavour: 'debian' });
    expect(decideFlavour('incus', ['debian', 'incus'], 'host', 'host.flavour')).toEqual({ ok: true, flavour: 'incus' });
    expect(decideFlavour(null, ['incus'], 'host', 'host.flavour')).toEqual({ ok: true, flavour: 'incus' });
    expect(decideFlavour(null, [], 'host', 'host.flavour')).toEqual({ ok: true, flavour: null });
  });

  it('refuses LXD and Incus side by side when the manifest names none, naming both and the key', () => {
    const d = decideFlavour(null, ['debian', 'incus'], 'host', 'host.flavour');
    expect(d).toMatchObject({ ok: false, hint: 'set host.flavour to debian or incus' });
    expect(!d.ok && d.message).toBe(
      'host has both LXD (debian) and Incus installed, and the manifest does not say which one nestctl manages',
    );
  });

  it('refuses a flavour that is not installed where something else is', () => {
    const d = decideFlavour('incus', ['debian'], 'c1', 'the flavour of c1');
    expect(!d.ok && d.message).toBe('c1: the manifest says the flavour of c1: incus, but c1 runs LXD (debian)');
  });
});

/** Debian's LXD with nest and busybox in its store, and Incus beside it holding only nest. */
const dualHost: WorldDescription = {
  host: {
    lxd: { flavour: 'debian', initialised: true },
    subuid: 'root:500000:1000000\n',
    subgid: 'root:500000:1000000\n',
    images: [{ alias: 'busybox' }, { alias: 'nest', lxd: true }],
    beside: { flavour: 'incus', initialised: true, images: [{ alias: 'nest', fingerprint: 'a'.repeat(64), lxd: { flavour: 'incus' } }] },
  },
};

const manifest = (hostFlavour: string | null) =>
  load(
    `apiVersion: nestctl/v1\n${hostFlavour ? `host:\n  flavour: ${hostFlavour}\n` : ''}containers:\n  - name: c1\n    image: nest\n    containers:\n      - name: c2\n        image: busybox\n`,
  );

async function planOn(world: ReturnType<typeof createSimWorld>, m: ReturnType<typeof manifest>) {
  return planManifest(m.manifest, world.host(m.manifest.host.flavour), { hostRestart: null, tool: 'test', manifestText: m.text });
}

describe('a host with LXD and Incus installed (simulated)', () => {
  it('refuses to plan when the manifest names no host.flavour, naming both daemons', async () => {
    const r = await planOn(createSimWorld(dualHost), manifest(null));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => [p.message, p.hint])).toEqual([
      [
        'host has both LXD (debian) and Incus installed, and the manifest does not say which one nestctl manages',
        'set host.flavour to debian or incus',
      ],
    ]);
  });

  it('import is refused until --flavour names one, and then reads that daemon', async () => {
    const world = createSimWorld(dualHost);
    await expect(discoverTree(world.host(null))).rejects.toThrow(
      'this machine runs debian and incus, and import was not told which daemon to read',
    );
    const tree = await discoverTree(world.host('debian'));
    expect(tree.levels['']?.kind === 'observed' && tree.levels[''].level.flavour).toBe('debian');
  });

  it("host.flavour: debian plans and applies against LXD's store, leaving Incus alone", async () => {
    const world = createSimWorld(dualHost);
    const m = manifest('debian');
    const r = await planOn(world, m);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.levels.map((l) => [l.path, l.flavour])).toEqual([
      ['', 'debian'],
      ['c1', 'debian'],
    ]);
    const summary = await startApply(r.plan, world.host('debian')).finished;
    expect(summary.failed.map((f) => f.error.message)).toEqual([]);
    const host = world.state().host;
    expect(host.lxd?.flavour).toBe('debian');
    expect(host.lxd?.instances.map((i) => i.name)).toEqual(['c1']);
    expect(host.beside?.instances).toEqual([]);
  });

  it("host.flavour: incus reads Incus's store (busybox is only in LXD's)", async () => {
    const r = await planOn(createSimWorld(dualHost), manifest('incus'));
    expect(!r.ok && r.problems.map((p) => p.message)).toEqual(['image "busybox" (used by c1/c2) is not in the host\'s Incus image store']);
  });
});

describe("a container's flavour", () => {
  it('is checked against what runs inside once the container exists', async () => {
    const world = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([]) })]));
    const m = load(
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    flavour: incus\n    containers:\n      - name: c2\n        image: busybox\n',
    );
    const r = await planOn(world, m);
    expect(!r.ok && r.problems.map((p) => [pathOfProblem(p), p.message, p.hint])).toEqual([
      [
        'c1',
        'c1: the manifest says the flavour of c1: incus, but c1 runs LXD (debian)',
        'set the flavour of c1 to debian, or install Incus there',
      ],
    ]);
  });

  it("is the parent's kind for a level not there yet when the manifest names none, and the plan says so", async () => {
    const m = manifest('incus');
    const world = createSimWorld(
      defaultWorld(
        [
          { alias: 'nest', hostsLxd: true },
          { alias: 'busybox', hostsLxd: false },
        ],
        'incus',
      ),
    );
    const r = await planOn(world, m);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.levels.map((l) => [l.path, l.flavour])).toEqual([
      ['', 'incus'],
      ['c1', 'incus'],
    ]);
    expect(r.plan.steps.find((s) => s.id === 'c1:write-subid:subuid')?.reason).toBe(
      "c1 is new (Incus assumed, as in its parent; a container's flavour key says otherwise): its Incus must use root:65536:65536 for 65536 ids of children",
    );
  });
});

/** An Exec that records argv and answers every probe as a level with Incus only. */
function incusOnly() {
  const calls: string[][] = [];
  const exec: Exec = async (argv) => {
    calls.push([...argv]);
    const probe = argv.includes('probe');
    const stdout = probe ? ['has_snap_lxd no', 'has_lxd no', 'has_incus yes', 'server 0'].map((l) => `${PROBE_MARK} ${l} `).join('\n') : '';
    return { code: 0, stdout, stderr: '' };
  };
  return { exec, calls };
}

describe('the real client on an Incus tree', () => {
  it('reaches a nested level that was not probed first with incus at every depth, finding it out by probing', async () => {
    const { exec, calls } = incusOnly();
    const levels = levelResolver(new ExecLevel(exec, '', {}, 'incus'));
    await levels('ic1/ic2').deleteInstance('ic3');
    // The probe of a level not yet known carries every flavour's client as data; no command is lxc's.
    expect(calls.flatMap((a) => (a.includes('probe') ? a.slice(0, a.indexOf('probe')) : a))).not.toContain('lxc');
    expect(calls.at(-1)).toEqual([
      'incus',
      'exec',
      'ic1',
      '-T',
      '--',
      'incus',
      'exec',
      'ic2',
      '-T',
      '--',
      'incus',
      'delete',
      '--force',
      '-q',
      'ic3',
    ]);
  });

  it('with the flavours the plan decided, reaches it without probing', async () => {
    const { exec, calls } = incusOnly();
    const levels = levelResolver(new ExecLevel(exec, '', {}, 'incus'), () => 'incus');
    await levels('ic1/ic2').deleteInstance('ic3');
    expect(calls).toEqual([
      ['incus', 'exec', 'ic1', '-T', '--', 'incus', 'exec', 'ic2', '-T', '--', 'incus', 'delete', '--force', '-q', 'ic3'],
    ]);
  });

  it("restarts, waits for and initialises Incus with Incus's own commands", async () => {
    const { exec, calls } = incusOnly();
    const host = new ExecLevel(exec, '', {}, 'incus');
    await host.restartDaemon(null);
    await host.initDaemon('{}\n');
    expect(calls.map((a) => (a[0] === 'sh' ? ['sh', '-c', '<script>', ...a.slice(3)] : a))).toEqual([
      ['sh', '-c', '<script>', 'restart', 'systemd', 'systemctl', 'restart', 'incus'],
      ['incus', 'admin', 'waitready', '--timeout', '120'],
      ['incus', 'admin', 'waitready', '--timeout', '120'],
      ['incus', 'admin', 'init', '--preseed'],
    ]);
  });

  it('names Incus, its unit and its group when its socket does not answer', async () => {
    const refused: Exec = async () => ({
      code: 1,
      stdout: '',
      stderr: 'Error: dial unix /var/lib/incus/unix.socket: connect: connection refused\n',
    });
    await expect(new ExecLevel(refused, '', {}, 'incus').startInstance('c1', false)).rejects.toMatchObject({
      message: 'the Incus daemon is not running on the host',
      hint: 'start it (systemctl start incus) and try again',
    });
    const denied: Exec = async () => ({
      code: 1,
      stdout: '',
      stderr: 'Error: dial unix /var/lib/incus/unix.socket: connect: permission denied\n',
    });
    await expect(new ExecLevel(denied, '', {}, 'incus').startInstance('c1', false)).rejects.toMatchObject({
      message: 'permission denied on the Incus socket',
      hint: 'run nestctl as root or as a member of the incus-admin group',
    });
  });

  it("probes with the manifest's flavour in one round trip, and reports both daemons when none is chosen", async () => {
    const both: string[][] = [];
    const exec: Exec = async (argv) => {
      both.push([...argv]);
      return { code: 0, stdout: ['has_lxd yes', 'has_incus yes'].map((l) => `${PROBE_MARK} ${l} `).join('\n'), stderr: '' };
    };
    const chosen = await new ExecLevel(exec, '', {}, 'debian').probe();
    expect(both.map((a) => a.slice(3))).toEqual([['probe', 'lxc', 'lxd']]);
    expect(chosen).toMatchObject({ flavour: 'debian', installed: ['debian', 'incus'] });
    both.length = 0;
    const undecided = await new ExecLevel(exec, '', {}, null).probe();
    expect(both.map((a) => a.slice(3))).toEqual([
      ['probe', '', '', 'debian', 'lxc', 'lxd', 'incus', 'incus', 'incus', 'snap', 'lxc', 'snap.lxd.daemon'],
    ]);
    expect(undecided).toMatchObject({ flavour: null, installed: ['debian', 'incus'] });
  });
});
