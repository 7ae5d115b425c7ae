// `moved:` (Terraform's moved blocks): the manifest's checks, each at file:line:col; the plan of a
// rename instead of a delete and a create, against the simulated LXD, applied, and planned again;
// the refusals; the simulator's own rename rules.

import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { decodePlan, encodePlan } from '../../src/core/plan/codec.js';
import { MARKER_PATH } from '../../src/core/plan/desired-config.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import { load } from './helpers/sim-worlds.js';

const HEAD = 'apiVersion: nestctl/v1\n';

/** The diagnostics of a manifest that must not load, as "line:col message". */
function refusals(text: string): string[] {
  const r = loadManifest(text, 'm.yaml');
  if (r.ok) throw new Error('the manifest loaded');
  return r.diagnostics.map((d) => (d.where.kind === 'source' ? `${d.where.line}:${d.where.column} ${d.message}` : d.message));
}

const TREE = [
  'containers:',
  '  - name: web',
  '    image: nest',
  '    containers:',
  '      - { name: c2, image: busybox }',
  '  - { name: box, runtime: lxc }',
  '',
].join('\n');

describe('moved: entries are checked where they are written', () => {
  it('accepts a rename beside where it was, and a chain planned in order', () => {
    expect(loadManifest(`${HEAD}${TREE}moved:\n  - {from: c1, to: web}\n`, 'm.yaml').ok).toBe(true);
    expect(loadManifest(`${HEAD}${TREE}moved:\n  - {from: a, to: b}\n  - {from: b, to: web}\n`, 'm.yaml').ok).toBe(true);
    expect(loadManifest(`${HEAD}${TREE}moved:\n  - {from: web/old, to: web/c2}\n`, 'm.yaml').ok).toBe(true);
  });

  it('refuses a move to another parent, saying it is not supported yet and what to do instead', () => {
    const text = `${HEAD}${TREE}moved:\n  - {from: c2, to: web/c2}\n`;
    const r = loadManifest(text, 'm.yaml');
    expect(r.ok).toBe(false);
    const d = !r.ok ? r.diagnostics : [];
    expect(d).toHaveLength(1);
    expect(d[0]!.where).toMatchObject({ kind: 'source', line: 9, column: 20 });
    expect(d[0]!.message).toBe(
      'moved[0] moves c2 from the host into web: moves across parents are not supported yet (only a rename beside where it is)',
    );
    expect(d[0]!.hint).toContain('rename it where it is (to: c2)');
    expect(d[0]!.hint).toContain('apply --prune deletes c2 with everything inside it');
  });

  it('refuses a `to` that is not a container of the manifest, or is a classic LXC container', () => {
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: c1, to: wbe}\n`)).toEqual(['9:20 moved[0]: wbe is not a container of the manifest']);
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: old, to: box}\n`)).toEqual([
      '9:21 moved[0]: box is a classic LXC container; nestctl renames only LXD containers',
    ]);
  });

  it('refuses a `from` still in the manifest, a rename to itself, an entry twice, two entries into one and a circle', () => {
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: web/c2, to: web/c2}\n`)).toEqual(['9:24 moved[0] renames web/c2 to itself']);
    expect(refusals(`${HEAD}${TREE}moved:\n  - from: web\n    to: web2\n`)).toEqual([
      '9:11 moved[0]: web is still a container of the manifest; a renamed container is only at its new path (web2)',
    ]);
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: c1, to: web}\n  - {from: c1, to: web}\n`)).toEqual([
      '10:12 c1 is renamed twice: to web (line 9) and to web',
    ]);
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: a, to: web}\n  - {from: b, to: web}\n`)).toEqual([
      '10:19 web is the new name of both a (line 9) and b',
    ]);
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: a, to: b}\n  - {from: b, to: a}\n`)).toEqual([
      '9:12 moved entries rename in a circle: a → b → a',
    ]);
  });

  it('refuses an entry named by the path its parent had before another entry renames it, with the path to write', () => {
    const d = loadManifest(`${HEAD}${TREE}moved:\n  - {from: c1, to: web}\n  - {from: c1/x, to: c1/c2}\n`, 'm.yaml');
    expect(d.ok).toBe(false);
    const found = !d.ok ? d.diagnostics : [];
    expect(found.map((x) => `${(x.where as { line: number }).line}:${(x.where as { column: number }).column} ${x.message}`)).toEqual([
      '10:12 moved[1]: c1/x is inside c1, which moved[0] renames to web',
    ]);
    expect(found[0]!.hint).toBe('name it as it is once c1 is renamed: from: web/x, to: web/c2');
  });

  it('refuses a path that is not container names joined by "/" (the schema)', () => {
    const [first] = refusals(`${HEAD}${TREE}moved:\n  - {from: /c1, to: web}\n`);
    expect(first).toMatch(/^9:12 .*moved\[0\]\.from/);
    expect(refusals(`${HEAD}${TREE}moved:\n  - {from: c1}\n`)[0]).toMatch(/^9:5 .*to/);
  });
});

