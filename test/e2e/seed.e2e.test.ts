// The classic three-level recipe, done by nestctl on a real LXD host (LAB.md).

import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGINALS, RESTART, deleteInstances, instanceExists, labUnavailable, nestctl, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();

describe.skipIf(why !== null)(`seed.yaml on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  let restored = false;

  const cleanUp = async (): Promise<void> => {
    await deleteInstances(['c1']);
    await files?.restore();
    restored = true;
  };

  beforeAll(async () => {
    await deleteInstances(['c1']); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
  });

  afterAll(async () => {
    if (!restored) await cleanUp();
  });

  it('plans every step of the recipe at every level, with the file diffs', async () => {
    const r = await nestctl(['plan', '--host-restart', RESTART, 'examples/seed.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+root:500000:196608');
    for (const s of ['c1: create from nest', 'c1/c2: create from nest', 'c1/c2/c3: create from busybox', 'c1: /etc/subuid → root:65536:131072', 'c1/c2: /etc/subuid → root:65536:65536']) {
      expect(r.stdout).toContain(s);
    }
    expect(r.stdout).toMatch(/Plan: \d+ to add, \d+ to change, 0 to destroy\./);
  });

  it('applies the three-level tree', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, 'examples/seed.yaml']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('Apply complete!');
  });

  it('gives every level the classic id map', async () => {
    expect(await uidMapOf(['c1'])).toBe('0 500000 196608');
    expect(await uidMapOf(['c1', 'c2'])).toBe('0 65536 131072');
    expect(await uidMapOf(['c1', 'c2', 'c3'])).toBe('0 65536 65536');
  });

  it('has nothing left to do on a second plan', async () => {
    const r = await nestctl(['plan', '--host-restart', RESTART, 'examples/seed.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No changes. The containers match the manifest.');
  });

  it('destroys what it created, bottom-up, and restores the host ids with --restore-ids', async () => {
    const r = await nestctl(['destroy', '--auto-approve', '--restore-ids', '--host-restart', RESTART, 'examples/seed.yaml']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const order = ['- c1/c2/c3: destroy', '- c1/c2: destroy', '- c1: destroy', '~ host: restore /etc/subuid'].map((l) => r.stdout.indexOf(l));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(await instanceExists('c1')).toBe(false);
    for (const s of files!.saved) expect(readFileSync(s.path, 'utf8')).toBe(s.text);
    for (const f of ORIGINALS) expect(existsSync(f)).toBe(false);
    const again = await nestctl(['destroy', '--auto-approve', '--host-restart', RESTART, 'examples/seed.yaml']);
    expect(again.stdout).toContain('No changes. Nothing nestctl created is left to destroy.');
  });

  it('leaves the host subid files as they were found', async () => {
    await cleanUp();
    expect(await instanceExists('c1')).toBe(false);
    for (const s of files!.saved) expect(readFileSync(s.path, 'utf8')).toBe(s.text);
  });
});
