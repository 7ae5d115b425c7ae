// Profiles as resources on a real LXD host (LAB.md): a host profile attached by prf1 and a
// profile on prf1's LXD attached by the busybox inside it (test/e2e/manifests/prf-two-level.yaml);
// created and attached, then nothing more planned; a hand change (`lxc profile set`) planned as a
// diff and repaired.

import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, ROOT, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const MANIFEST = resolve(ROOT, 'test/e2e/manifests/prf-two-level.yaml');
const OUTER = 'prf1';
const INNER = 'prf2';

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(why !== null)(`profiles on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances([OUTER]); // a crashed earlier run must not decide this one
    await run(['lxc', 'profile', 'delete', 'prf-mem']);
    files = saveSubidFiles();
  });

  // Runs after failures too: the containers and the host profile go, the subid files come back.
  afterAll(async () => {
    await deleteInstances([OUTER]);
    await run(['lxc', 'profile', 'delete', 'prf-mem']);
    await files?.restore();
  });

  it('creates both profiles, each before the container that attaches it', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, MANIFEST]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const host = await ok(['lxc', 'profile', 'show', 'prf-mem']);
    expect(host).toContain('limits.memory: 1GiB');
    expect(host).toContain('user.nestctl.managed: "true"');
    expect(await ok(['lxc', 'config', 'show', '--expanded', OUTER])).toContain('limits.memory: 1GiB');
    expect(await ok(execIn([OUTER], ['lxc', 'profile', 'show', 'prf-small']))).toContain('limits.processes: "500"');
    expect(await ok(execIn([OUTER], ['lxc', 'config', 'show', '--expanded', INNER]))).toContain('limits.processes: "500"');
  });

  it('plans nothing more', async () => {
    const planned = await nestctl(['plan', '--host-restart', RESTART, MANIFEST]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('No changes.');
  });

  it('plans a hand change as a profile update with a diff, and apply puts it back', async () => {
    await ok(['lxc', 'profile', 'set', 'prf-mem', 'limits.memory', '2GiB']);
    await ok(execIn([OUTER], ['lxc', 'profile', 'set', 'prf-small', 'limits.cpu', '1']));
    const planned = await nestctl(['plan', '--host-restart', RESTART, MANIFEST]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('~ host: profile prf-mem');
    expect(planned.stdout).toContain('~ limits.memory = "2GiB" → "1GiB"');
    expect(planned.stdout).toContain(`~ ${OUTER}: profile prf-small`);
    expect(planned.stdout).toContain('- limits.cpu = "1"');
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, MANIFEST]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await ok(['lxc', 'config', 'show', '--expanded', OUTER])).toContain('limits.memory: 1GiB');
    expect(await ok(execIn([OUTER], ['lxc', 'profile', 'show', 'prf-small']))).not.toContain('limits.cpu');
    const again = await nestctl(['plan', '--host-restart', RESTART, MANIFEST]);
    expect(again.stdout).toContain('No changes.');
  });
});
