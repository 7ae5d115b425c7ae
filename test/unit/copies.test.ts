// `copy_of:` (a container made as a copy of a sibling, from a snapshot): the manifest's checks,
// each at file:line:col; what a copy takes from its source; the plan of a clone chain and of a
// nesting copy against the simulated LXD, applied, and planned again; the simulator's own
// snapshot and copy rules.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { decodePlan, encodePlan } from '../../src/core/plan/codec.js';
import { MARKER_PATH } from '../../src/core/plan/desired-config.js';
import type { Plan } from '../../src/core/plan/model.js';
import { deferredPart } from '../../src/core/plan/target.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';

const noColour = colours(false);
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import { nestctl } from './helpers/cli.js';
import { load } from './helpers/sim-worlds.js';

const HEAD = 'apiVersion: nestctl/v1\n';

/** The diagnostics of a manifest that must not load, as "line:col message". */
function refusals(text: string): string[] {
  const r = loadManifest(text, 'm.yaml');
  if (r.ok) throw new Error('the manifest loaded');
  return r.diagnostics.map((d) => (d.where.kind === 'source' ? `${d.where.line}:${d.where.column} ${d.message}` : d.message));
}

const CHAIN = `${HEAD}containers:
  - name: base
    image: busybox
    config: { user.role: base, user.keep: "yes" }
    files:
      - { path: /etc/motd, content: "made in base\\n" }
    setup:
      - [touch, /var/lib/base-ready]
  - name: web
    copy_of: base
    config: { user.role: web }
    files:
      - { path: /etc/role, content: "web\\n" }
    setup:
      - [touch, /var/lib/web-ready]
  - name: mysite
    copy_of: web
`;

const NESTING = `${HEAD}containers:
  - name: lab1
    image: nest
    containers:
      - name: app
        image: busybox
        files:
          - { path: /etc/app.conf, content: "listen = 8080\\n" }
  - name: lab2
    copy_of: lab1
`;

async function plan(w: SimWorld, text: string): Promise<Plan> {
  const m = load(text);
  const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}
async function apply(w: SimWorld, p: Plan): Promise<void> {
  const s = await startApply(p, w.host()).finished;
  expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}
const fresh = (text: string): SimWorld => createSimWorld(defaultWorld(manifestImages(load(text).manifest)));
const instances = async (w: SimWorld, path = '') => (await w.level(path).probe()).instances;
const fileText = async (w: SimWorld, level: string, name: string, file: string): Promise<string | null> => {
  const got = (await w.level(level).readFiles(name, [file]))[file];
  return got?.kind === 'file' && got.data !== null ? Buffer.from(got.data, 'base64').toString() : null;
};

describe('copy_of: entries are checked where they are written', () => {
  it('accepts a chain of copies, each of a sibling above it', () => {
    expect(loadManifest(CHAIN, 'm.yaml').ok).toBe(true);
    expect(loadManifest(NESTING, 'm.yaml').ok).toBe(true);
  });

  it('refuses a source below the copy, itself, one that is not a sibling, and an image beside copy_of', () => {
    const list = (items: string) => `${HEAD}containers:\n${items}`;
    expect(refusals(list('  - { name: a, copy_of: b }\n  - { name: b, image: busybox }\n'))).toEqual([
      '3:25 a is a copy of b, which is listed after it',
    ]);
    expect(refusals(list('  - { name: a, copy_of: a }\n'))).toEqual(['3:25 a is a copy of itself']);
    expect(
      refusals(list('  - name: a\n    image: nest\n    containers:\n      - { name: b, image: busybox }\n  - { name: c, copy_of: b }\n')),
    ).toEqual(['7:25 c is a copy of b, which is not an LXD container beside it']);
    expect(refusals(list('  - { name: a, image: busybox }\n  - { name: b, copy_of: a, image: busybox }\n'))).toEqual([
      '4:28 b is a copy of a and names an image too',
    ]);
  });

  it('says what copy_of needs: an LXD container, and a name (the schema)', () => {
    expect(refusals(`${HEAD}containers:\n  - { name: a, image: busybox }\n  - { name: b, runtime: lxc, copy_of: a }\n`)[0]).toContain(
      'copy_of',
    );
    expect(refusals(`${HEAD}containers:\n  - { name: a, image: busybox }\n  - { name: b, copy_of: "" }\n`)).toEqual([
      '4:25 "copy_of" in container b must not be empty',
    ]);
  });

  it("gives the copy its source's image, config, files and setup, with its own on top", () => {
    const r = loadManifest(CHAIN, 'm.yaml');
    if (!r.ok) throw new Error('did not load');
    const [base, web, mysite] = r.manifest.containers;
    expect(web!.image).toBe(base!.image);
    expect(web!.config).toEqual({ 'user.role': 'web', 'user.keep': 'yes' });
    expect(web!.files.map((f) => f.path)).toEqual(['/etc/motd', '/etc/role']);
    expect(web!.setup).toEqual([
      ['touch', '/var/lib/base-ready'],
      ['touch', '/var/lib/web-ready'],
    ]);
    expect(web!.copyOf).toMatchObject({ name: 'base', path: 'base', setup: 1, files: ['/etc/motd'] });
    expect(mysite!.files.map((f) => f.path)).toEqual(['/etc/motd', '/etc/role']);
    expect(mysite!.copyOf).toMatchObject({ name: 'web', setup: 2, files: ['/etc/motd', '/etc/role'] });
  });
});

