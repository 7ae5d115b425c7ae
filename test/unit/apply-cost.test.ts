// What an apply or a destroy runs, command by command, as the host receives it (the real client
// over the simulated machine, each nested command as its `lxc exec` chain): steps re-check only the fact
// they depend on, a destroy deletes a subtree with one `delete --force`, and images are exported
// and pushed down ahead of the copies, once for all of them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import type { Exec } from '../../src/ports/exec.js';
import { shownArgv } from '../../src/adapters/lxd/commands.js';

const SEED = readFileSync('examples/seed.yaml', 'utf8');
const FLEET = [
  'apiVersion: nestctl/v1',
  'containers:',
  ...Array.from({ length: 10 }, (_, i) => `  - { name: nf${i}, image: busybox }`),
  '',
].join('\n');
// Two nests, each with a busybox leaf: busybox is copied from the host into both.
const TWO_NESTS =
  'apiVersion: nestctl/v1\ncontainers:\n  - name: n1\n    image: nest\n    containers:\n      - { name: b1, image: busybox }\n  - name: n2\n    image: nest\n    containers:\n      - { name: b2, image: busybox }\n';

const newWorld = (): SimWorld =>
  createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );

/** Plans `text` in `mode` against `w`, applies it, and returns the commands the apply ran (not the plan's probes). */
async function commands(w: SimWorld, text: string, mode: 'apply' | 'destroy' = 'apply'): Promise<string[]> {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const ran: string[] = [];
  const machine = w.machine();
  const host = new ExecLevel((argv, options) => (ran.push(shownArgv(argv).join(' ')), machine(argv, options)), '');
  const planned = await planManifest(r.manifest, host, { hostRestart: null, tool: 'test', manifestText: text, mode, restoreIds: true });
  if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
  ran.length = 0;
  const summary = await startApply(planned.plan, host).finished;
  expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
  return ran;
}
const probes = (ran: string[]): string[] => ran.filter((a) => a.includes('<probe>'));
const matching = (ran: string[], re: RegExp): string[] => ran.filter((a) => re.test(a));

describe('apply re-checks with targeted reads', () => {
  it("a seed apply runs the full probe only where init-daemon needs the daemon's whole state (it ran 13)", async () => {
    const ran = await commands(newWorld(), SEED);
    expect(probes(ran)).toEqual(['lxc exec c1 -T -- sh -c <probe> lxc lxd', 'lxc exec c1 -T -- lxc exec c2 -T -- sh -c <probe> lxc lxd']);
    // Each subid write at a new level reads that one file.
    expect(matching(ran, /<nestctl-read-file>/)).toHaveLength(4);
    // A create is one `init`: no create-in-progress mark to drop after it (it ran 60 with one).
    expect(matching(ran, / config set /)).toEqual([]);
    // 57, and the boot wait (`sh -c <wait-boot>`) after starting each of the two nesting containers.
    expect(ran).toHaveLength(59);
  });

  it('a fleet create checks the instance list once for all ten, not the image store, and starts without a re-check', async () => {
    const ran = await commands(newWorld(), FLEET);
    expect(probes(ran)).toEqual([]);
    // The ten creates' re-checks share one read (it ran 10).
    expect(matching(ran, /^lxc query \/1\.0\/instances/)).toHaveLength(1);
    expect(matching(ran, /^lxc query \/1\.0\/images/)).toEqual([]);
    // init and start a container, no `config set` after the init (it ran 40: ten reads, and one).
    expect(matching(ran, /^lxc init /)).toHaveLength(10);
    expect(matching(ran, / config set /)).toEqual([]);
    expect(ran).toHaveLength(21);
  });

  it('the real client, over an exec whose commands take time, runs the same 21 for a fleet', async () => {
    const r = loadManifest(FLEET, 'm.yaml');
    if (!r.ok) throw new Error('bad manifest');
    const planned = await planManifest(r.manifest, newWorld().host(), { hostRestart: null, tool: 'test', manifestText: FLEET });
    if (!planned.ok) throw new Error('no plan');
    const ran: string[] = [];
    const exec: Exec = async (argv) => {
      ran.push(argv.join(' '));
      await new Promise((res) => setTimeout(res, 20));
      return { code: 0, stdout: argv.includes('query') ? '[]' : '', stderr: '' };
    };
    const summary = await startApply(planned.plan, new ExecLevel(exec, '', {}, 'debian')).finished;
    expect(summary.failed).toEqual([]);
    expect(matching(ran, /^lxc query \/1\.0\/instances/)).toHaveLength(1);
    expect(matching(ran, /^lxc (init|start) /)).toHaveLength(20);
    expect(ran).toHaveLength(21);
  });

  it('still says which image is missing when a create fails for want of it', async () => {
    const w = newWorld();
    const r = loadManifest(FLEET, 'm.yaml');
    if (!r.ok) throw new Error('bad manifest');
    const planned = await planManifest(r.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: FLEET });
    if (!planned.ok) throw new Error('no plan');
    const host = w.state().host.lxd!;
    host.images = host.images.filter((i) => !i.aliases.includes('busybox'));
    const summary = await startApply(planned.plan, w.host()).finished;
    expect(summary.failed[0]?.error.message).toMatch(/^image [0-9a-f]{12} for nf\d is not in the host's image store$/);
  });
});

