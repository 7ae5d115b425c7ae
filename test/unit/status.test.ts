// nestctl status against the simulator: a fresh host (everything to create), a converged tree
// (running, in sync, the host ids viz draws), drift (a stopped container), containers the
// manifest does not name, one it names that nestctl did not make (refused, or adopted), and the
// --json document checked against schemas/status.schema.json.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { default as addFormatsModule } from 'ajv-formats';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../src/core/status/document.js';
import { ROOT, nestctl } from './helpers/cli.js';

// ajv-formats is CommonJS: under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas/status.schema.json'), 'utf8')));

const SEED = 'examples/seed.yaml';
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-status-'));
const CONVERGED = join(tmp, 'converged.yaml');

/** `status --json`, checked against the schema. */
async function statusJson(args: string[]): Promise<StatusDocument> {
  const r = await nestctl(['status', '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as StatusDocument;
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  return doc;
}

const row = (doc: StatusDocument, path: string) => {
  const found = doc.containers.find((r) => r.path === path);
  expect(found, `no row for ${path}`).toBeDefined();
  return found!;
};

interface WorldInstance {
  name: string;
  status?: string;
  image?: string;
  profiles?: string[];
  config?: Record<string, string>;
  inside?: { instances?: WorldInstance[] };
}

/** The converged world with `edit` applied to its host's instances, written to a file of its own. */
function editedWorld(name: string, edit: (host: WorldInstance[]) => void): string {
  const world = parse(readFileSync(CONVERGED, 'utf8')) as { host: { instances: WorldInstance[] } };
  edit(world.host.instances);
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, stringify(world));
  return file;
}

const at = (instances: WorldInstance[] | undefined, name: string): WorldInstance => {
  const i = instances?.find((x) => x.name === name);
  if (!i) throw new Error(`no instance ${name} in the world`);
  return i;
};

beforeAll(async () => {
  const r = await nestctl(['apply', '--simulate', '--state', CONVERGED, '--auto-approve', SEED]);
  expect(r.code, r.stderr).toBe(0);
}, 30_000);

describe('nestctl status', () => {
  it('on a fresh simulated host: every container absent, each to be created, the host level changed; exit 0, 2 with --detailed-exitcode', async () => {
    const doc = await statusJson(['--simulate', SEED]);
    expect(doc.containers.map((r) => [r.path, r.state, r.ownership, r.plan?.summary])).toEqual([
      ['c1', 'absent', null, '+ create'],
      ['c1/c2', 'absent', null, '+ create'],
      ['c1/c2/c3', 'absent', null, '+ create'],
    ]);
    expect(doc.plan).toMatchObject({ ok: true, changes: true, add: 3, change: 0, destroy: 0 });
    expect(doc.hosts).toEqual([expect.objectContaining({ name: 'local', remote: null })]);
    expect(doc.hosts[0]!.plan?.kinds).toEqual(['restart-daemon', 'write-subid']);
    const text = await nestctl(['status', '--simulate', SEED]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^c1\/c2\/c3 +absent +- +- +- +- +\+ create$/m);
    expect((await nestctl(['status', '--simulate', '--detailed-exitcode', SEED])).code).toBe(2);
  });

  it('on the tree apply converged: running, managed, in sync, with the host ids viz draws and an address on each bridge', async () => {
    const doc = await statusJson(['--state', CONVERGED, SEED]);
    expect(doc.plan).toMatchObject({ ok: true, changes: false, steps: 0 });
    const viz = (await nestctl(['viz', '--state', CONVERGED, SEED])).stdout;
    for (const path of ['c1', 'c1/c2', 'c1/c2/c3']) {
      const r = row(doc, path);
      expect([r.state, r.ownership, r.plan?.summary, r.plan?.changes, r.inManifest]).toEqual([
        'RUNNING',
        'managed',
        'in sync',
        false,
        true,
      ]);
      // viz's row for the container: "<bar>  c1/c2  565536..696607  131072 ids"
      const drawn = new RegExp(`\\s${path.replace(/\//g, '\\/')}\\s+(\\d+)\\.\\.(\\d+)\\s`).exec(viz);
      expect(drawn, `viz draws ${path}`).not.toBeNull();
      const ids = { start: Number(drawn![1]), end: Number(drawn![2]) };
      expect(r.hostIds).toEqual({ uid: ids, gid: ids });
      expect(r.ipv4).toHaveLength(1);
    }
    // Each level's bridge is its own subnet (the host's, then the one of the LXD inside).
    expect(row(doc, 'c1').ipv4![0]).toMatch(/^10\.66\.0\./);
    expect(row(doc, 'c1/c2').ipv4![0]).toMatch(/^10\.77\.1\./);
    expect(row(doc, 'c1/c2/c3').image).toEqual({ alias: 'busybox', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The same world gives the same addresses.
    expect((await statusJson(['--state', CONVERGED, SEED])).containers).toEqual(doc.containers);
    expect((await nestctl(['status', '--state', CONVERGED, '--detailed-exitcode', SEED])).code).toBe(0);
    const text = await nestctl(['status', '--state', CONVERGED, SEED]);
    expect(text.stdout).toContain('In sync: plan has no changes.');
    expect(text.stdout).toMatch(/^c1\/c2 +RUNNING +nest +10\.77\.1\.\d+ +565536\.\.696607 +managed +in sync$/m);
  });

  it('reads nothing it writes: the state file is as it was', async () => {
    const before = readFileSync(CONVERGED, 'utf8');
    await nestctl(['status', '--state', CONVERGED, SEED]);
    expect(readFileSync(CONVERGED, 'utf8')).toBe(before);
  });

  it('shows drift: a stopped leaf is STOPPED, without an address, and plan would start it', async () => {
    const world = editedWorld('stopped-leaf', (host) => {
      at(at(at(host, 'c1').inside?.instances, 'c2').inside?.instances, 'c3').status = 'Stopped';
    });
    const doc = await statusJson(['--world', world, SEED]);
    const leaf = row(doc, 'c1/c2/c3');
    expect([leaf.state, leaf.ipv4, leaf.plan?.summary, leaf.plan?.kinds]).toEqual(['STOPPED', [], '~ 1 change', ['start-instance']]);
    expect(row(doc, 'c1/c2').plan?.summary).toBe('in sync');
    expect(doc.plan).toMatchObject({ ok: true, changes: true, change: 1 });
    const text = await nestctl(['status', '--world', world, SEED]);
    expect(text.stdout).toMatch(/^c1\/c2\/c3 +STOPPED +busybox +- +631072\.\.696607 +managed +~ 1 change \(start-instance\)$/m);
    expect((await nestctl(['status', '--world', world, '--detailed-exitcode', SEED])).code).toBe(2);
  });

  it('below a stopped container nothing is known, and says why', async () => {
    const world = editedWorld('stopped-c1', (host) => {
      at(host, 'c1').status = 'Stopped';
    });
    const doc = await statusJson(['--world', world, SEED]);
    expect(doc.containers.map((r) => [r.path, r.state, r.unknownBecause])).toEqual([
      ['c1', 'STOPPED', null],
      ['c1/c2', 'unknown', 'c1 is stopped'],
      ['c1/c2/c3', 'unknown', 'c1/c2 is unknown'],
    ]);
  });

  it('lists what the manifest does not name at a level it manages: foreign, or managed and not in the manifest; plan leaves both alone', async () => {
    const world = editedWorld('strangers', (host) => {
      host.push({ name: 'stranger', image: 'busybox', status: 'Running', profiles: ['default'] });
      host.push({
        name: 'old',
        image: 'busybox',
        status: 'Stopped',
        config: { 'user.nestctl.managed': 'true', 'user.nestctl.path': 'old' },
      });
    });
    const doc = await statusJson(['--world', world, SEED]);
    expect(doc.containers.map((r) => r.path)).toEqual(['c1', 'c1/c2', 'c1/c2/c3', 'stranger', 'old']);
    const stranger = row(doc, 'stranger');
    expect([stranger.inManifest, stranger.state, stranger.ownership, stranger.plan?.summary]).toEqual([
      false,
      'RUNNING',
      'foreign',
      'left alone',
    ]);
    const old = row(doc, 'old');
    expect([old.inManifest, old.state, old.ownership, old.plan?.changes]).toEqual([false, 'STOPPED', 'managed', false]);
    expect(doc.plan).toMatchObject({ ok: true, changes: false });
    const text = (await nestctl(['status', '--world', world, SEED])).stdout;
    expect(text).toMatch(/^stranger +RUNNING .* foreign, not in manifest +left alone$/m);
    expect(text).toMatch(/^old +STOPPED .* managed, not in manifest +left alone$/m);
  });

  it('a container at a manifest path that nestctl did not make: foreign, and the refused plan is shown, not an error', async () => {
    const world = editedWorld('foreign-c1', (host) => {
      const c1 = at(host, 'c1');
      delete c1.config?.['user.nestctl.managed'];
      delete c1.config?.['user.nestctl.path'];
    });
    const doc = await statusJson(['--world', world, SEED]);
    expect([row(doc, 'c1').ownership, row(doc, 'c1').plan]).toEqual(['foreign', null]);
    expect(doc.plan.ok).toBe(false);
    if (!doc.plan.ok) expect(doc.plan.problems[0]?.summary).toBe('c1 exists and was not created by nestctl');
    const text = await nestctl(['status', '--world', world, SEED]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^c1 +RUNNING .* foreign +! plan refused$/m);
    expect(text.stderr).toContain(`${SEED}:13:5: error: c1 exists and was not created by nestctl`);
    expect((await nestctl(['status', '--world', world, '--detailed-exitcode', SEED])).code).toBe(2);

    // With adopt: true the plan takes it over.
    const adopting = join(tmp, 'adopt.yaml');
    writeFileSync(
      adopting,
      readFileSync(join(ROOT, SEED), 'utf8').replace('    image: nest         #', '    adopt: true\n    image: nest         #'),
    );
    const adopted = await statusJson(['--world', world, adopting]);
    expect(row(adopted, 'c1').ownership).toBe('adopted');
    expect(row(adopted, 'c1').plan?.kinds).toContain('update-config');
  });

  it('shows text a level gave (an image alias) made visible, and keeps it exact in --json', async () => {
    const evil = 'evil\u001b]0;pwned\u0007\u202e';
    const world = join(tmp, 'hostile-alias.yaml');
    const described = parse(readFileSync(CONVERGED, 'utf8')) as { host: { images: Array<{ aliases: string[] }> } };
    described.host.images[0]!.aliases.unshift(evil);
    writeFileSync(world, stringify(described));
    const text = await nestctl(['status', '--world', world, SEED]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('evil\\x1b]0;pwned\\x07\\u202e');
    expect(text.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    const doc = await statusJson(['--world', world, SEED]);
    expect(row(doc, 'c1').image).toMatchObject({ alias: evil });
  });

  it('--json errors are JSON diagnostics, exit 1', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    imgae: nest\n');
    const r = await nestctl(['status', '--json', '--simulate', bad]);
    expect(r.code).toBe(1);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; summary: string; range: { line: number; column: number } });
    expect(events.every((e) => e.type === 'diagnostic')).toBe(true);
    expect(events.find((e) => e.summary.includes('"imgae"'))?.range).toMatchObject({ line: 4, column: 5 });
  });

  it('classic LXC containers and a cluster: each with its state, its LXC uid map as host ids, its member', async () => {
    const lxc = join(tmp, 'lxc.yaml');
    expect((await nestctl(['apply', '--simulate', '--state', lxc, '--auto-approve', 'examples/lxc-nested.yaml'])).code).toBe(0);
    const doc = await statusJson(['--state', lxc, 'examples/lxc-nested.yaml']);
    const outer = row(doc, 'outer');
    expect([outer.runtime, outer.state, outer.ownership, outer.plan?.summary, outer.image]).toEqual([
      'lxc',
      'RUNNING',
      'managed',
      'in sync',
      { template: 'local' },
    ]);
    expect(outer.hostIds.uid).not.toBeNull();
    // Inside it, an LXC container's ids lie within its own.
    const inner = row(doc, 'outer/inner').hostIds.uid!;
    expect(inner.start).toBeGreaterThanOrEqual(outer.hostIds.uid!.start);
    expect(inner.end).toBeLessThanOrEqual(outer.hostIds.uid!.end);

    const cluster = join(tmp, 'cluster.yaml');
    expect((await nestctl(['apply', '--simulate', '--state', cluster, '--auto-approve', 'examples/cluster.yaml'])).code).toBe(0);
    const placed = await statusJson(['--state', cluster, 'examples/cluster.yaml']);
    expect(placed.containers.map((r) => [r.path, r.host, r.member, r.state, r.plan?.summary])).toEqual([
      ['web', 'labc', 'm2', 'RUNNING', 'in sync'],
      ['web/app', 'labc', null, 'RUNNING', 'in sync'],
      ['batch', 'labc', 'fast1', 'RUNNING', 'in sync'],
    ]);
    expect((await nestctl(['status', '--state', cluster, 'examples/cluster.yaml'])).stdout).toMatch(/^PATH +STATE +HOST +MEMBER +IMAGE/m);
  });

  it('a manifest of several hosts: each row names its host, a remote container’s host ids are that server’s', async () => {
    const fresh = await statusJson(['--simulate', 'examples/hosts.yaml']);
    expect(fresh.hosts.map((h) => [h.name, h.remote])).toEqual([
      ['here', null],
      ['nxr1', 'nxr1'],
    ]);
    expect(fresh.containers.map((r) => [r.path, r.host, r.state])).toEqual([
      ['c1', 'here', 'absent'],
      ['r1', 'nxr1', 'absent'],
      ['r1/r2', 'nxr1', 'absent'],
    ]);
    const state = join(tmp, 'hosts.yaml');
    expect((await nestctl(['apply', '--simulate', '--state', state, '--auto-approve', 'examples/hosts.yaml'])).code).toBe(0);
    const doc = await statusJson(['--state', state, 'examples/hosts.yaml']);
    expect(doc.containers.map((r) => [r.path, r.host, r.state, r.plan?.summary])).toEqual([
      ['c1', 'here', 'RUNNING', 'in sync'],
      ['r1', 'nxr1', 'RUNNING', 'in sync'],
      ['r1/r2', 'nxr1', 'RUNNING', 'in sync'],
    ]);
    // This machine's range starts at host.base 500000; nxr1's daemon hands out root:100000:10000001 there.
    expect(row(doc, 'c1').hostIds.uid?.start).toBe(500000);
    expect(row(doc, 'r1').hostIds.uid?.start).toBe(100000);
    expect(row(doc, 'r1/r2').hostIds.uid?.start).toBeGreaterThan(100000);
  });
});