describe('a clone chain is planned in order and made from snapshots', () => {
  it('plans base, then web from base, then mysite from web; what a copy brings is not pushed or run again; a second plan is empty', async () => {
    const w = fresh(CHAIN);
    const p = await plan(w, CHAIN);
    const ids = p.steps.map((s) => s.id);
    expect(ids.filter((id) => id.startsWith('web') || id.startsWith('mysite'))).toEqual([
      'web:copy-instance',
      'web:push-file:/etc/role',
      'web:run-setup',
      'mysite:copy-instance',
    ]);
    const byId = new Map(p.steps.map((s) => [s.id, s]));
    // A copy is made after everything its source is given.
    expect(byId.get('web:copy-instance')!.dependsOn).toEqual(expect.arrayContaining(['base:run-setup', 'base:push-file:/etc/motd']));
    expect(byId.get('mysite:copy-instance')!.dependsOn).toEqual(expect.arrayContaining(['web:run-setup', 'web:push-file:/etc/role']));
    expect(byId.get('web:run-setup')).toMatchObject({ ran: 1, commands: [['touch', '/var/lib/web-ready']] });
    expect(renderPlanText(p, noColour)).toContain('  + web: copy of base (from a snapshot)\n');
    const back = decodePlan(encodePlan(p), 'p.json', 'test');
    expect(back.ok && back.plan).toEqual(p);

    await apply(w, p);
    expect((await instances(w)).map((i) => [i.name, i.status, i.config['user.role']])).toEqual([
      ['base', 'Running', 'base'],
      ['web', 'Running', 'web'],
      ['mysite', 'Running', 'web'],
    ]);
    expect(await fileText(w, '', 'mysite', '/etc/motd')).toBe('made in base\n');
    expect(await fileText(w, '', 'mysite', '/etc/role')).toBe('web\n');
    expect(w.commands('web')).toEqual([['touch', '/var/lib/web-ready']]);
    expect(w.commands('mysite')).toEqual([]);
    const ops = w.log().filter((r) => r.path === '' && ['snapshot', 'copy', 'delete-snapshot', 'create'].includes(r.op));
    expect(ops.map((r) => r.op)).toEqual(['create', 'snapshot', 'copy', 'delete-snapshot', 'snapshot', 'copy', 'delete-snapshot']);
    // No snapshot is left behind on the sources.
    expect(w.snapshots('', 'base')).toEqual([]);
    expect((await plan(w, CHAIN)).steps).toEqual([]);
  });

  it('copies of one source made at once share one snapshot of it, deleted after the last', async () => {
    const text = `${HEAD}containers:
  - { name: tpl, image: busybox, setup: [[touch, /root/ready]] }
  - { name: a, copy_of: tpl }
  - { name: b, copy_of: tpl }
  - { name: c, copy_of: tpl }
`;
    const w = fresh(text);
    await apply(w, await plan(w, text));
    const ops = w.log().filter((r) => r.path === '' && ['snapshot', 'copy', 'delete-snapshot'].includes(r.op));
    expect(ops.map((r) => r.op)).toEqual(['snapshot', 'copy', 'copy', 'copy', 'delete-snapshot']);
    expect(w.snapshots('', 'tpl')).toEqual([]);
    expect((await instances(w)).map((i) => [i.name, i.status])).toEqual([
      ['tpl', 'Running'],
      ['a', 'Running'],
      ['b', 'Running'],
      ['c', 'Running'],
    ]);
  });

  it('a change of the source later does not replace its copies', async () => {
    const w = fresh(CHAIN);
    await apply(w, await plan(w, CHAIN));
    const changed = CHAIN.replace('made in base', 'base, edited later');
    const p = await plan(w, changed);
    expect(p.steps.map((s) => s.id)).toEqual(['base:push-file:/etc/motd', 'web:push-file:/etc/motd', 'mysite:push-file:/etc/motd']);
    expect(p.steps.some((s) => s.kind === 'delete-instance' || s.kind === 'copy-instance')).toBe(false);
  });

  it('an isolated copy gets a slice of its own; its files are shifted to it at its first start', async () => {
    const text = `${HEAD}containers:
  - { name: base, image: busybox, idmap: { isolated: true } }
  - { name: copy, copy_of: base }
`;
    const w = fresh(text);
    await apply(w, await plan(w, text));
    const [base, copy] = await instances(w);
    expect(copy!.config['volatile.idmap.base']).not.toBe(base!.config['volatile.idmap.base']);
    expect(copy!.config['volatile.last_state.idmap']).toBe(copy!.config['volatile.idmap.current']);
    expect((await plan(w, text)).steps).toEqual([]);
  });
});

