// nestctl import: what it writes validates, and `plan` on it changes nothing but nestctl's
// markers: after applying every example (the round trip), on a tree built by hand, and on
// random trees applied in the simulated LXD.

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { importManifest } from '../../src/core/import/index.js';
import { checkManifest } from '../../src/core/manifest/check.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { discoverTree } from '../../src/engine/discover.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { defaultWorld } from '../../src/sim/index.js';
import { ROOT, nestctl } from './helpers/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'nestctl-import-'));
const manifests = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${dir}/${f}`);
const MARKERS = ['user.nestctl.managed', 'user.nestctl.path'];
/** The remotes a manifest's hosts: name, each imported with --remote. */
function remotesOf(file: string): string[] {
  const doc = parse(readFileSync(join(ROOT, file), 'utf8')) as { hosts?: Record<string, { remote?: string }> };
  return Object.values(doc.hosts ?? {}).flatMap((h) => (h.remote ? [h.remote] : []));
}

/** What the allocator derives for each node of a manifest. */
function idsOf(text: string, file: string): Record<string, unknown> {
  const r = checkManifest(text, file);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return Object.fromEntries(
    Object.values(r.allocation.byPath).map((n) => [n.path, { need: n.need, daemon: n.daemonNeed, slice: n.slice, dockremap: n.dockremap }]),
  );
}

async function run(args: string[]): Promise<string> {
  const r = await nestctl(args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`nestctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Every step of a plan, as kind and the keys it sets or unsets. */
const steps = (plan: Plan): Array<{ kind: string; keys: string[] }> =>
  plan.steps.map((s) => {
    const step = s as { kind: string; set?: Record<string, string>; unset?: string[] };
    return { kind: step.kind, keys: [...Object.keys(step.set ?? {}), ...(step.unset ?? [])].sort() };
  });

describe('import after apply (the round trip)', () => {
  for (const m of [...manifests('examples'), ...manifests('test/e2e/manifests')]) {
    it.concurrent(`${m}: the imported manifest validates and its plan is empty`, async () => {
      const dir = tmp();
      const state = join(dir, 'state.yaml');
      const out = join(dir, 'imported.yaml');
      await run(['apply', '--state', state, '--auto-approve', '--ci', m]);
      await run(['import', '--state', state, '--out', out, ...remotesOf(m).flatMap((r) => ['--remote', r])]);
      await run(['validate', out]);
      const plan = JSON.parse(await run(['plan', '--state', state, '--json', out])) as Plan;
      expect(steps(plan)).toEqual([]);
      // nestctl made everything: nothing needs adopting.
      const text = readFileSync(out, 'utf8');
      expect(text).not.toMatch(/^\s*adopt: true/m);
      // The ids are derived from the same tree: every node needs, hands out and remaps as many.
      expect(idsOf(text, out)).toEqual(idsOf(readFileSync(join(ROOT, m), 'utf8'), m));
    });
  }
});