// A nesting c1 with c2 inside it, and a file in c2: the tree a rename must keep.
const BEFORE = [
  HEAD.trimEnd(),
  'containers:',
  '  - name: c1',
  '    image: nest',
  '    containers:',
  '      - name: c2',
  '        image: busybox',
  '        files:',
  '          - { path: /etc/hello.txt, content: "hello\\n" }',
].join('\n');
const renamed = (text: string, moved = 'moved:\n  - {from: c1, to: web}\n') => `${text.replace('name: c1', 'name: web')}\n${moved}`;

async function plan(w: SimWorld, text: string): Promise<Plan> {
  const m = load(text);
  const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}
async function problems(w: SimWorld, text: string): Promise<string[]> {
  const m = load(text);
  const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text });
  if (r.ok) throw new Error(`planned: ${r.plan.steps.map((s) => s.id).join(', ')}`);
  return r.problems.map((p) => p.message);
}
async function apply(w: SimWorld, p: Plan): Promise<void> {
  const s = await startApply(p, w.host()).finished;
  expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}
/** A fresh simulated host with `text` applied. */
async function appliedWorld(text: string): Promise<SimWorld> {
  const w = createSimWorld(defaultWorld(manifestImages(load(text).manifest)));
  await apply(w, await plan(w, text));
  expect((await plan(w, text)).steps).toEqual([]);
  return w;
}
const kinds = (p: Plan) => p.steps.map((s) => `${s.id}`);
const instances = async (w: SimWorld, path = '') => (await w.level(path).probe()).instances;

