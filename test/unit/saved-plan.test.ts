// A saved plan is authority to act as root, so apply never runs what the file says: it decodes
// it (size, JSON, schema, version, manifest digest), plans its manifest again with the recorded
// options and runs the fresh plan only when it is identical. Every tampering below is refused,
// through the built CLI (exit 1, nothing printed on stdout, nothing run) and in-process against
// one simulated world that is then planned again to show it did not change.

import { placed } from './helpers/placed.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { parseWorld } from '../../src/sim/index.js';
import { savedManifest } from '../../src/cli/plan-file.js';
import { planWith, rederive } from '../../src/cli/planning.js';
import { TOOL } from '../../src/cli/version.js';
import { InputError, NestctlError } from '../../src/core/errors.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { decodePlan, encodePlan, MAX_PLAN_BYTES } from '../../src/core/plan/codec.js';
import { canonicalJson, sha256 } from '../../src/core/hash.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { colours } from '../../src/render/colour.js';
import { cpuMs } from './helpers/cpu-time.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const SEED = 'examples/seed.yaml';
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-saved-'));

// A Debian host with LXD initialised on the package's default-sized range: the seed tree needs
// subid edits, a daemon restart and containers at every level.
const WORLD_TEXT = `host:
  lxd: { flavour: debian, initialised: true }
  systemd: true
  subuid: "root:100000:65536\\n"
  subgid: "root:100000:65536\\n"
  images:
    - { alias: nest, lxd: { flavour: debian } }
    - { alias: busybox }
`;
const WORLD = join(tmp, 'world.yaml');
writeFileSync(WORLD, WORLD_TEXT);

function nestctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      'node',
      [CLI, ...args],
      { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1', CI: '' } },
      (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

const newWorld = (): SimWorld => createSimWorld(parseWorld(WORLD_TEXT, 'world.yaml'));

/** Plan the seed manifest in a world, as plan --world --out would. */
async function planIn(world: SimWorld): Promise<Plan> {
  const text = readFileSync(join(ROOT, SEED), 'utf8');
  const r = loadManifest(text, SEED);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const loaded = { manifest: r.manifest, text, warnings: [] };
  return planWith(
    loaded,
    { host: world.host(), simulation: { world: WORLD_TEXT } },
    { hostRestart: null, tool: TOOL, manifestText: text, simulation: { world: WORLD_TEXT } },
  );
}

/** What apply PLAN.json does with the text, against `world`: the plan it would execute. */
async function accept(text: string, world: SimWorld): Promise<Plan> {
  const r = decodePlan(text, 'p.json', TOOL);
  if (!r.ok) throw r.error;
  const loaded = await savedManifest(r.plan, 'p.json');
  return rederive(r.plan, 'p.json', loaded, { host: world.host(), simulation: r.plan.simulation });
}

type Tamper = (plan: Plan & Record<string, unknown>, text: string) => string;
const edit =
  (f: (p: Plan & Record<string, unknown>) => void): Tamper =>
  (p) => (f(p), JSON.stringify(p, null, 2));
const step = <K extends Plan['steps'][number]['kind']>(p: Plan, id: string, kind: K) => {
  const s = p.steps.find((x) => x.id === id);
  if (s?.kind !== kind) throw new Error(`no ${kind} step ${id}`);
  return s as Extract<Plan['steps'][number], { kind: K }>;
};

const TAMPERINGS: Array<[string, Tamper, string]> = [
  [
    'an edited restart argv',
    edit((p) => void (step(p, 'host:restart-daemon', 'restart-daemon').command = ['sh', '-c', 'touch /tmp/owned'])),
    'step "host:restart-daemon": command differs',
  ],
  [
    'an edited write-subid after',
    edit((p) => void (step(p, 'host:write-subid:subuid', 'write-subid').after = 'root:0:4294967295\n')),
    'step "host:write-subid:subuid": after differs',
  ],
  [
    'an edited write-subid file',
    edit((p) => void (step(p, 'host:write-subid:subuid', 'write-subid').file = 'subgid')),
    'step "host:write-subid:subuid": file differs',
  ],
  [
    'an added step',
    edit(
      (p) =>
        void p.steps.push({ ...step(p, 'c1:create-instance', 'create-instance'), id: 'evil:create-instance', name: 'evil', path: 'evil' }),
    ),
    'step "evil:create-instance" is not in a fresh plan',
  ],
  [
    'a removed step',
    edit((p) => void (p.steps = p.steps.filter((s) => s.id !== 'c1/c2/c3:create-instance'))),
    'step "c1/c2/c3:create-instance" of a fresh plan is missing from the saved plan',
  ],
  [
    'security.privileged in a create-instance config',
    edit((p) => void (step(p, 'c1:create-instance', 'create-instance').config['security.privileged'] = 'true')),
    'step "c1:create-instance": config["security.privileged"] differs',
  ],
  [
    'manifest.text changed without its sha256',
    edit((p) => void (p.manifest.text = p.manifest.text.replace('base: 500000', 'base: 100000'))),
    'manifest.sha256 is not the sha256 of manifest.text',
  ],
  [
    'manifest.text changed with a matching sha256',
    edit((p) => {
      p.manifest.text = p.manifest.text.replace('base: 500000', 'base: 600000');
      p.manifest.sha256 = sha256(p.manifest.text);
    }),
    'does not match a fresh plan of the manifest it holds: step "host:write-subid:subuid": after differs',
  ],
  ['another tool', edit((p) => void (p.tool = 'nestctl 0.0.1')), 'the plan was made by "nestctl 0.0.1", this is nestctl'],
  [
    'a missing field',
    edit((p) => void delete (p as Record<string, unknown>)['options']),
    "not a valid nestctl plan: the plan must have required property 'options'",
  ],
  [
    'a missing step field',
    edit((p) => void delete (step(p, 'host:restart-daemon', 'restart-daemon') as unknown as Record<string, unknown>)['command']),
    "steps[2] must have required property 'command'",
  ],
  [
    'a wrong type',
    edit((p) => void ((p.steps[0] as unknown as Record<string, unknown>)['dependsOn'] = 'host')),
    'steps[0].dependsOn must be array',
  ],
  ['text that is not JSON', (_, text) => text.slice(0, 200), 'error: not valid JSON'],
  ['a huge file', (_, text) => text + ' '.repeat(MAX_PLAN_BYTES), 'larger than 16 MiB'],
  [
    'an unknown mode',
    edit((p) => void ((p as Record<string, unknown>)['mode'] = 'nuke')),
    'mode must be equal to one of the allowed values',
  ],
];

let planFile: string;
let planText: string;
const tampered = (tamper: Tamper): string => tamper(JSON.parse(planText) as Plan & Record<string, unknown>, planText);

beforeAll(async () => {
  planFile = join(tmp, 'seed.plan.json');
  const r = await nestctl(['plan', '--world', WORLD, '--out', planFile, SEED]);
  expect(r.code, r.stderr).toBe(0);
  planText = readFileSync(planFile, 'utf8');
});

describe('apply PLAN.json refuses a tampered plan, running nothing', () => {
  it.each(TAMPERINGS)('%s (CLI: exit 1, nothing on stdout)', async (name, tamper, message) => {
    const file = join(tmp, `${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, tampered(tamper));
    const r = await nestctl(['apply', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toBe('');
  });

  it.each(TAMPERINGS)('%s (in-process: refused, and the world is as it was)', async (_name, tamper, message) => {
    const world = newWorld();
    const before = await planIn(world);
    const refusal = await accept(tampered(tamper), world).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(NestctlError);
    const text =
      (refusal as NestctlError & { diagnostics?: Array<{ message: string }> }).diagnostics?.map((d) => d.message).join('\n') ??
      (refusal as Error).message;
    expect(`${text}`).toContain(message.replace(/^error: /, ''));
    expect(canonicalJson(await planIn(world))).toBe(canonicalJson(before));
  });

  it('the untampered plan round-trips: apply runs it and the simulation converges', async () => {
    const r = await nestctl(['apply', planFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Apply complete! Steps: 19 done');
    expect(r.stdout).toContain('Converged');
    // In-process: the same plan, applied to one world, leaves nothing to do there.
    const world = newWorld();
    const fresh = await accept(planText, world);
    expect(canonicalJson(fresh)).toBe(canonicalJson(JSON.parse(planText)));
    const summary = await startApply(fresh, world.host()).finished;
    expect(summary.failed).toEqual([]);
    expect((await planIn(world)).steps).toEqual([]);
  });

  it('a saved plan records the options it was planned with, and is planned again with them', async () => {
    expect(JSON.parse(planText).options).toEqual({ prune: false, restoreIds: false, hostRestart: null });
    const file = join(tmp, 'options.plan.json');
    const planned = await nestctl([
      'plan',
      '--world',
      WORLD,
      '--target',
      'c1/c2',
      '--prune',
      '--host-restart',
      'systemctl reload-or-restart lxd',
      '--out',
      file,
      SEED,
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Plan;
    expect(saved.target).toBe('c1/c2');
    expect(saved.options).toEqual({ prune: true, restoreIds: false, hostRestart: ['systemctl', 'reload-or-restart', 'lxd'] });
    const applied = await nestctl(['apply', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete!');
    // The recorded option alone, edited: planning again restarts differently than the saved step.
    saved.options.hostRestart = ['sh', '-c', 'touch /tmp/owned'];
    writeFileSync(file, JSON.stringify(saved));
    const refused = await nestctl(['apply', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('step "host:restart-daemon": command[0] differs');
  });
});

describe('a saved plan runs only against the LXD it was made for', () => {
  it('--simulate, --world or --state with a plan made for the real host is refused before any host is looked at', async () => {
    const file = join(tmp, 'real.plan.json');
    writeFileSync(file, tampered(edit((p) => void (p.simulation = null))));
    for (const flags of [['--simulate'], ['--world', WORLD], ['--state', join(tmp, 'never-written.yaml')]]) {
      const r = await nestctl(['apply', ...flags, file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('was made for the real host; --simulate, --world and --state do not apply to it');
      expect(r.stderr).toContain('apply it without --simulate, or plan again with --simulate');
      expect(r.stdout).toBe('');
    }
  });

  it('--host-restart, --prune or --target with a saved plan is refused: the plan records them', async () => {
    const r = await nestctl(['apply', '--host-restart', 'sh -c true', planFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--host-restart cannot be given with a saved plan');
    expect((await nestctl(['apply', '--prune', planFile])).stderr).toContain('--prune cannot be given with a saved plan');
  });
});

describe('commands that take a manifest say when they are given a saved plan', () => {
  it.each([['plan'], ['validate'], ['viz'], ['destroy']])('%s PLAN.json', async (command) => {
    const r = await nestctl([command, planFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${planFile} is a saved plan, not a manifest`);
    expect(r.stderr).toContain(`use nestctl apply ${planFile} or nestctl show ${planFile}`);
    expect(r.stderr).not.toContain('unknown key');
  });

  it('show of something that is not a plan is a clear error', async () => {
    const r = await nestctl(['show', SEED]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${SEED} is not a saved plan`);
  });
});

describe('show renders what a step carries', () => {
  it('a write-subid step with after text shows it as a diff even for a level that does not exist yet', () => {
    const plan = JSON.parse(planText) as Plan;
    const s = step(plan, 'c1:write-subid:subuid', 'write-subid');
    expect(s.before).toBeNull();
    s.after = 'root:65536:131072\n';
    const text = renderPlanText(plan, colours(false));
    const block = text.slice(text.indexOf('~ c1: /etc/subuid'), text.indexOf('~ c1: /etc/subgid'));
    expect(block).toContain('+++ /etc/subuid');
    expect(block).toContain('+root:65536:131072');
    expect(block).not.toContain('known after apply');
  });
});

// ---------------------------------------------------------------------------------------------
// Random tampering: any change at any JSON path is refused, or changes nothing apply would run.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(v: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const here = at.length > 0 ? [at] : [];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [...here, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return here;
}

type Mutation = { kind: 'delete' } | { kind: 'replace'; value: Json } | { kind: 'append'; text: string } | { kind: 'duplicate' };

function mutate(root: Json, path: Array<string | number>, m: Mutation): void {
  let parent = root as Record<string | number, Json>;
  for (const seg of path.slice(0, -1)) parent = parent[seg] as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  const value = parent[key] as Json;
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (m.kind === 'replace') parent[key] = m.value;
  else if (m.kind === 'append') parent[key] = typeof value === 'string' ? value + m.text : m.text;
  else if (Array.isArray(value) && value.length > 0) value.push(structuredClone(value[0]!));
  else parent[key] = [value];
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'delete' }),
  fc.jsonValue({ maxDepth: 2 }).map<Mutation>((value) => ({ kind: 'replace', value: value as Json })),
  fc.constantFrom('x', ' ', '\n', ';rm -rf /', '0').map<Mutation>((text) => ({ kind: 'append', text })),
  fc.constant<Mutation>({ kind: 'duplicate' }),
);

describe('property: a randomly mutated saved plan', () => {
  it('is refused with a NestctlError, or what apply would run is exactly the unmutated plan', async () => {
    const world = newWorld();
    const base = await planIn(world);
    const all = paths(JSON.parse(encodePlan(base)) as Json);
    await fc.assert(
      fc.asyncProperty(fc.nat(all.length - 1), mutation, async (i, m) => {
        const data = JSON.parse(encodePlan(base)) as Json;
        mutate(data, all[i]!, m);
        const outcome = await accept(JSON.stringify(data, null, 2), world).then(
          (plan) => ({ plan }),
          (e: unknown) => ({ e }),
        );
        if ('e' in outcome) {
          expect(outcome.e).toBeInstanceOf(NestctlError);
          return;
        }
        expect(canonicalJson(outcome.plan.steps)).toBe(canonicalJson(base.steps));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
  });
});

describe('fuzz: the saved-plan reader on raw text', () => {
  it('answers any text with a plan or a positioned NestctlError, never a throw, in bounded time', async () => {
    const text = encodePlan(await planIn(newWorld()));
    const raw = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.nat(text.length).map((n) => text.slice(0, n)), // cut short anywhere
      fc
        .tuple(fc.nat(text.length - 1), fc.string({ minLength: 1, maxLength: 3 }))
        .map(([i, s]) => text.slice(0, i) + s + text.slice(i + 1)), // bytes changed
    );
    fc.assert(
      fc.property(raw, (input) => {
        const { value: r, ms } = cpuMs(() => decodePlan(input, 'p.json', TOOL));
        expect(ms).toBeLessThan(1000);
        if (r.ok) return;
        expect(r.error).toBeInstanceOf(NestctlError);
        if (r.error instanceof InputError) {
          for (const d of r.error.diagnostics)
            expect(d.where).toMatchObject({ kind: 'source', file: 'p.json', line: expect.any(Number), column: expect.any(Number) });
          expect(r.error.diagnostics.every((d) => placed(d).line >= 1 && placed(d).column >= 1)).toBe(true);
        } else expect(r.error.message).toMatch(/^p\.json: /);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });
});
