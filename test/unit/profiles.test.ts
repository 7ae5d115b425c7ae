// Profiles as resources: a level's declared profiles are created, kept as declared (drift is
// repaired), deleted when nestctl made them and the manifest drops them, planned and applied
// through the engine on the simulated LXD.

import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, describeWorldText, parseWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { profileEditArgv, profileYaml } from '../../src/adapters/lxd/commands.js';
import { lineCol } from './helpers/placed.js';

const world = () =>
  createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );

const TREE = (
  hostProfiles: string,
  c1Profiles = '[default, ci]',
  insideC2 = `
    inside:
      profiles:
        small:
          config: {limits.cpu: "1"}`,
) => `apiVersion: nestctl/v1
host:
  base: 500000
  profiles:
${hostProfiles}
containers:
  - name: c1
    image: nest
    profiles: ${c1Profiles}
    containers:
      - name: c2
        image: nest${insideC2.replace(/\n {4}/g, '\n        ')}
        containers:
          - name: c3
            image: busybox
            profiles: [default, small]
`;

const CI = `    ci:
      description: CI runners
      config:
        limits.memory: 2GiB
      devices:
        data: {type: disk, source: /srv, path: /data}`;

function manifest(text: string): Manifest {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.manifest;
}

async function plan(host: LxdLevel, text: string, mode: 'apply' | 'destroy' = 'apply'): Promise<Plan> {
  const r = await planManifest(manifest(text), host, { hostRestart: null, tool: 'test', manifestText: text, mode });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

async function problems(host: LxdLevel, text: string) {
  const r = await planManifest(manifest(text), host, { hostRestart: null, tool: 'test', manifestText: text });
  return r.ok ? [] : r.problems;
}

async function applied(host: LxdLevel, p: Plan): Promise<void> {
  const s = await startApply(p, host).finished;
  expect(s.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
}

const stepOf = (p: Plan, id: string): Step => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${p.steps.map((x) => x.id).join(', ')}`);
  return s;
};

const profileOf = async (level: LxdLevel, name: string) => (await level.profiles()).find((p) => p.name === name);

describe('profiles declared at a level', () => {
  it('creates a host profile and one at level 2, each before the child that attaches it; a second plan is empty', async () => {
    const w = world();
    const text = TREE(CI);
    const p = await plan(w.host(), text);
    expect(stepOf(p, 'host:profile:ci')).toMatchObject({
      kind: 'create-profile',
      level: '',
      profile: {
        description: 'CI runners',
        config: { 'limits.memory': '2GiB', 'user.nestctl.managed': 'true' },
        devices: { data: { type: 'disk', source: '/srv', path: '/data' } },
      },
    });
    expect(stepOf(p, 'c1/c2:profile:small')).toMatchObject({ kind: 'create-profile', level: 'c1/c2', precondition: { kind: 'level-new' } });
    expect(stepOf(p, 'c1:create-instance').dependsOn).toContain('host:profile:ci');
    expect(stepOf(p, 'c1/c2/c3:create-instance').dependsOn).toContain('c1/c2:profile:small');
    const shown = renderPlanText(p, colours(false));
    expect(shown).toContain('+ host: profile ci');
    expect(shown).toContain('+ device data: type=disk source=/srv path=/data');
    expect(shown).toMatch(/Plan: 3 containers to add, 0 to change, 0 to destroy/);
    await applied(w.host(), p);
    expect(await profileOf(w.host(), 'ci')).toMatchObject({
      description: 'CI runners',
      config: { 'limits.memory': '2GiB' },
      usedBy: ['c1'],
    });
    expect(await profileOf(w.level('c1/c2'), 'small')).toMatchObject({
      config: { 'limits.cpu': '1', 'user.nestctl.managed': 'true' },
      usedBy: ['c3'],
    });
    expect((await plan(w.host(), text)).steps).toEqual([]);
  });

  it('plans a profile changed by hand as an update with a key-level diff, repairs it, then plans nothing', async () => {
    const w = world();
    const text = TREE(CI);
    await applied(w.host(), await plan(w.host(), text));
    const live = (await profileOf(w.host(), 'ci'))!;
    await w.host().writeProfile('ci', { ...live, config: { ...live.config, 'limits.memory': '4GiB', 'limits.cpu': '2' }, devices: {} });
    const p = await plan(w.host(), text);
    expect(p.steps.map((s) => s.id)).toEqual(['host:profile:ci']);
    expect(stepOf(p, 'host:profile:ci')).toMatchObject({ kind: 'update-profile', before: { config: { 'limits.memory': '4GiB' } } });
    const shown = renderPlanText(p, colours(false));
    expect(shown).toContain('~ host: profile ci');
    expect(shown).toContain('~ limits.memory = "4GiB" → "2GiB"');
    expect(shown).toContain('- limits.cpu = "2"');
    expect(shown).toContain('+ device data: type=disk source=/srv path=/data');
    await applied(w.host(), p);
    expect((await profileOf(w.host(), 'ci'))!.config).toEqual({ 'limits.memory': '2GiB', 'user.nestctl.managed': 'true' });
    expect((await plan(w.host(), text)).steps).toEqual([]);
  });

  it('refuses as stale an update whose profile changed again after the plan', async () => {
    const w = world();
    const text = TREE(CI);
    await applied(w.host(), await plan(w.host(), text));
    const live = (await profileOf(w.host(), 'ci'))!;
    await w.host().writeProfile('ci', { ...live, config: { ...live.config, 'limits.memory': '4GiB' } });
    const p = await plan(w.host(), text);
    await w.host().writeProfile('ci', { ...live, config: { ...live.config, 'limits.memory': '8GiB' } });
    const s = await startApply(p, w.host()).finished;
    expect(s.failed.map((f) => f.error.message)).toEqual(['plan is stale: profile ci changed after the plan was made']);
    expect((await profileOf(w.host(), 'ci'))!.config['limits.memory']).toBe('8GiB');
  });

  it('deletes a profile it created once the manifest no longer declares it and nothing uses it', async () => {
    const w = world();
    await applied(w.host(), await plan(w.host(), TREE(`${CI}\n    spare:\n      config: {limits.cpu: "2"}`)));
    expect(await profileOf(w.host(), 'spare')).toBeDefined();
    const p = await plan(w.host(), TREE(CI));
    expect(p.steps.map((s) => [s.id, s.kind])).toEqual([['host:profile:spare', 'delete-profile']]);
    expect(renderPlanText(p, colours(false))).toContain('- host: profile spare');
    await applied(w.host(), p);
    expect(await profileOf(w.host(), 'spare')).toBeUndefined();
    expect((await plan(w.host(), TREE(CI))).steps).toEqual([]);
  });

  it('keeps an undeclared profile of its own that a container still uses, with a warning naming it', async () => {
    const w = world();
    await applied(w.host(), await plan(w.host(), TREE(CI)));
    const p = await plan(w.host(), TREE('    other: {}'));
    expect(p.steps.filter((s) => s.kind === 'delete-profile')).toEqual([]);
    expect(p.warnings).toContain('host: profile ci is no longer in the manifest but is kept: used by c1');
  });

  it('refuses a declared profile of the same name that nestctl did not create', async () => {
    const w = world();
    await w.host().createProfile('ci', { description: '', config: {}, devices: {} });
    const found = await problems(w.host(), TREE(CI));
    expect(found.map((d) => d.message)).toEqual(['profile ci exists in host and was not created by nestctl']);
    expect(lineCol(found[0]!)).toBe('5:5');
  });

  it('refuses a child attaching a profile its level neither has nor declares, at the child', async () => {
    const w = world();
    const found = await problems(w.host(), TREE(CI, '[default, cii]'));
    expect(found.map((d) => d.message)).toEqual([
      'c1 attaches profile cii, which host does not have and the manifest does not declare there',
    ]);
    expect(lineCol(found[0]!)).toBe('12:5');
  });

  it('destroy deletes its profiles after the containers that use them', async () => {
    const w = world();
    const text = TREE(CI);
    await applied(w.host(), await plan(w.host(), text));
    const p = await plan(w.host(), text, 'destroy');
    expect(stepOf(p, 'host:profile:ci')).toMatchObject({ kind: 'delete-profile' });
    expect(stepOf(p, 'host:profile:ci').dependsOn).toContain('c1:delete-instance');
    await applied(w.host(), p);
    expect(await profileOf(w.host(), 'ci')).toBeUndefined();
  });

  it('keeps profiles in a saved world (--state): describe → build → describe is a fixed point', async () => {
    const w = world();
    await applied(w.host(), await plan(w.host(), TREE(CI)));
    const text = describeWorldText(w.state());
    expect(text).toContain('name: ci');
    const again = createSimWorld(parseWorld(text, 'state.yaml'));
    expect(describeWorldText(again.state())).toBe(text);
    expect((await plan(again.host(), TREE(CI))).steps).toEqual([]);
  });

  it('writes a profile with `profile edit` and the whole profile as YAML on stdin, never on the command line', () => {
    expect(profileEditArgv('lxc', 'ci')).toEqual(['lxc', 'profile', 'edit', 'ci']);
    expect(profileYaml({ description: 'x', config: { 'user.note': 'a; rm -rf /' }, devices: { d: { type: 'disk', path: '/d' } } })).toBe(
      'description: x\nconfig:\n  user.note: a; rm -rf /\ndevices:\n  d:\n    type: disk\n    path: /d\n',
    );
  });
});

describe('profiles in the manifest: bad input', () => {
  const load = (profiles: string, extra = '') =>
    loadManifest(
      `apiVersion: nestctl/v1\nhost:\n  profiles:\n${profiles}\ncontainers:\n  - name: c1\n    image: busybox\n${extra}`,
      'm.yaml',
    );
  const errors = (r: ReturnType<typeof load>) =>
    r.ok ? [] : r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${lineCol(d)} ${d.message}`);

  it.each([
    ["the daemon's default", '    default: {}', '4:5 the profile "default" cannot be declared: it is the daemon\'s own (in host.profiles)'],
    [
      'the reserved prefix',
      '    nestctl-x: {}',
      '4:5 the profile name "nestctl-x" starts with "nestctl-", which is reserved for nestctl (in host.profiles)',
    ],
    [
      'a name lxc would read as an option',
      '    -x: {}',
      '4:5 invalid profile name "-x": it starts with "-", so lxc would read it as an option (in host.profiles)',
    ],
    [
      'raw.idmap in its config',
      '    ci:\n      config: {raw.idmap: "both 0 0"}',
      '5:16 config key "raw.idmap" in host.profiles.ci would change the id map behind nestctl\'s back',
    ],
    [
      'security.privileged in its config',
      '    ci:\n      config: {security.privileged: true}',
      '5:16 config key "security.privileged" in host.profiles.ci would change the id map behind nestctl\'s back',
    ],
    [
      'a device key with "="',
      '    ci:\n      devices:\n        d: {type: disk, "a=b": x}',
      '6:25 invalid key "a=b" in device d of profile ci',
    ],
    [
      'a device value over two lines',
      '    ci:\n      devices:\n        d: {type: disk, path: "/a\\nb"}',
      '6:31 the value of path in device d of profile ci has a control character or a line break',
    ],
  ])('refuses %s, at its position', (_, profiles, expected) => {
    expect(errors(load(profiles))).toEqual([expected]);
  });

  it('refuses a device without a type', () => {
    const r = load('    ci:\n      devices:\n        d: {path: /a}');
    expect(r.ok).toBe(false);
    expect(errors(r).join('\n')).toMatch(/^6:12 .*type/);
  });

  it('refuses inside: on a container that holds no containers, and says why', () => {
    const r = load('    ci: {}', '    inside:\n      profiles: {small: {}}\n');
    expect(errors(r)).toEqual(['8:5 container c1 has inside: but no containers']);
    expect(r.ok ? '' : r.diagnostics[0]!.hint).toContain('add containers: to it, or remove inside:');
  });
});
