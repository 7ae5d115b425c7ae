// docker.userns_remap: Docker's dockremap range planned as a level's subordinate ids, daemon.json
// written, Docker restarted, all converging on the simulator.

import { describe, expect, it } from 'vitest';
import { type SimWorld, createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { WRITE_SUBID_SCRIPT } from '../../src/adapters/lxd/write-subid-script.js';
import { allocate } from '../../src/core/ids/allocate.js';
import { containerHostIds } from '../../src/core/ids/host-ids.js';
import { overlaps } from '../../src/core/ids/range.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { decodePlan } from '../../src/core/plan/codec.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { planCounts } from '../../src/core/plan/counts.js';
import { refuseSubidText } from '../../src/core/subid/check-text.js';
import { applySubidEdit, entryLines } from '../../src/core/subid/file.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { renderViz } from '../../src/render/viz.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { lineCol } from './helpers/placed.js';

const IMAGES = [
  { alias: 'nest', hostsLxd: true },
  { alias: 'busybox', hostsLxd: false },
];

/** ci runs an LXD (runner inside) and remaps Docker; dkr is a leaf that remaps Docker with 131072 ids. */
const TREE = (dkr = '{ userns_remap: { size: 131072 } }'): string =>
  [
    'apiVersion: nestctl/v1',
    'host:',
    '  base: 400000',
    'containers:',
    '  - name: ci',
    '    image: nest',
    '    docker: { userns_remap: true }',
    '    containers:',
    '      - name: runner',
    '        image: busybox',
    '  - name: dkr',
    '    image: busybox',
    `    docker: ${dkr}`,
    '    setup: [[apt-get, install, -y, docker.io]]',
    '',
  ].join('\n');

function load(text: string): { manifest: Manifest; text: string } {
  const r = loadManifest(text, 'remap.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

async function plan(host: LxdLevel, text: string): Promise<Plan> {
  const m = load(text);
  const r = await planManifest(m.manifest, host, { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

async function apply(host: LxdLevel, p: Plan): Promise<void> {
  const summary = await startApply(p, host).finished;
  expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}

const step = <K extends Step['kind']>(p: Plan, id: string): Extract<Step, { kind: K }> => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${p.steps.map((x) => x.id).join(', ')}`);
  return s as Extract<Step, { kind: K }>;
};

const world = (): SimWorld => createSimWorld(defaultWorld(IMAGES));

describe('docker.userns_remap: the manifest', () => {
  it('reads true, a size, and {} (= docker: true without remapping)', () => {
    const m = load(TREE()).manifest;
    expect(m.containers.map((c) => [c.path, c.docker, c.dockerRemap])).toEqual([
      ['ci', true, 65536],
      ['dkr', true, 131072],
    ]);
    expect(load(TREE('{}')).manifest.containers[1]).toMatchObject({ docker: true, dockerRemap: null });
  });

  it('refuses a files: entry for /etc/docker/daemon.json, at its path', () => {
    const text = TREE().replace(
      '    setup: [[apt-get, install, -y, docker.io]]\n',
      '    files:\n      - { path: /etc/docker/daemon.json, content: "{}" }\n',
    );
    const r = loadManifest(text, 'remap.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => [lineCol(d), d.message])).toEqual([
      ['15:17', '/etc/docker/daemon.json in container dkr: nestctl writes it for docker.userns_remap'],
    ]);
    expect(r.diagnostics[0]!.hint).toContain('remove this files: entry');
  });

  it('refuses a size below 65536', () => {
    const r = loadManifest(TREE('{ userns_remap: { size: 1000 } }'), 'remap.yaml');
    expect(r.ok ? [] : r.diagnostics.map((d) => d.message)).toEqual([
      '"docker.userns_remap.size" in container dkr must be at least 65536, not 1000',
    ]);
  });
});

describe('docker.userns_remap: allocation', () => {
  it("adds dockremap to the container, after root's own ids and its children's range, without overlap", () => {
    const a = allocate(load(TREE()).manifest);
    if (!a.ok) throw new Error('allocation failed');
    const { ci, dkr } = a.allocation.byPath as Record<string, NonNullable<(typeof a.allocation.byPath)[string]>>;
    // ci: root 0..65535, its LXD's range 65536..131071 (runner), dockremap 131072..196607.
    expect([ci!.need, ci!.daemonNeed, ci!.dockremap]).toEqual([196608, 65536, { start: 131072, size: 65536 }]);
    expect(overlaps(ci!.dockremap!, { start: 65536, size: ci!.daemonNeed })).toBe(false);
    // dkr, a leaf: root 0..65535, dockremap right after it.
    expect([dkr!.need, dkr!.daemonNeed, dkr!.dockremap]).toEqual([65536 + 131072, 0, { start: 65536, size: 131072 }]);
    // The host hands out what the largest container needs.
    expect(a.allocation.hostNeed).toBe(196608);
  });

  it('shows the dockremap range as host ids, in the id table and in viz', async () => {
    const p = await plan(world().host(), TREE());
    const rows = containerHostIds(p.levels);
    expect(rows.map((r) => [r.path, r.host, r.dockremap])).toEqual([
      ['ci', { start: 400000, size: 196608 }, { start: 531072, size: 65536 }],
      ['ci/runner', { start: 465536, size: 65536 }, null],
      ['dkr', { start: 400000, size: 196608 }, { start: 465536, size: 131072 }],
    ]);
    expect(renderPlanText(p, colours(false))).toContain(
      "dkr        root = host uid 400000, 196608 ids; Docker's dockremap = host uid 465536, 131072 ids",
    );
    expect(renderViz(p, colours(false))).toMatch(/▚+·*  ci: Docker's dockremap\s+531072\.\.596607  65536 ids/);
  });
});

describe('docker.userns_remap: the plan', () => {
  it("writes each subid file once per level, with root's and dockremap's entries, other owners kept", async () => {
    const w = world();
    // The tree without remapping first: ci's level exists, with a line of another owner.
    await apply(w.host(), await plan(w.host(), TREE('true').replace('    docker: { userns_remap: true }\n', '    docker: true\n')));
    w.editFile('ci', '/etc/subuid', `${w.file('ci', '/etc/subuid')}alice:300000:65536\n`);
    const p = await plan(w.host(), TREE());
    const writes = p.steps.filter((s) => s.kind === 'write-subid' && s.level === 'ci');
    expect(writes.map((s) => s.id)).toEqual(['ci:write-subid:subuid', 'ci:write-subid:subgid']);
    const uid = step<'write-subid'>(p, 'ci:write-subid:subuid');
    expect(entryLines(uid.edit)).toEqual(['root:65536:65536', 'dockremap:131072:65536']);
    expect(uid.after).toBe('root:65536:65536\nalice:300000:65536\ndockremap:131072:65536\n');
    expect(uid.reason).toBe(
      'ci has no dockremap entry (Docker would add one of its own, maybe outside the map); docker.userns_remap needs dockremap:131072:65536',
    );
    // The leaf dkr is a level of its own for the write, and runs no LXD: no restart, no init there.
    expect(p.steps.filter((s) => s.level === 'dkr').map((s) => s.id)).toEqual(['dkr:write-subid:subuid', 'dkr:write-subid:subgid']);
    expect(p.levels.map((l) => l.path)).not.toContain('dkr');
  });

  it('pushes daemon.json and restarts Docker after it and the subid writes, before the setup commands', async () => {
    const p = await plan(world().host(), TREE());
    const json = step<'push-file'>(p, 'dkr:push-file:/etc/docker/daemon.json');
    expect(JSON.parse(Buffer.from(json.data, 'base64').toString('utf8'))).toEqual({ 'userns-remap': 'default' });
    expect(json.reason).toContain('nestctl writes it for docker.userns_remap');
    const restart = step<'restart-service'>(p, 'dkr:restart-service:docker');
    expect(restart).toMatchObject({ level: '', name: 'dkr', path: 'dkr', service: 'docker', argv: ['systemctl', 'restart', 'docker'] });
    expect(restart.dependsOn).toEqual(expect.arrayContaining([json.id, 'dkr:write-subid:subuid', 'dkr:write-subid:subgid']));
    // The setup commands find Docker remapped.
    expect(step<'run-setup'>(p, 'dkr:run-setup').dependsOn).toEqual(
      expect.arrayContaining([restart.id, 'dkr:write-subid:subuid', 'dkr:write-subid:subgid']),
    );
    expect(step<'restart-service'>(p, 'ci:restart-service:docker').dependsOn).toEqual(
      expect.arrayContaining(['ci:push-file:/etc/docker/daemon.json', 'ci:write-subid:subuid']),
    );
    expect(renderPlanText(p, colours(false))).toContain('  ~ dkr: restart docker\n');
    // A step, not a container change: the two containers are added, nothing else counted.
    expect(planCounts(p)).toMatchObject({ add: 3, change: 0 });
    // The plan file carries the new step and the owner list through its schema.
    expect(decodePlan(JSON.stringify(p), 'plan.json', p.tool)).toMatchObject({ ok: true });
  });

  it('applies on the simulator: the entries are written, Docker restarted, and a second plan is empty', async () => {
    const w = world();
    await apply(w.host(), await plan(w.host(), TREE()));
    expect(w.file('dkr', '/etc/subuid')).toContain('dockremap:65536:131072\n');
    expect(w.file('ci', '/etc/subgid')).toBe('root:65536:65536\ndockremap:131072:65536\n');
    expect(w.commands('dkr')).toContainEqual(['systemctl', 'restart', 'docker']);
    expect((await plan(w.host(), TREE())).steps).toEqual([]);
  });

  it('plans a changed size again: new subid text and a restart, nothing else', async () => {
    const w = world();
    await apply(w.host(), await plan(w.host(), TREE()));
    const p = await plan(w.host(), TREE('{ userns_remap: true }'));
    expect(p.steps.map((s) => s.id)).toEqual(['dkr:write-subid:subuid', 'dkr:write-subid:subgid', 'dkr:restart-service:docker']);
    expect(step<'write-subid'>(p, 'dkr:write-subid:subuid').after).toBe('dockremap:65536:65536\n');
    await apply(w.host(), p);
    expect((await plan(w.host(), TREE('{ userns_remap: true }'))).steps).toEqual([]);
  });

  it('repairs a hand edit of daemon.json and restarts Docker', async () => {
    const w = world();
    await apply(w.host(), await plan(w.host(), TREE()));
    w.editFile('dkr', '/etc/docker/daemon.json', '{}\n');
    const p = await plan(w.host(), TREE());
    expect(p.steps.map((s) => s.id)).toEqual(['dkr:push-file:/etc/docker/daemon.json', 'dkr:restart-service:docker']);
  });

  it('refuses userns_remap in a container whose LXD is the snap, at the container', async () => {
    const text = TREE().replace('    image: nest\n', '    image: nest\n    flavour: snap\n');
    const m = load(text);
    const r = await planManifest(m.manifest, world().host(), { hostRestart: null, tool: 'test', manifestText: m.text });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((d) => [lineCol(d), d.message])).toEqual([
      [
        '5:5',
        "ci remaps Docker (docker.userns_remap), but its LXD (snap) hands its containers every id from 100000 up, so dockremap's range would overlap them",
      ],
    ]);
  });
});

describe('the subid writers refuse a text without every planned entry', () => {
  const edit = [
    { owner: 'root', entry: { start: 65536, size: 65536 }, keep: [] },
    { owner: 'dockremap', entry: { start: 131072, size: 65536 }, keep: [] },
  ];

  it("accepts the text the edit gives and refuses one that lost dockremap's line (core check)", () => {
    const text = applySubidEdit('alice:300000:65536\n', edit);
    expect(refuseSubidText('/etc/subuid', null, text, entryLines(edit), false)).toBeNull();
    expect(refuseSubidText('/etc/subuid', null, 'root:65536:65536\n', entryLines(edit), false)).toBe(
      'refusing the new /etc/subuid: it lacks the planned entry dockremap:131072:65536',
    );
  });

  it("checks the kept ranges too: a text that lost root's LXC slice or an LXC user's line is refused", () => {
    const lxc = [
      { owner: 'root', entry: { start: 65536, size: 65536 }, keep: [{ start: 196608, size: 65536 }] },
      { owner: 'alice', entry: { start: 262144, size: 65536 }, keep: [] },
    ];
    expect(entryLines(lxc)).toEqual(['root:65536:65536', 'root:196608:65536', 'alice:262144:65536']);
    const text = applySubidEdit(null, lxc);
    expect(refuseSubidText('/etc/subuid', null, text, entryLines(lxc), false)).toBeNull();
    expect(refuseSubidText('/etc/subuid', null, text.replace('root:196608:65536\n', ''), entryLines(lxc), false)).toBe(
      'refusing the new /etc/subuid: it lacks the planned entry root:196608:65536',
    );
  });

  it('the script checks each line of its entry argument', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-remap-'));
    const file = join(dir, 'subuid');
    writeFileSync(file, '');
    const run = (text: string): Promise<{ code: number; stderr: string }> =>
      new Promise((ok) => {
        const child = spawn('sh', [
          '-c',
          WRITE_SUBID_SCRIPT,
          'nestctl-write-subid',
          file,
          'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'keep',
          entryLines(edit).join('\n'),
          join(dir, 'state'),
        ]);
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdin.end(text);
        child.on('exit', (code) => ok({ code: code ?? -1, stderr }));
      });
    const refused = await run('root:65536:65536\n');
    expect([refused.code, refused.stderr.trim()]).toEqual([
      5,
      `refusing the new ${file}: it lacks the planned entry dockremap:131072:65536`,
    ]);
    expect((await run('root:65536:65536\ndockremap:131072:65536\n')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('root:65536:65536\ndockremap:131072:65536\n');
  });
});
