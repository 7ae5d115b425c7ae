// Changing a running container's id map on real LXD: the host entry grows, the key is set after
// the daemon restart, the container restarts onto its new slice, and the next plan is empty.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, deleteInstances, labUnavailable, nestctl, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();
const SHARED = 'test/e2e/manifests/remap-shared.yaml';
const ISOLATED = 'test/e2e/manifests/remap-isolated.yaml';

describe.skipIf(why !== null)(`an id map change on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances(['rmx']);
    files = saveSubidFiles();
  });

  afterAll(async () => {
    await deleteInstances(['rmx']);
    await files?.restore();
  });

  it('starts shared: the whole host range', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, SHARED]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await uidMapOf(['rmx'])).toBe('0 500000 65536');
  });

  it('made isolated: grows the host entry, sets the key, restarts onto the first slice', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, ISOLATED]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const line of [
      '~ host: /etc/subuid and /etc/subgid → root:500000:196608',
      '~ rmx: update config',
      '~ rmx: restart (LXD applies the new id map only when rmx starts',
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(await uidMapOf(['rmx'])).toBe('0 565536 65536');
    expect((await nestctl(['plan', '--host-restart', RESTART, ISOLATED])).stdout).toContain(
      'No changes. The containers match the manifest.',
    );
  });

  it('destroy --restore-ids leaves the host as it was', async () => {
    const r = await nestctl(['destroy', '--auto-approve', '--restore-ids', '--host-restart', RESTART, ISOLATED]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const s of files!.saved) expect(readFileSync(s.path, 'utf8')).toBe(s.text);
  });
});
