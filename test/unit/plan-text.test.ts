// The plan people read: counts by container, folded steps, level headers that name the flavour,
// and the table of host ids first. The JSON plan keeps every step (golden plan-json files).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/core/ids/allocate.js';
import { containerHostIds } from '../../src/core/ids/host-ids.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { planCounts } from '../../src/core/plan/counts.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { planTree } from '../../src/core/plan/planner.js';
import { colours } from '../../src/render/colour.js';
import { planEntries } from '../../src/render/plan-entries.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { level, seed } from './helpers/build.js';
import { nestctl } from './helpers/cli.js';

const base = { level: '', dependsOn: [] as string[], reason: 'why', precondition: { kind: 'none' as const } };
const create = (path: string): Step => ({
  ...base,
  id: `${path}:create-instance`,
  kind: 'create-instance',
  name: path,
  path,
  image: 'nest',
  fingerprint: null,
  profiles: [],
  config: {},
});
const start = (path: string, after: string[] = []): Step => ({
  ...base,
  id: `${path}:start-instance`,
  dependsOn: after,
  kind: 'start-instance',
  name: path,
  path,
  hosting: false,
  waitBoot: false,
});
const update = (path: string): Step => ({
  ...base,
  id: `${path}:update-config`,
  kind: 'update-config',
  name: path,
  path,
  set: { 'limits.cpu': '2' },
  unset: [],
  before: {},
  profiles: null,
});
const restart = (path: string): Step => ({
  ...base,
  id: `${path}:restart-instance`,
  kind: 'restart-instance',
  name: path,
  path,
  hosting: false,
  waitBoot: false,
  keys: [],
  grow: null,
  inside: 0,
});
const del = (path: string): Step => ({ ...base, id: `${path}:delete-instance`, kind: 'delete-instance', name: path, path });
const subid = (file: 'subuid' | 'subgid', after = 'root:500000:65536\n'): Step => ({
  ...base,
  id: `host:write-subid:${file}`,
  kind: 'write-subid',
  file,
  before: 'root:100000:10000001\n',
  after,
  edit: [{ owner: 'root', entry: { start: 500000, size: 65536 }, keep: [] }],
  restore: false,
});
const levelSteps: Step[] = [
  subid('subuid'),
  subid('subgid'),
  { ...base, id: 'host:restart-daemon', kind: 'restart-daemon', command: null },
  {
    ...base,
    id: 'c1:init-daemon',
    kind: 'init-daemon',
    preseed: '',
    needs: { pool: true, bridge: true, profile: true },
    subnet: '10.77.1.1/24',
  },
  { ...base, id: 'c1:copy-image:nest', kind: 'copy-image', image: 'nest', fingerprint: null, source: '', hops: [], aliases: [] },
  { ...base, id: 'host:fetch-image', kind: 'fetch-image', remote: 'images:alpine', alias: 'alpine' },
];

describe('planCounts: containers added, changed, destroyed, and steps', () => {
  it('counts a create and the start that follows it as one container added, not a change', () => {
    expect(planCounts({ steps: [create('c1'), start('c1', ['c1:create-instance'])] })).toEqual({ add: 1, change: 0, destroy: 0, steps: 2 });
  });

  it('counts the start of a container it does not create, its config update and its remap as changes, once per container', () => {
    expect(planCounts({ steps: [start('a'), update('b'), restart('b'), update('c')] })).toEqual({
      add: 0,
      change: 3,
      destroy: 0,
      steps: 4,
    });
  });

  it('counts a half-made container deleted and created again as one destroyed and one added', () => {
    expect(planCounts({ steps: [del('c1'), create('c1'), start('c1', ['c1:create-instance']), del('c2')] })).toEqual({
      add: 1,
      change: 0,
      destroy: 2,
      steps: 4,
    });
  });

  it('counts subid writes, restarts, inits, image copies and fetches as steps only', () => {
    expect(planCounts({ steps: levelSteps })).toEqual({ add: 0, change: 0, destroy: 0, steps: 6 });
  });
});

describe('planEntries: what the plan text folds', () => {
  it('folds identical subuid and subgid edits into one entry, and keeps different ones apart', () => {
    expect(planEntries([subid('subuid'), subid('subgid')], false).map((e) => e.kind)).toEqual(['subid-pair']);
    expect(planEntries([subid('subuid'), subid('subgid', 'root:500000:65536\nalice:1:65536\n')], false).map((e) => e.kind)).toEqual([
      'step',
      'step',
    ]);
  });

  it("folds a create with its own start, not another container's start", () => {
    const entries = planEntries([create('c1'), start('c1', ['c1:create-instance']), start('c2')], false);
    expect(entries.map((e) => e.kind)).toEqual(['create-start', 'step']);
  });

  it('keeps every step on its own with --verbose', () => {
    const steps = [subid('subuid'), subid('subgid'), create('c1'), start('c1', ['c1:create-instance'])];
    expect(planEntries(steps, true)).toEqual(steps.map((step) => ({ kind: 'step', step })));
  });
});