describe('a copy of a container that holds containers', () => {
  it('waits for its source to run; then the plan says what the copy holds, apply starts its inside, and the next plan is empty', async () => {
    const w = fresh(NESTING);
    const first = await plan(w, NESTING);
    expect(first.steps.some((s) => s.id.startsWith('lab2'))).toBe(false);
    expect(first.deferred).toEqual([{ path: 'lab2', source: 'lab1' }]);
    const back = decodePlan(encodePlan(first), 'p.json', 'test');
    expect(back.ok && back.plan.deferred).toEqual(first.deferred);
    expect(first.warnings).toContain(
      'lab2 is a copy of lab1, which holds containers and is not running yet: apply copies it once lab1 runs, and plans what it holds then',
    );
    await apply(w, first);

    const second = await plan(w, NESTING);
    expect(second.deferred).toBeUndefined();
    expect(deferredPart(second, first.deferred!).steps).toEqual(second.steps);
    expect(second.steps).toHaveLength(1);
    expect(second.steps[0]).toMatchObject({
      kind: 'copy-instance',
      name: 'lab2',
      source: 'lab1',
      hosting: true,
      inside: [{ path: 'lab2/app', waitBoot: false }],
      markers: ['lab2/app'],
    });
    expect(renderPlanText(second, noColour)).toContain('  + lab2: copy of lab1 (from a snapshot; starts the container inside it)\n');
    await apply(w, second);
    expect((await instances(w, 'lab2')).map((i) => [i.name, i.status, i.config[MARKER_PATH]])).toEqual([['app', 'Running', 'lab2/app']]);
    expect(await fileText(w, 'lab2', 'app', '/etc/app.conf')).toBe('listen = 8080\n');
    // The source's inside is untouched.
    expect((await instances(w, 'lab1')).map((i) => [i.name, i.status, i.config[MARKER_PATH]])).toEqual([['app', 'Running', 'lab1/app']]);
    expect((await plan(w, NESTING)).steps).toEqual([]);
  });

  it('the copy-instance step re-checks its level: a container that took the name meanwhile makes it stale', async () => {
    const w = fresh(NESTING);
    await apply(w, await plan(w, NESTING));
    const p = await plan(w, NESTING);
    await w.host().createInstance({ fingerprint: 'busybox', name: 'lab2', profiles: ['default'], config: {} });
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => f.error.message)).toEqual(['plan is stale: lab2 appeared after the plan was made']);
  });
});

describe('the simulated LXD snapshots and copies as LXD does', () => {
  it("copies only from a snapshot that exists, not over a name in use; a copy's nested containers are stopped until started", async () => {
    const w = fresh(NESTING);
    await apply(w, await plan(w, NESTING));
    const host = w.host();
    await expect(host.copyInstance('lab1', 'none', 'lab3')).rejects.toThrow('Error: Instance not found');
    await host.snapshotInstance('lab1', 's0');
    await expect(host.snapshotInstance('lab1', 's0')).rejects.toThrow('already exists');
    await expect(host.copyInstance('lab1', 's0', 'lab1')).rejects.toThrow('already exists');
    await host.copyInstance('lab1', 's0', 'lab3');
    await host.deleteSnapshot('lab1', 's0');
    expect(w.snapshots('', 'lab1')).toEqual([]);
    const lab3 = (await instances(w)).find((i) => i.name === 'lab3')!;
    expect(lab3.status).toBe('Stopped');
    expect(lab3.config['volatile.apply_template']).toBe('copy');
    await host.startInstance('lab3', true);
    // LXD 5.0.2 leaves a copy's nested containers stopped after the copy starts.
    expect((await instances(w, 'lab3')).map((i) => [i.name, i.status])).toEqual([['app', 'Stopped']]);
  });
});

describe('nestctl apply with a nesting copy, against a --state simulation', () => {
  it('makes the source, then in a second round the copy, in one run that converges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-copies-'));
    const file = join(dir, 'm.yaml');
    writeFileSync(file, NESTING);
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--state', join(dir, 'state.json'), file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Now that their sources run, copying lab2 (a copy of lab1):\n');
    expect(r.stdout).toContain('  + lab2: copy of lab1 (from a snapshot; starts the container inside it)\n');
    expect(r.stdout).toContain('Converged: planning again in the simulated LXD finds no changes.');
    const again = await nestctl(['plan', '--state', join(dir, 'state.json'), file]);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });
});