describe('a renamed container is renamed, not deleted and created again', () => {
  it('plans one rename step (stop, rename, start) with nothing deleted or created; applied, its inside is kept and a second plan is empty', async () => {
    const w = await appliedWorld(BEFORE);
    const p = await plan(w, renamed(BEFORE));
    expect(kinds(p)).toEqual(['web:rename-instance']);
    const step = p.steps[0]!;
    expect(step).toMatchObject({
      kind: 'rename-instance',
      level: '',
      name: 'web',
      path: 'web',
      from: 'c1',
      fromPath: 'c1',
      running: true,
      hosting: true,
      waitBoot: true,
      inside: ['web/c2'],
      markers: ['web/c2'],
      precondition: { kind: 'instance-status', status: 'Running' },
    });
    // Without moved:, the same rename deletes c1 with c2 and its file, and creates both again.
    const without = await plan(w, renamed(BEFORE, ''));
    expect(without.steps.some((s) => s.kind === 'delete-instance' && s.path === 'c1')).toBe(false);
    expect(without.steps.some((s) => s.kind === 'create-instance' && s.path === 'web')).toBe(true);

    const before = w.log().length;
    await apply(w, p);
    expect((await instances(w)).map((i) => [i.name, i.status, i.config[MARKER_PATH]])).toEqual([['web', 'Running', 'web']]);
    expect((await instances(w, 'web')).map((i) => [i.name, i.status, i.config[MARKER_PATH]])).toEqual([['c2', 'Running', 'web/c2']]);
    const files = await w.level('web').readFiles('c2', ['/etc/hello.txt']);
    expect(files['/etc/hello.txt']).toMatchObject({ kind: 'file', data: Buffer.from('hello\n').toString('base64') });
    expect(
      w
        .log()
        .slice(before)
        .filter((r) => ['stop', 'rename', 'start', 'delete', 'init'].includes(r.op) && r.path === ''),
    ).toMatchObject([
      { op: 'stop', detail: 'c1' },
      { op: 'rename', detail: 'c1 web' },
      { op: 'start', detail: 'web' },
    ]);
    // The entry stays in the manifest and does nothing now.
    expect((await plan(w, renamed(BEFORE))).steps).toEqual([]);
  });

  it('--target inside the renamed container keeps the rename: the target has its path only once it is done', async () => {
    const w = await appliedWorld(BEFORE);
    const m = load(renamed(BEFORE));
    const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text, target: 'web/c2' });
    expect(r.ok && r.plan.steps.map((s) => s.id)).toEqual(['web:rename-instance']);
  });

  it('a saved plan with a rename decodes as it was encoded', async () => {
    const w = await appliedWorld(BEFORE);
    const p = await plan(w, renamed(BEFORE));
    const back = decodePlan(encodePlan(p), 'p.json', 'test');
    expect(back.ok).toBe(true);
    expect(back.ok && back.plan).toEqual(p);
  });

  it('renames a container inside one that keeps its name, at the level inside it', async () => {
    const w = await appliedWorld(BEFORE);
    const text = `${BEFORE.replace('name: c2', 'name: db')}\nmoved:\n  - {from: c1/c2, to: c1/db}\n`;
    const p = await plan(w, text);
    expect(p.steps.map((s) => [s.id, s.level])).toEqual([['c1/db:rename-instance', 'c1']]);
    await apply(w, p);
    expect((await instances(w, 'c1')).map((i) => [i.name, i.config[MARKER_PATH]])).toEqual([['db', 'c1/db']]);
    expect((await plan(w, text)).steps).toEqual([]);
  });

  it('renames a container and one inside it in one plan, the outer first', async () => {
    const w = await appliedWorld(BEFORE);
    const text = `${renamed(BEFORE).replace('name: c2', 'name: db')}  - {from: web/c2, to: web/db}\n`;
    const p = await plan(w, text);
    expect(p.steps.map((s) => [s.id, s.level, s.dependsOn])).toEqual([
      ['web:rename-instance', '', []],
      ['web/db:rename-instance', 'web', ['web:rename-instance']],
    ]);
    await apply(w, p);
    expect((await instances(w, 'web')).map((i) => [i.name, i.config[MARKER_PATH]])).toEqual([['db', 'web/db']]);
    expect((await plan(w, text)).steps).toEqual([]);
  });

  it('follows a chain: a container at the first or the middle path ends at the last', async () => {
    const leaf = `${HEAD}containers:\n  - { name: a, image: busybox }\n`;
    const chain = `${HEAD}containers:\n  - { name: c, image: busybox }\nmoved:\n  - {from: a, to: b}\n  - {from: b, to: c}\n`;
    const w = await appliedWorld(leaf);
    const p = await plan(w, chain);
    expect(p.steps.map((s) => s.kind === 'rename-instance' && `${s.fromPath} → ${s.path}`)).toEqual(['a → c']);
    await apply(w, p);
    expect((await instances(w)).map((i) => i.name)).toEqual(['c']);
    const mid = await appliedWorld(leaf.replace('name: a', 'name: b'));
    expect((await plan(mid, chain)).steps.map((s) => s.kind === 'rename-instance' && s.fromPath)).toEqual(['b']);
  });

  it('a stopped leaf is renamed without a stop, then started', async () => {
    const leaf = `${HEAD}containers:\n  - { name: c1, image: busybox }\n`;
    const w = await appliedWorld(leaf);
    await w.host().stopInstance('c1');
    const p = await plan(w, renamed(leaf));
    expect(p.steps.map((s) => s.id)).toEqual(['web:rename-instance', 'web:start-instance']);
    expect(p.steps[0]).toMatchObject({ running: false, inside: [] });
    expect(p.steps[1]!.dependsOn).toEqual(['web:rename-instance']);
    await apply(w, p);
    expect((await instances(w)).map((i) => [i.name, i.status])).toEqual([['web', 'Running']]);
  });
});

