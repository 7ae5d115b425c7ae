// Copies on real LXD (copy_of:): the clone chain at the host and inside a nesting container, and
// a copy of that nesting container with everything inside it, in one apply (the nesting copy in
// its second round, once its source runs). Each copy has its source's files and its own, what
// ran in the source is not run again, the nesting copy's containers run in its own ids, no
// snapshot is left behind, and the next plan is empty.

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan/model.js';
import { RESTART, ROOT, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();
const TREE = resolve(ROOT, 'test/e2e/manifests/cp-tree.yaml');
const NAMES = ['cpbase', 'cpweb', 'cpsite', 'cplab1', 'cplab2'];

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
interface Listed {
  name: string;
  status: string;
  config: Record<string, string>;
  snapshots: unknown[] | null;
}
const listed = async (path: string[]): Promise<Listed[]> =>
  JSON.parse(await ok(path.length ? execIn(path, ['lxc', 'list', '--format', 'json']) : ['lxc', 'list', '--format', 'json'])) as Listed[];

describe.skipIf(why !== null)(`copies on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances(NAMES); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
  });

  afterAll(async () => {
    await deleteInstances(NAMES);
    await files?.restore();
  });

  it('plans the chains as copies, and the nesting copy for once its source runs', async () => {
    const r = await nestctl(['plan', '--json', '--host-restart', RESTART, TREE]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    const copies = plan.steps.filter((s) => s.kind === 'copy-instance').map((s) => s.id);
    expect(copies).toEqual(['cpweb:copy-instance', 'cpsite:copy-instance', 'cplab1/web:copy-instance']);
    expect(plan.deferred).toEqual([{ path: 'cplab2', source: 'cplab1' }]);
  });

  it('applies the whole tree in one apply, the nesting copy last', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, TREE], 30 * 60_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('Now that their sources run, copying cplab2 (a copy of cplab1):');
  });

  it('each copy has its files, and what ran in its source is not run again', async () => {
    for (const name of ['cpbase', 'cpweb', 'cpsite'])
      expect(await ok(execIn([name], ['cat', '/etc/motd']))).toBe('provisioned in cpbase\n');
    for (const name of ['cpweb', 'cpsite']) expect(await ok(execIn([name], ['cat', '/etc/role']))).toBe('web\n');
    expect((await run(execIn(['cpsite'], ['test', '-e', '/root/base-ready']))).code).toBe(0);
    for (const lab of ['cplab1', 'cplab2']) {
      expect(await ok(execIn([lab, 'web'], ['cat', '/etc/motd']))).toBe('provisioned in cplab1/base\n');
      expect(await ok(execIn([lab, 'web'], ['cat', '/etc/role']))).toBe('web inside\n');
    }
    // No snapshot is left on a source.
    for (const i of (await listed([])).filter((i) => NAMES.includes(i.name))) expect(i.snapshots ?? []).toEqual([]);
  });

  it("the nesting copy's containers run, with its markers, in its own slice of the host's ids", async () => {
    expect((await listed(['cplab2'])).map((i) => [i.name, i.status, i.config['user.nestctl.path']])).toEqual([
      ['base', 'Running', 'cplab2/base'],
      ['web', 'Running', 'cplab2/web'],
    ]);
    const lab1 = await uidMapOf(['cplab1']);
    const lab2 = await uidMapOf(['cplab2']);
    expect(lab2).not.toBe(lab1);
    // Inside, both labs hand out the same ids of their own: the copy's children map into the copy's slice.
    for (const inner of ['base', 'web']) expect(await uidMapOf(['cplab2', inner])).toBe(await uidMapOf(['cplab1', inner]));
    const [, hostid, size] = lab2.split(' ').map(Number) as [number, number, number];
    const [, innerHost, innerSize] = (await uidMapOf(['cplab2', 'web'])).split(' ').map(Number) as [number, number, number];
    expect(innerHost + innerSize).toBeLessThanOrEqual(size);
    // On the host's disk, the copy's files belong to the copy's own ids: LXD shifted them from its
    // source's slice at its first start, down to the containers inside it.
    const pool = '/var/lib/lxd/storage-pools/default/containers';
    const role = `${pool}/cplab2/rootfs/var/lib/lxd/storage-pools/default/containers/web/rootfs/etc/role`;
    expect(statSync(role).uid).toBe(hostid + innerHost);
    expect(statSync(`${pool}/cplab2/rootfs/etc/hostname`).uid).toBe(hostid);
  });

  it('the next plan is empty', async () => {
    const again = await nestctl(['plan', '--host-restart', RESTART, TREE]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });
});