describe('containerHostIds: each container as host ids, through every ancestor', () => {
  it('composes three levels', () => {
    const rows = containerHostIds([
      { path: '', children: [{ path: 'c1', map: { start: 500000, size: 196608 }, isolated: false }] },
      { path: 'c1', children: [{ path: 'c1/c2', map: { start: 65536, size: 131072 }, isolated: false }] },
      { path: 'c1/c2', children: [{ path: 'c1/c2/c3', map: { start: 65536, size: 65536 }, isolated: false }] },
    ]);
    expect(rows.map((r) => [r.path, r.host.start, r.host.size, r.fits])).toEqual([
      ['c1', 500000, 196608, true],
      ['c1/c2', 565536, 131072, true],
      ['c1/c2/c3', 631072, 65536, true],
    ]);
  });

  it('places isolated slices inside their level, and flags a map that runs past its parent level', () => {
    const rows = containerHostIds([
      { path: '', children: [{ path: 'ci', map: { start: 1000000, size: 327680 }, isolated: false }] },
      {
        path: 'ci',
        children: [
          { path: 'ci/a', map: { start: 131072, size: 65536 }, isolated: true },
          { path: 'ci/b', map: { start: 196608, size: 65536 }, isolated: true },
          { path: 'ci/big', map: { start: 300000, size: 65536 }, isolated: true },
        ],
      },
    ]);
    expect(rows.map((r) => [r.path, r.host.start, r.isolated, r.fits])).toEqual([
      ['ci', 1000000, false, true],
      ['ci/a', 1131072, true, true],
      ['ci/b', 1196608, true, true],
      ['ci/big', 1300000, true, false],
    ]);
  });
});

function planOf(m: Manifest): Plan {
  const a = allocate(m);
  if (!a.ok) throw new Error('allocation failed');
  const r = planTree(
    m,
    a.allocation,
    { levels: { '': { kind: 'observed', level: level('') } } },
    { hostRestart: null, tool: 'nestctl test', manifestSha256: 'x' },
  );
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

describe('renderPlanText', () => {
  const text = (p: Plan, verbose = false): string => renderPlanText(p, colours(false), { verbose });

  it('names each level flavour and how it was decided: found, named by the manifest, or assumed from its parent', () => {
    const m = seed();
    m.containers[0]!.containers[0]!.flavour = null;
    const p = planOf(m);
    expect(p.levels.map((l) => [l.path, l.flavourFrom])).toEqual([
      ['', 'observed'],
      ['c1', 'manifest'],
      ['c1/c2', 'assumed'],
    ]);
    const out = text(p);
    expect(out).toContain('\n# host (LXD, Debian package)\n');
    expect(out).toContain('\n# c1 (LXD, Debian package, new; named by the manifest)\n');
    expect(out).toContain('\n# c1/c2 (LXD, Debian package, new; assumed from its parent)\n');
  });

  it('opens with the host ids of every container, then shows the folded plan and the counts', () => {
    const out = text(planOf(seed()));
    expect(
      out.startsWith(
        'Host ids of each container:\n  c1        root = host uid 500000, 196608 ids\n  c1/c2     root = host uid 565536, 131072 ids\n  c1/c2/c3  root = host uid 631072, 65536 ids\n',
      ),
    ).toBe(true);
    expect(out).toContain('  ~ host: /etc/subuid and /etc/subgid → root:500000:196608\n');
    expect(out).toContain('  + c1: create from nest and start\n');
    expect(out).not.toContain('user.nestctl.path');
    expect(out).toContain('Plan: 3 containers to add, 0 to change, 0 to destroy (19 steps).\n');
  });

  it('lists every step and every marker key with --verbose', () => {
    const p = planOf(seed());
    const out = text(p, true);
    expect(out).toContain('  ~ host: /etc/subuid → root:500000:196608\n');
    expect(out).toContain('  ~ c1: start\n');
    expect(out).toContain('+ user.nestctl.path = "c1/c2"');
    expect(out.split('\n').filter((l) => /^ {2}[+~-] /.test(l))).toHaveLength(p.steps.length);
  });
});

describe('nestctl plan and show: -v and --json', () => {
  it('keeps every step in --json and unfolds with -v', async () => {
    const json = await nestctl(['plan', '--simulate', '--json', 'examples/seed.yaml']);
    expect(json.code, json.stderr).toBe(0);
    const steps = (JSON.parse(json.stdout) as Plan).steps;
    const verbose = await nestctl(['plan', '--simulate', '-v', 'examples/seed.yaml']);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stdout.split('\n').filter((l) => /^ {2}[+~-] /.test(l))).toHaveLength(steps.length);
    expect(verbose.stdout).toContain('+ user.nestctl.managed = "true"');
  });

  it('show -v unfolds a saved plan as plan -v does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nestctl-show-'));
    try {
      const saved = join(dir, 'seed.plan.json');
      const made = await nestctl(['plan', '--simulate', '--out', saved, 'examples/seed.yaml']);
      expect(made.code, made.stderr).toBe(0);
      const folded = await nestctl(['show', saved]);
      const verbose = await nestctl(['show', '-v', saved]);
      expect(verbose.code, verbose.stderr).toBe(0);
      expect(folded.stdout).toContain('  + c1: create from nest and start\n');
      expect(verbose.stdout).toContain('  ~ c1: start\n');
      expect(verbose.stdout).toContain('+ user.nestctl.path = "c1"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
