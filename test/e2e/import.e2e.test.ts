// From a tree built by hand to a managed one, on a real LXD host: the classic three-level recipe
// (test/lab/classic-recipe.sh: host → imp-c1 → imp-c2 → imp-c3, each nesting level with its own
// initialised LXD) plus two siblings made with lxc commands (an isolated one, a Docker-ready
// one), then `nestctl import`, a plan that only sets nestctl's markers, apply, and an empty plan.
// afterAll deletes every container and restores /etc/subuid and /etc/subgid, whatever happened.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Plan } from '../../src/core/plan/model.js';
import { RESTART, ROOT, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'nestctl-import-'));
const PREFIX = 'imp-';
const C1 = `${PREFIX}c1`;
const C2 = `${PREFIX}c2`;
const C3 = `${PREFIX}c3`;
const ISO = `${PREFIX}iso`;
const DOCK = `${PREFIX}dock`;
const DOCKER_KEYS = ['security.nesting', 'security.syscalls.intercept.mknod', 'security.syscalls.intercept.setxattr'];
const MARKERS = ['user.nestctl.managed', 'user.nestctl.path'];
const NO_CHANGES = 'No changes. The containers match the manifest.';

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Node {
  name: string;
  adopt?: boolean;
  docker?: boolean;
  idmap?: { isolated?: boolean; size?: number };
  containers?: Node[];
}

/** Every container of the manifest, depth first. */
const all = (nodes: Node[]): Node[] => nodes.flatMap((n) => [n, ...all(n.containers ?? [])]);

describe.skipIf(why !== null)(`import of a hand-built tree on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  let imported = '';

  beforeAll(async () => {
    await deleteInstances([C1, ISO, DOCK]);
    files = saveSubidFiles();
    // The recipe leaves root:500000:196608 on the host and the three levels running (--keep);
    // the files it edits are put back by afterAll.
    const recipe = await run(['bash', resolve(ROOT, 'test/lab/classic-recipe.sh'), '--keep'], {
      env: { NESTCTL_LAB_PREFIX: PREFIX },
      timeoutMs: 25 * 60_000,
    });
    if (recipe.code !== 0) throw new Error(`the classic recipe failed:\n${recipe.stdout}\n${recipe.stderr}`);
    // An isolated sibling (its slice sized, as nestctl sizes it) and a Docker-ready one.
    await must(['lxc', 'launch', '-q', 'busybox', ISO, '-c', 'security.idmap.isolated=true', '-c', 'security.idmap.size=65536']);
    await must(['lxc', 'launch', '-q', 'busybox', DOCK, ...DOCKER_KEYS.flatMap((k) => ['-c', `${k}=true`]), '-c', 'limits.cpu=1']);
  });

  afterAll(async () => {
    await deleteInstances([C1, ISO, DOCK]);
    await files?.restore();
  });

  it('imports every level: adopt: true everywhere, docker and idmap as manifest keys', async () => {
    const out = join(dir, 'imported.yaml');
    // The lab host runs Incus beside LXD: import must be told which daemon, as plan must.
    if (existsSync('/usr/bin/incus')) {
      const refused = await nestctl(['import', '--out', out]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('pass --flavour debian or incus');
      expect(existsSync(out)).toBe(false);
    }
    const r = await nestctl(['import', '--flavour', 'debian', '--out', out]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await nestctl(['validate', out])).code).toBe(0);
    const doc = parse(readFileSync(out, 'utf8')) as { host?: { base?: number }; containers: Node[] };
    // Only this test's containers: the lab host may hold others, which must not be adopted here.
    doc.containers = doc.containers.filter((c) => c.name.startsWith(PREFIX));
    imported = join(dir, 'ours.yaml');
    writeFileSync(imported, stringify(doc));
    const nodes = all(doc.containers);
    expect(nodes.map((n) => n.name).sort()).toEqual([C1, C2, C3, DOCK, ISO].sort());
    expect(nodes.every((n) => n.adopt === true)).toBe(true);
    expect(nodes.find((n) => n.name === DOCK)?.docker).toBe(true);
    expect(nodes.find((n) => n.name === ISO)?.idmap).toEqual({ isolated: true, size: 65536 });
    expect(doc.containers.find((n) => n.name === C1)?.containers?.[0]?.containers?.[0]?.name).toBe(C3);
  });

  it('plans only the markers, applies them, and then plans nothing', async () => {
    expect(imported).not.toBe('');
    const before = await uidMapOf([C1, C2]);
    const p = await nestctl(['plan', '--json', '--host-restart', RESTART, imported]);
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout) as Plan;
    const steps = plan.steps.map((s) => {
      const step = s as { kind: string; set?: Record<string, string>; unset?: string[] };
      return { kind: step.kind, keys: [...Object.keys(step.set ?? {}), ...(step.unset ?? [])].sort() };
    });
    expect(steps).toEqual(Array.from({ length: 5 }, () => ({ kind: 'update-config', keys: MARKERS })));
    const a = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, imported]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const again = await nestctl(['plan', '--host-restart', RESTART, imported]);
    expect(again.stdout).toContain(NO_CHANGES);
    // Nothing was restarted or re-mapped, and the keys set by hand are still there.
    expect(await uidMapOf([C1, C2])).toBe(before);
    expect((await must(['lxc', 'config', 'get', DOCK, 'security.syscalls.intercept.mknod'])).trim()).toBe('true');
    expect((await must(['lxc', 'config', 'get', DOCK, 'limits.cpu'])).trim()).toBe('1');
    expect((await must(execIn([C1, C2], ['lxc', 'config', 'get', C3, 'user.nestctl.path']))).trim()).toBe(`${C1}/${C2}/${C3}`);
  });
});
