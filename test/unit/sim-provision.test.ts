// Files and setup commands in containers, through the engine against the simulated LXD: files
// at two levels pushed with mode and owner, a second plan empty, a hand edit planned with a diff
// and repaired, setup run once, a changed list re-run whole, a failing command reported with its
// output and its record left unwritten.

import { describe, expect, it } from 'vitest';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';

const planText = (p: Plan): string => renderPlanText(p, colours(false));

const IMAGES = [
  { alias: 'nest', hostsLxd: true },
  { alias: 'busybox', hostsLxd: false },
];

function manifest(setup2: string[][], motd = 'hello from c2\n'): { manifest: Manifest; text: string } {
  const text = [
    'apiVersion: nestctl/v1',
    'containers:',
    '  - name: c1',
    '    image: nest',
    '    files:',
    '      - path: /etc/role',
    '        content: "outer\\n"',
    '    setup:',
    '      - [touch, /var/lib/c1-ready]',
    '    containers:',
    '      - name: c2',
    '        image: busybox',
    '        files:',
    '          - path: /etc/motd',
    `            content: ${JSON.stringify(motd)}`,
    '            mode: "0640"',
    '            uid: 1000',
    '            gid: 100',
    '        setup:',
    ...setup2.map((argv) => `          - ${JSON.stringify(argv)}`),
    '',
  ].join('\n');
  const r = loadManifest(text, 'provision.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

async function plan(world: SimWorld, m: { manifest: Manifest; text: string }): Promise<Plan> {
  const r = await planManifest(m.manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

async function apply(world: SimWorld, m: { manifest: Manifest; text: string }) {
  return startApply(await plan(world, m), world.host()).finished;
}

const facts = async (world: SimWorld, level: string, name: string, path: string) =>
  (await world.level(level).readFiles(name, [path]))[path];

const SETUP = [['touch', '/var/lib/c2-ready'], ['true']];

describe('files and setup in containers (simulated)', () => {
  it('pushes files at two levels with mode and owner, then plans nothing', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    const summary = await apply(world, manifest(SETUP));
    expect(summary.failed).toEqual([]);
    expect(world.file('c1', '/etc/role')).toBe('outer\n');
    expect(world.file('c1/c2', '/etc/motd')).toBe('hello from c2\n');
    expect(await facts(world, 'c1', 'c2', '/etc/motd')).toMatchObject({ kind: 'file', mode: 0o640, uid: 1000, gid: 100, size: 14 });
    expect((await plan(world, manifest(SETUP))).steps).toEqual([]);
  });

  it('plans a hand edit inside c1/c2 with a diff, and apply repairs it', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    await apply(world, manifest(SETUP));
    world.editFile('c1/c2', '/etc/motd', 'hello from c2\nedited by hand\n');
    const p = await plan(world, manifest(SETUP));
    expect(p.steps.map((s) => s.id)).toEqual(['c1/c2:push-file:/etc/motd']);
    const text = planText(p);
    expect(text).toContain('~ c1/c2: /etc/motd');
    expect(text).toContain('-edited by hand');
    expect(text).toContain('Plan: 0 containers to add, 1 to change, 0 to destroy');
    expect((await startApply(p, world.host()).finished).failed).toEqual([]);
    expect(world.file('c1/c2', '/etc/motd')).toBe('hello from c2\n');
    expect((await plan(world, manifest(SETUP))).steps).toEqual([]);
  });

  it('plans a changed mode or owner without a content diff', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    await apply(world, manifest(SETUP));
    world.editFile('c1/c2', '/etc/motd', 'hello from c2\n', { mode: 0o666, uid: 0 });
    const p = await plan(world, manifest(SETUP));
    const text = planText(p);
    expect(text).toContain('~ mode 0666 → 0640');
    expect(text).toContain('~ owner 0:100 → 1000:100');
    expect(text).not.toContain('@@');
  });

  it('refuses as stale a file changed between plan and apply', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    await apply(world, manifest(SETUP));
    world.editFile('c1/c2', '/etc/motd', 'first edit\n');
    const p = await plan(world, manifest(SETUP));
    world.editFile('c1/c2', '/etc/motd', 'second edit\n');
    const summary = await startApply(p, world.host()).finished;
    expect(summary.failed.map((f) => f.error.message)).toEqual(['plan is stale: /etc/motd changed after the plan was made']);
    expect(world.file('c1/c2', '/etc/motd')).toBe('second edit\n');
  });

  it('runs setup once, after the files; a grown list runs only what was added, a changed one whole', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    await apply(world, manifest(SETUP));
    expect(world.commands('c1/c2')).toEqual(SETUP);
    const order = world
      .log()
      .filter((r) => r.path === 'c1/c2' && (r.op === 'write-file' || r.op === 'exec'))
      .map((r) => r.op);
    expect(order).toEqual(['write-file', 'exec', 'exec']);
    await apply(world, manifest(SETUP));
    expect(world.commands('c1/c2')).toEqual(SETUP);

    const grown = [...SETUP, ['touch', '/var/lib/c2-more']];
    const p = await plan(world, manifest(grown));
    expect(p.steps.map((s) => s.id)).toEqual(['c1/c2:run-setup']);
    expect(planText(p)).toContain('~ c1/c2: setup (run 1 command after the 2 that ran)');
    expect((await startApply(p, world.host()).finished).failed).toEqual([]);
    expect(world.commands('c1/c2')).toEqual([...SETUP, ['touch', '/var/lib/c2-more']]);
    expect((await plan(world, manifest(grown))).steps).toEqual([]);

    const changed = [['true'], ...grown.slice(1)];
    const again = await plan(world, manifest(changed));
    expect(planText(again)).toContain('~ c1/c2: setup (list changed: re-run 3 commands)');
    expect((await startApply(again, world.host()).finished).failed).toEqual([]);
    expect(world.commands('c1/c2')).toEqual([...SETUP, ['touch', '/var/lib/c2-more'], ...changed]);
    expect((await plan(world, manifest(changed))).steps).toEqual([]);
  });

  it('stops at a failing command, reports it with its output, and leaves the record unwritten', async () => {
    const world = createSimWorld(defaultWorld(IMAGES));
    const failing = [['true'], ['sh', '-c', 'echo no such package >&2; exit 3'], ['touch', '/var/lib/never']];
    const summary = await apply(world, manifest(failing));
    expect(summary.failed).toHaveLength(1);
    const message = summary.failed[0]!.error.message;
    expect(message).toContain('setup command 2 of 3 in c1/c2 failed (exit 3): sh -c "echo no such package >&2; exit 3"');
    expect(message).toContain('│ no such package');
    expect(world.commands('c1/c2')).toEqual(failing.slice(0, 2));
    expect(world.file('c1/c2', '/var/lib/never')).toBeNull();
    const c2 = (await world.level('c1').probe()).instances.find((i) => i.name === 'c2')!;
    expect(c2.config['user.nestctl.setup']).toBeUndefined();
    // The next plan runs the whole list again.
    expect((await plan(world, manifest(failing))).steps.map((s) => s.id)).toEqual(['c1/c2:run-setup']);
  });
});
