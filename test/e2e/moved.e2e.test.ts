// A rename on real LXD (moved:): a two-level tree applied (mv1 holding mv2, with a file nestctl
// wrote inside mv2 and one written there by hand), then mv1 renamed to mvweb in the manifest. The
// plan renames it (no delete, no create), the apply stops, renames and starts it, LXD brings
// mv2 back by itself, both files are still there, and the next plan is empty.

import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan/model.js';
import { RESTART, ROOT, deleteInstances, execIn, instanceExists, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const BEFORE = resolve(ROOT, 'test/e2e/manifests/mv-before.yaml');
const AFTER = resolve(ROOT, 'test/e2e/manifests/mv-after.yaml');
const HAND = '/var/by-hand.txt';

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(why !== null)(`a rename on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances(['mv1', 'mvweb']); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
  });

  // Runs after failures too: whichever name the container has goes, the subid files come back.
  afterAll(async () => {
    await deleteInstances(['mv1', 'mvweb']);
    await files?.restore();
  });

  it('applies the tree to rename, and a file is written inside mv2 by hand', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, BEFORE]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    await ok(execIn(['mv1', 'mv2'], ['sh', '-c', `echo kept by hand > ${HAND}`]));
  });

  it('plans one rename of mv1 to mvweb: nothing deleted, nothing created', async () => {
    const r = await nestctl(['plan', '--json', '--host-restart', RESTART, AFTER]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.steps.filter((s) => s.kind === 'delete-instance' || s.kind === 'create-instance')).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual(['mvweb:rename-instance']);
    expect(plan.steps[0]).toMatchObject({ from: 'mv1', name: 'mvweb', running: true, inside: ['mvweb/mv2'], markers: ['mvweb/mv2'] });
  });

  it('renames it: its inside runs again, both files survive, the markers follow, and the next plan is empty', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, AFTER]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('mv1 → mvweb: rename');
    expect(await instanceExists('mv1')).toBe(false);
    const inside = JSON.parse(await ok(execIn(['mvweb'], ['lxc', 'list', '--format', 'json']))) as Array<{
      name: string;
      status: string;
      config: Record<string, string>;
    }>;
    expect(inside.map((i) => [i.name, i.status, i.config['user.nestctl.path']])).toEqual([['mv2', 'Running', 'mvweb/mv2']]);
    expect(await ok(['lxc', 'config', 'get', 'mvweb', 'user.nestctl.path'])).toBe('mvweb\n');
    expect(await ok(execIn(['mvweb', 'mv2'], ['cat', '/srv/kept.txt']))).toBe('written before the rename\n');
    expect(await ok(execIn(['mvweb', 'mv2'], ['cat', HAND]))).toBe('kept by hand\n');
    const again = await nestctl(['plan', '--host-restart', RESTART, AFTER]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });
});
