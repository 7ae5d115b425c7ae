// The classic three-level recipe, done by nestctl on a real LXD host (LAB.md).

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { default as addFormatsModule } from 'ajv-formats';
import type { Plan } from '../../src/core/plan/model.js';
import type { StatusDocument } from '../../src/core/status/document.js';
import { ORIGINALS, RESTART, deleteInstances, run, instanceExists, labUnavailable, nestctl, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();
/**
 * examples/seed.yaml as a user on this lab would write it: the lab host runs Incus beside LXD, so
 * the manifest names the daemon (host.flavour: debian); everything else is the example's.
 */
const SEED = join(mkdtempSync(join(tmpdir(), 'nestctl-seed-manifest-')), 'seed.yaml');
writeFileSync(SEED, readFileSync('examples/seed.yaml', 'utf8').replace(/^host:\n/m, 'host:\n  flavour: debian\n'));
/** The seed tree grown by a branch under c1/c2 that hosts a fourth level (test/unit/fixtures/seed-grown.yaml). */
const GROWN = join(mkdtempSync(join(tmpdir(), 'nestctl-seed-manifest-')), 'seed-grown.yaml');
writeFileSync(GROWN, readFileSync('test/unit/fixtures/seed-grown.yaml', 'utf8').replace(/^host:\n/m, 'host:\n  flavour: debian\n'));
const OTHER_PROJECT = 'nxseedother';
const OTHER = 'nxseedpb';

async function dropOtherProject(): Promise<void> {
  await run(['lxc', 'delete', '--force', OTHER, '--project', OTHER_PROJECT]);
  await run(['lxc', 'project', 'delete', OTHER_PROJECT]);
}

describe.skipIf(why !== null)(`seed.yaml on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  let restored = false;

  const cleanUp = async (): Promise<void> => {
    await deleteInstances(['c1']);
    await dropOtherProject();
    await files?.restore();
    restored = true;
  };

  beforeAll(async () => {
    await deleteInstances(['c1']); // a crashed earlier run must not decide this one
    await dropOtherProject();
    files = saveSubidFiles();
    // A container nestctl does not manage, in another LXD project, on the host's current range.
    for (const argv of [
      ['lxc', 'project', 'create', OTHER_PROJECT, '-c', 'features.images=false', '-c', 'features.profiles=false'],
      ['lxc', 'launch', 'busybox', OTHER, '--project', OTHER_PROJECT, '-q'],
    ]) {
      const r = await run(argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
  });

  afterAll(async () => {
    if (!restored) await cleanUp();
  });

  it('plans every step of the recipe at every level, with the file diffs', async () => {
    const r = await nestctl(['plan', '--host-restart', RESTART, SEED]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+root:500000:196608');
    for (const s of [
      'c1: create from nest',
      'c1/c2: create from nest',
      'c1/c2/c3: create from busybox',
      'c1: /etc/subuid and /etc/subgid → root:65536:131072',
      'c1/c2: /etc/subuid and /etc/subgid → root:65536:65536',
    ]) {
      expect(r.stdout).toContain(s);
    }
    expect(r.stdout).toMatch(/Plan: 3 containers to add, 0 to change, 0 to destroy \(\d+ steps\)\./);
    // The other project's container keeps its range: the old entry stays after the new one.
    expect(r.stdout).toContain(`keeping 100000:10000001 for project ${OTHER_PROJECT}/${OTHER}`);
    expect(r.stdout).toMatch(/\+root:500000:196608\n\s+root:100000:10000001/);
  });

  it('saves the plan, and a saved plan of an unchanged host is applied (not refused as stale)', async () => {
    const saved = join(mkdtempSync(join(tmpdir(), 'nestctl-seed-')), 'seed.plan.json');
    const planned = await nestctl(['plan', '--host-restart', RESTART, '--out', saved, SEED]);
    expect(planned.code, planned.stderr).toBe(0);
    // The same host observed again digests the same (the daemon's start time is an estimate here).
    const again = await nestctl(['plan', '--json', '--host-restart', RESTART, SEED]);
    expect((JSON.parse(again.stdout) as Plan).observedSha256).toBe((JSON.parse(readFileSync(saved, 'utf8')) as Plan).observedSha256);
    const r = await nestctl(['apply', saved]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('Apply complete!');
  });

  it('leaves a container of another LXD project able to restart on its range', async () => {
    const r = await run(['lxc', 'restart', OTHER, '--project', OTHER_PROJECT, '-q']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('gives every level the classic id map', async () => {
    expect(await uidMapOf(['c1'])).toBe('0 500000 196608');
    expect(await uidMapOf(['c1', 'c2'])).toBe('0 65536 131072');
    expect(await uidMapOf(['c1', 'c2', 'c3'])).toBe('0 65536 65536');
  });

  it('has nothing left to do on a second plan', async () => {
    const r = await nestctl(['plan', '--host-restart', RESTART, SEED]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No changes. The containers match the manifest.');
  });

  it('status shows the built tree: running at every level, host ids as the real maps compose, nothing plan would change', async () => {
    // Each level's /proc/self/uid_map is "0 HOSTID RANGE" in its parent's ids; composed down from the host.
    const chains = [['c1'], ['c1', 'c2'], ['c1', 'c2', 'c3']];
    const expected: Record<string, { start: number; end: number }> = {};
    let base = 0;
    for (const chain of chains) {
      const [nsid, hostid, range] = (await uidMapOf(chain)).split(' ').map(Number) as [number, number, number];
      expect(nsid).toBe(0);
      expected[chain.join('/')] = { start: base + hostid, end: base + hostid + range - 1 };
      base += hostid;
    }
    const json = await nestctl(['status', '--json', '--host-restart', RESTART, SEED]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as StatusDocument;
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    (addFormatsModule as unknown as (a: Ajv) => Ajv)(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/status.schema.json', 'utf8')));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.simulated).toBe(false);
    expect(doc.plan).toMatchObject({ ok: true, changes: false });
    for (const path of Object.keys(expected)) {
      const row = doc.containers.find((r) => r.path === path);
      expect(row, path).toBeDefined();
      expect([row!.state, row!.ownership, row!.inManifest, row!.plan?.changes, row!.plan?.summary]).toEqual([
        'RUNNING',
        'managed',
        true,
        false,
        'in sync',
      ]);
      expect(row!.hostIds.uid).toEqual(expected[path]);
      expect(Array.isArray(row!.ipv4)).toBe(true);
    }
    // The other project's container, at the host level the manifest manages, is listed as not nestctl's.
    const other = doc.containers.find((r) => r.path === OTHER && r.project === OTHER_PROJECT);
    expect([other?.inManifest, other?.ownership, other?.state]).toEqual([false, 'foreign', 'RUNNING']);
    const text = await nestctl(['status', '--host-restart', RESTART, SEED]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('In sync: plan has no changes.');
    for (const [path, ids] of Object.entries(expected))
      expect(text.stdout).toMatch(
        new RegExp(`^${path.replace(/\//g, '\\/')} +RUNNING .* ${ids.start}\\.\\.${ids.end} +managed +in sync$`, 'm'),
      );
    expect((await nestctl(['status', '--detailed-exitcode', '--host-restart', RESTART, SEED])).code).toBe(0);
  });

  it('observes the built tree the same way every time (one digest over five plans, every level)', async () => {
    const digests = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const r = await nestctl(['plan', '--json', '--host-restart', RESTART, SEED]);
      expect(r.code, r.stderr).toBe(0);
      digests.add((JSON.parse(r.stdout) as Plan).observedSha256);
    }
    expect(digests.size).toBe(1);
  });

  it('grows the running tree in place: every existing container kept and running, maps as a fresh build gives them', async () => {
    const uuid = async (chain: string[]): Promise<string> => {
      const inner = chain.slice(0, -1).flatMap((c) => ['lxc', 'exec', c, '--']);
      const r = await run([...inner, 'lxc', 'config', 'get', chain[chain.length - 1]!, 'volatile.uuid']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const kept = [['c1'], ['c1', 'c2'], ['c1', 'c2', 'c3']];
    const before = await Promise.all(kept.map(uuid));
    const planned = await nestctl(['plan', '--host-restart', RESTART, GROWN]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('~ c1: remap onto 500000:262144 (was 500000:196608; restarts c1 and everything inside it)');
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, GROWN]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // What a fresh build of the grown tree gives (the simulator's test/unit/sim-grow.test.ts agrees).
    expect(await uidMapOf(['c1'])).toBe('0 500000 262144');
    expect(await uidMapOf(['c1', 'c2'])).toBe('0 65536 196608');
    expect(await uidMapOf(['c1', 'c2', 'c3'])).toBe('0 65536 131072');
    expect(await uidMapOf(['c1', 'c2', 'c3b'])).toBe('0 65536 131072');
    expect(await uidMapOf(['c1', 'c2', 'c3b', 'c4'])).toBe('0 65536 65536');
    expect(await Promise.all(kept.map(uuid))).toEqual(before);
    const again = await nestctl(['plan', '--host-restart', RESTART, GROWN]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });

  it('destroys what it created (the outermost with one forced delete, once its whole inside is proven) and restores the host ids with --restore-ids', async () => {
    const r = await nestctl(['destroy', '--auto-approve', '--restore-ids', '--host-restart', RESTART, GROWN]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // The plan names every container that goes, level by level from the host down.
    const order = [
      '- c1: destroy',
      '~ host: restore /etc/subuid',
      '- c1/c2: destroy',
      '- c1/c2/c3: destroy',
      '- c1/c2/c3b/c4: destroy',
    ].map((l) => r.stdout.indexOf(l));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(await instanceExists('c1')).toBe(false);
    for (const s of files!.saved) expect(readFileSync(s.path, 'utf8')).toBe(s.text);
    for (const f of ORIGINALS) expect(existsSync(f)).toBe(false);
    const again = await nestctl(['destroy', '--auto-approve', '--host-restart', RESTART, GROWN]);
    expect(again.stdout).toContain('No changes. Nothing nestctl created is left to destroy.');
  });

  it('leaves the host subid files as they were found', async () => {
    await cleanUp();
    expect(await instanceExists('c1')).toBe(false);
    for (const s of files!.saved) expect(readFileSync(s.path, 'utf8')).toBe(s.text);
  });
});