describe('destroy deletes a subtree with one delete --force', () => {
  it('a seed destroy runs one delete, no stop, after probing c1, c1/c2 and c1/c2/c3 again, their LXC too (it ran 16 commands, 3 stops)', async () => {
    const w = newWorld();
    await commands(w, SEED);
    const ran = await commands(w, SEED, 'destroy');
    expect(matching(ran, / (stop|delete) /)).toEqual(['lxc delete --force -q c1']);
    expect(probes(ran)).toHaveLength(3);
    // Every owner's classic LXC containers, at each level the delete takes along.
    expect(matching(ran, /<lxc-probe> --every-owner$/)).toHaveLength(3);
    expect(ran).toHaveLength(12);
    expect(
      w
        .log()
        .filter((r) => r.op === 'delete')
        .map((r) => `${r.path}:${r.detail}`),
    ).toEqual([':c1']);
  });

  it('a fleet destroy runs 3 commands a container (probe, LXC probe, delete) and one shared instance list, none a stop (it ran 4, then 3, then 2)', async () => {
    const w = newWorld();
    await commands(w, FLEET);
    const ran = await commands(w, FLEET, 'destroy');
    expect(matching(ran, / stop /)).toEqual([]);
    expect(matching(ran, /^lxc delete --force -q nf\d$/)).toHaveLength(10);
    expect(matching(ran, /^lxc exec nf\d -T -- sh -c <lxc-probe> --every-owner$/)).toHaveLength(10);
    expect(matching(ran, /^lxc query \/1\.0\/instances/)).toHaveLength(1);
    expect(ran).toHaveLength(31);
  });
});

describe('image exports', () => {
  it("wait for their level's daemon restart, then go down while the containers boot, before each restarts its daemon", async () => {
    const w = newWorld();
    await commands(w, SEED);
    const ops = w.log().map((r) => `${r.path || 'host'} ${r.op} ${r.detail}`);
    const first = (re: RegExp): number => ops.findIndex((o) => re.test(o));
    const last = (re: RegExp): number => ops.length - 1 - [...ops].reverse().findIndex((o) => re.test(o));
    const restarted = (level: string, range: string): number => ops.indexOf(`${level} daemon-start ${range}`);
    // Exported once the host's daemon has restarted on the new range (its client talks to it), before c1 exists.
    expect(first(/^host image-export/)).toBeGreaterThan(restarted('host', '500000:196608'));
    expect(last(/^host image-export/)).toBeLessThan(first(/^host create c1/));
    // Both images are in c1 before c1's daemon restarts; busybox is in c2 before c2's.
    // Two images of two files each, one `lxc file push` a file.
    expect(ops.filter((o) => / file-push .* → c1\//.test(o))).toHaveLength(4);
    expect(last(/^host file-push .* → c1\//)).toBeLessThan(restarted('c1', '65536:131072'));
    expect(first(/^c1 file-push .* → c2\//)).toBeLessThan(restarted('c1/c2', '65536:65536'));
  });

  it('are made once per source level and image, shared by every copy, and removed when the apply ends', async () => {
    const w = newWorld();
    const ran = await commands(w, TWO_NESTS);
    expect(matching(ran, /^lxc image export -q \S+ /)).toHaveLength(1); // busybox, for n1 and n2
    expect(matching(ran, /lxc image import /)).toHaveLength(2);
    expect(w.files('').filter((f) => f.startsWith('/var/tmp/nestctl-'))).toEqual([]);
    expect(w.files('n1').filter((f) => f.startsWith('/var/tmp/nestctl-'))).toEqual([]);
  });
});

describe('nothing serialises siblings', () => {
  it("a fleet's ten creates and ten starts each run side by side when every command takes time", async () => {
    const w = newWorld();
    const r = loadManifest(FLEET, 'm.yaml');
    if (!r.ok) throw new Error('bad manifest');
    const planned = await planManifest(r.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: FLEET });
    if (!planned.ok) throw new Error('no plan');
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    // Every call of the level takes 20 ms, as a real command would take its time.
    const slow = (level: LxdLevel): LxdLevel =>
      new Proxy(level, {
        get(target, prop, receiver) {
          const value: unknown = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function') return value;
          if (prop === 'child') return (...args: unknown[]) => slow((value as (...a: unknown[]) => LxdLevel).apply(target, args));
          return async (...args: unknown[]) => {
            const name = String(prop);
            running.set(name, (running.get(name) ?? 0) + 1);
            most.set(name, Math.max(most.get(name) ?? 0, running.get(name)!));
            await new Promise((res) => setTimeout(res, 20));
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } finally {
              running.set(name, running.get(name)! - 1);
            }
          };
        },
      });
    const summary = await startApply(planned.plan, slow(w.host())).finished;
    expect(summary.failed).toEqual([]);
    expect(most.get('createInstance')).toBe(10);
    expect(most.get('startInstance')).toBe(10);
  });
});