describe('what is not renamed', () => {
  it('both the old and the new container exist: a user error, nothing planned', async () => {
    const both = `${BEFORE}\n  - { name: web, image: busybox }\n`;
    const w = await appliedWorld(both);
    const text = `${both.replace('name: c1', 'name: gone').replace(/  - name: gone[\s\S]*?(?=  - \{ name: web)/, '')}moved:\n  - {from: c1, to: web}\n`;
    expect(await problems(w, text)).toEqual(['c1 and web both exist, and moved: says c1 was renamed to web; nothing was changed']);
  });

  it('a container nestctl did not create is refused', async () => {
    const w = createSimWorld({
      ...defaultWorld([{ alias: 'busybox', hostsLxd: false }]),
    });
    await w.host().createInstance({
      name: 'c1',
      fingerprint: (await w.host().images()).find((i) => i.aliases.includes('busybox'))!.fingerprint,
      profiles: ['default'],
      config: {},
    });
    const text = `${HEAD}containers:\n  - { name: web, image: busybox }\nmoved:\n  - {from: c1, to: web}\n`;
    expect(await problems(w, text)).toEqual([
      'c1 exists but was not created by nestctl (no user.nestctl.path=c1): nestctl renames only its own containers',
    ]);
  });

  it('a stopped container that holds containers is refused (its inside cannot be seen)', async () => {
    const w = await appliedWorld(BEFORE);
    await w.host().stopInstance('c1');
    expect(await problems(w, renamed(BEFORE))).toEqual([
      "c1 is stopped: nestctl renames a container that holds containers only while it runs (what is inside it must be seen, and its containers' markers follow the new name)",
    ]);
  });

  it('the rename re-checks the level when it runs: a container that took the new name meanwhile makes it stale', async () => {
    const w = await appliedWorld(BEFORE);
    const p = await plan(w, renamed(BEFORE));
    await w.host().createInstance({
      name: 'web',
      fingerprint: (await w.host().images()).find((i) => i.aliases.includes('busybox'))!.fingerprint,
      profiles: ['default'],
      config: {},
    });
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => f.error.message)).toEqual(['plan is stale: web appeared after the plan was made']);
    expect((await instances(w)).find((i) => i.name === 'c1')?.status).toBe('Running');
  });
});

describe('destroy with a rename not applied yet', () => {
  it('destroys the container under the name it still has, with what is inside it', async () => {
    const w = await appliedWorld(BEFORE);
    const m = load(renamed(BEFORE));
    const r = await planManifest(m.manifest, w.host(), { hostRestart: null, tool: 'test', manifestText: m.text, mode: 'destroy' });
    expect(r.ok).toBe(true);
    const steps = r.ok ? r.plan.steps : [];
    expect(steps.filter((s) => s.kind === 'delete-instance').map((s) => s.id)).toEqual(['c1:delete-instance', 'c1/c2:delete-instance']);
  });
});

describe('the simulated LXD renames as LXD does', () => {
  it("refuses a running container with LXD's words, and a name in use; a stopped one takes its whole inside along", async () => {
    const w = await appliedWorld(BEFORE);
    const host = w.host();
    await expect(host.renameInstance('c1', 'web')).rejects.toThrow('Error: Renaming of running container not allowed');
    await host.stopInstance('c1');
    await expect(host.renameInstance('c1', 'c1')).rejects.toThrow('Error: Name "c1" already in use');
    await host.renameInstance('c1', 'web');
    expect((await instances(w)).map((i) => [i.name, i.status])).toEqual([['web', 'Stopped']]);
    await host.startInstance('web', true);
    // The LXD inside came up and brought c2 back by itself; c2's file is still there.
    expect((await instances(w, 'web')).map((i) => [i.name, i.status])).toEqual([['c2', 'Running']]);
    expect((await w.level('web').readFiles('c2', ['/etc/hello.txt']))['/etc/hello.txt']).toMatchObject({ kind: 'file' });
  });
});