describe('import of a tree built by hand', () => {
  const world = 'test/unit/fixtures/worlds/hand-built.yaml';

  it('adopts every container; plan sets only the markers, apply converges', async () => {
    const dir = tmp();
    const out = join(dir, 'imported.yaml');
    const state = join(dir, 'state.yaml');
    await run(['import', '--world', world, '--out', out]);
    const doc = parse(readFileSync(out, 'utf8')) as {
      containers: Array<{ name: string; adopt?: boolean; docker?: boolean; containers?: unknown[] }>;
    };
    const all = (cs: Array<{ adopt?: boolean; containers?: unknown[] }>): Array<{ adopt?: boolean }> =>
      cs.flatMap((c) => [c, ...all((c.containers ?? []) as typeof cs)]);
    expect(all(doc.containers).map((c) => c.adopt)).toEqual([true, true, true, true]);
    expect(doc.containers.find((c) => c.name === 'd1')?.docker).toBe(true);
    const plan = JSON.parse(await run(['plan', '--world', world, '--json', out])) as Plan;
    expect(steps(plan)).toEqual(Array.from({ length: 4 }, () => ({ kind: 'update-config', keys: MARKERS })));
    await run(['apply', '--world', world, '--state', state, '--auto-approve', '--ci', out]);
    const again = await nestctl(['plan', '--state', state, '--detailed-exitcode', out]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('probes the host and each running container that can nest, once, and no other', async () => {
    const r = await nestctl(['import', '-v', '--world', world]);
    expect(r.code).toBe(0);
    const probes = r.stderr
      .split('\n')
      .flatMap((l) => /^\[([^\]]+)\] sh -c <(probe|lxc-probe)>/.exec(l)?.slice(1, 3).join(' ') ?? [])
      .sort();
    // c1/web and c1/db cannot nest; d1 can (Docker's keys), but runs no LXD, so its LXC is not read.
    expect(probes).toEqual(['c1 lxc-probe', 'c1 probe', 'd1 probe', 'host lxc-probe', 'host probe']);
  });

  it('says what it cannot express, and leaves out what it cannot manage', async () => {
    const text = await run(['import', '--world', 'test/unit/fixtures/worlds/hand-built-odd.yaml']);
    const notes = text.split('\n').filter((l) => l.trimStart().startsWith('# not expressible:'));
    expect(notes.some((l) => l.includes('priv: security.privileged'))).toBe(true);
    expect(notes.some((l) => l.includes('profile team of host was not created by nestctl'))).toBe(true);
    expect(notes.some((l) => l.includes('LXC container vault of root was not created by nestctl'))).toBe(true);
    expect(notes.some((l) => l.includes('security.idmap.size is not set'))).toBe(true);
    const doc = parse(text) as { containers: Array<{ name: string }> };
    expect(doc.containers.map((c) => c.name)).toEqual(['plain', 'iso']);
  });

  it('refuses to overwrite a file without --force', async () => {
    const dir = tmp();
    const out = join(dir, 'm.yaml');
    writeFileSync(out, 'mine\n');
    const r = await nestctl(['import', '--world', world, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exists');
    expect(readFileSync(out, 'utf8')).toBe('mine\n');
    await run(['import', '--world', world, '--out', out, '--force']);
    expect(readFileSync(out, 'utf8')).toContain('name: c1');
  });

  it('refuses a host with nothing to import', async () => {
    const r = await nestctl(['import', '--simulate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing to import');
  });
});

// Random trees, applied in the simulated LXD in-process, imported, planned again.
interface Shape {
  isolated: boolean;
  docker: boolean;
  key: string | null;
  children: Shape[];
}

const shapeAt = (depth: number): fc.Arbitrary<Shape> =>
  fc.record({
    isolated: fc.boolean(),
    docker: fc.boolean(),
    key: fc.constantFrom(null, 'limits.cpu', 'user.note'),
    children:
      depth >= 3
        ? fc.constant<Shape[]>([])
        : fc.oneof(fc.constant<Shape[]>([]), fc.array(shapeAt(depth + 1), { minLength: 1, maxLength: 3 })),
  });

function manifestText(tree: Shape[], base: number | null): string {
  const lines = ['apiVersion: nestctl/v1', ...(base === null ? [] : ['host:', `  base: ${base}`]), 'containers:'];
  const walk = (shapes: Shape[], indent: string, prefix: string): void =>
    shapes.forEach((s, i) => {
      const name = `${prefix}${i}`;
      lines.push(`${indent}- name: ${name}`, `${indent}  image: ${s.children.length > 0 ? 'nest' : 'busybox'}`);
      if (s.key) lines.push(`${indent}  config:`, `${indent}    ${s.key}: "${s.key === 'limits.cpu' ? '2' : `note ${name}`}"`);
      if (s.isolated) lines.push(`${indent}  idmap: {isolated: true}`);
      if (s.docker) lines.push(`${indent}  docker: true`);
      if (s.children.length > 0) {
        lines.push(`${indent}  containers:`);
        walk(s.children, `${indent}    `, `${name}x`);
      }
    });
  walk(tree, '  ', 'c');
  return `${lines.join('\n')}\n`;
}

const OPTIONS = { hostRestart: null, tool: 'import-test' };

describe('import of random trees', () => {
  it('plans nothing after applying them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(shapeAt(1), { minLength: 1, maxLength: 3 }),
        fc.constantFrom<number | null>(null, 500000),
        async (tree, base) => {
          const text = manifestText(tree, base);
          const loaded = loadManifest(text, 'm.yaml');
          if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
          const world = createSimWorld(
            defaultWorld([
              { alias: 'nest', hostsLxd: true },
              { alias: 'busybox', hostsLxd: false },
            ]),
          );
          const planned = await planManifest(loaded.manifest, world.host(), { ...OPTIONS, manifestText: text });
          if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
          const summary = await startApply(planned.plan, world.host()).finished;
          expect(summary.failed).toEqual([]);
          const imported = importManifest(await discoverTree(world.host()), 'a simulated world', 'i.yaml');
          const again = loadManifest(imported.text, 'i.yaml');
          if (!again.ok) throw new Error(JSON.stringify(again.diagnostics));
          const replan = await planManifest(again.manifest, world.host(), { ...OPTIONS, manifestText: imported.text });
          if (!replan.ok) throw new Error(`${imported.text}\n${JSON.stringify(replan.problems)}`);
          expect(steps(replan.plan), `${text}\n---\n${imported.text}`).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 25) },
    );
  }, 120_000);
});
