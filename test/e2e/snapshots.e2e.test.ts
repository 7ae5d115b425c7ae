// A rollback on real LXD (apply --rollback-on-failure): a two-level tree applied, then a change
// whose setup fails. snc1 was snapshotted before the change; the failed apply pushed a file, and
// the rollback restores snc1 (LXD restarts it), starts snc2 again (LXD leaves it stopped after a
// restore), the pushed file is gone, and the manifest as it was plans nothing.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, ROOT, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const BEFORE = resolve(ROOT, 'test/e2e/manifests/sn-before.yaml');
// The failing change, written here: one more file in snc1 and a setup command that fails (not a
// manifest of test/e2e/manifests, which every unit round trip applies in the simulator).
const FAILING = join(mkdtempSync(join(tmpdir(), 'nestctl-snap-')), 'sn-failing.yaml');
writeFileSync(
  FAILING,
  readFileSync(BEFORE, 'utf8').replace(
    '      - {path: /etc/motd, content: "before the failed apply\\n"}\n',
    '      - {path: /etc/motd, content: "before the failed apply\\n"}\n      - {path: /etc/new.conf, content: "pushed by the failed apply\\n"}\n    setup:\n      - [sh, -c, "echo broken >&2; exit 7"]\n',
  ),
);

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(why !== null)(`a rollback on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances(['snc1']);
    files = saveSubidFiles();
  });

  afterAll(async () => {
    await deleteInstances(['snc1']);
    await files?.restore();
  });

  it('applies the tree', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, BEFORE]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('a failing change with --rollback-on-failure: snapshot, push, fail, restore', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--rollback-on-failure', '--host-restart', RESTART, FAILING]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/✔ snc1: snapshot nestctl-pre-[0-9a-f]{12}/);
    expect(r.stdout).toContain('✔ snc1: /etc/new.conf');
    expect(r.stdout).toContain('setup command 1 of 1 in snc1 failed (exit 7)');
    expect(r.stdout).toContain('Rolled back 1 container to their snapshots.');
  });

  it('leaves snc1 as it was: the pushed file gone, its own file kept, snc2 running', async () => {
    expect((await run(execIn(['snc1'], ['test', '-e', '/etc/new.conf']))).code).toBe(1);
    expect(await ok(execIn(['snc1'], ['cat', '/etc/motd']))).toBe('before the failed apply\n');
    const inside = JSON.parse(await ok(execIn(['snc1'], ['lxc', 'list', '--format', 'json']))) as Array<{ name: string; status: string }>;
    expect(inside.map((i) => [i.name, i.status])).toEqual([['snc2', 'Running']]);
    const again = await nestctl(['plan', '--host-restart', RESTART, BEFORE]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });
});
