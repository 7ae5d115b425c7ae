// The seed tree on Incus at every level, on a host that runs Incus beside LXD: the same maps as
// with LXD, an empty second plan, and destroy --restore-ids leaving the host as it was. The lab
// sets Incus up only for this suite (test/lab/setup-host.sh with NESTCTL_LAB_INCUS=1).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const MANIFEST = 'test/e2e/manifests/incus-seed.yaml';
const RESTART_INCUS = resolve(ROOT, 'test/lab/restart-incus.sh');

/** `incus exec a -- incus exec b -- … argv`. */
const incusExecIn = (path: string[], argv: string[]): string[] =>
  path.reduceRight<string[]>((inner, name) => ['incus', 'exec', name, '-T', '--', ...inner], argv);

async function uidMap(path: string[]): Promise<string> {
  const r = await run(incusExecIn(path, ['cat', '/proc/self/uid_map']));
  if (r.code !== 0) throw new Error(`reading uid_map in ${path.join('/')}: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/).join(' ');
}

describe.skipIf(why !== null)(`the seed tree on Incus${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    const setup = await run(['bash', resolve(ROOT, 'test/lab/setup-host.sh')], {
      timeoutMs: 40 * 60_000,
      env: { NESTCTL_LAB_INCUS: '1', NESTCTL_LAB_LXD: '0' },
    });
    if (setup.code !== 0) throw new Error(`Incus lab setup failed:\n${setup.stdout}\n${setup.stderr}`);
    await run(['incus', 'delete', '--force', 'ic1']);
    files = saveSubidFiles(RESTART_INCUS);
  });

  afterAll(async () => {
    await run(['incus', 'delete', '--force', 'ic1']);
    await files?.restore();
  });

  it('applies the three levels, with Incus named in the plan', async () => {
    const plan = await nestctl(['plan', '--host-restart', RESTART_INCUS, MANIFEST]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('+root:500000:196608');
    expect(plan.stdout).toMatch(/initialise Incus/);
    expect(plan.stdout).not.toMatch(/\bLXD\b|lxdbr0/);
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART_INCUS, MANIFEST]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('gives every level the classic id map', async () => {
    expect(await uidMap(['ic1'])).toBe('0 500000 196608');
    expect(await uidMap(['ic1', 'ic2'])).toBe('0 65536 131072');
    expect(await uidMap(['ic1', 'ic2', 'ic3'])).toBe('0 65536 65536');
  });

  it('has nothing left to do on a second plan', async () => {
    const r = await nestctl(['plan', '--host-restart', RESTART_INCUS, MANIFEST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No changes. The containers match the manifest.');
  });

  it('destroys the tree and restores the host ids', async () => {
    const r = await nestctl(['destroy', '--auto-approve', '--restore-ids', '--host-restart', RESTART_INCUS, MANIFEST]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect((await run(['incus', 'info', 'ic1'])).code).not.toBe(0);
    for (const s of files!.saved) expect(readFileSync(s.path, 'utf8')).toBe(s.text);
  });
});
