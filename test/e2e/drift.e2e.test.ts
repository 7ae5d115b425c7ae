// Trees that change, on a real LXD host: hand-set config drift at level 2 is planned and removed,
// an image change at a leaf is a replacement apply carries out, an orphan is named in every plan,
// an existing container nestctl did not create is refused unless adopted, and each second plan is
// empty. One tree is built in beforeAll; afterAll deletes it and restores the subid files.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'nestctl-drift-'));
const ADOPTEE = 'drfadopt';

function manifest(name: string, leafImage: string, extra = '', withOld = false): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `${[
      'apiVersion: nestctl/v1',
      'host: { flavour: debian, base: 500000 }',
      'containers:',
      '  - name: drf1',
      '    image: nest',
      '    containers:',
      '      - name: drf2',
      `        image: ${leafImage}`,
      ...(withOld ? ['      - name: drfold', '        image: busybox'] : []),
      extra,
    ].join('\n')}\n`,
  );
  return file;
}

const plan = (file: string, ...more: string[]) => nestctl(['plan', '--host-restart', RESTART, ...more, file]);
const apply = (file: string) => nestctl(['apply', '--auto-approve', '--host-restart', RESTART, file]);
const NO_CHANGES = 'No changes. The containers match the manifest.';

async function baseImageOf(path: string[], name: string): Promise<string> {
  const r = await run(execIn(path, ['lxc', 'config', 'get', name, 'volatile.base_image']));
  return r.stdout.trim();
}

async function fingerprintIn(path: string[], alias: string): Promise<string> {
  const r = await run(execIn(path, ['lxc', 'image', 'info', alias]));
  return /Fingerprint: ([0-9a-f]+)/.exec(r.stdout)?.[1] ?? '';
}

describe.skipIf(why !== null)(`trees that change on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  const BASE = manifest('base', 'busybox', '', true);

  beforeAll(async () => {
    await deleteInstances(['drf1', ADOPTEE]);
    files = saveSubidFiles();
    const r = await apply(BASE);
    if (r.code !== 0) throw new Error(`building the tree failed:\n${r.stdout}\n${r.stderr}`);
  });

  afterAll(async () => {
    await deleteInstances(['drf1', ADOPTEE]);
    await files?.restore();
  });

  it('plans a hand-set key at level 2 as drift and removes it; the second plan is empty', async () => {
    const set = await run(execIn(['drf1'], ['lxc', 'config', 'set', 'drf2', 'limits.cpu', '1']));
    expect(set.code).toBe(0);
    const p = await plan(BASE);
    expect(p.stdout).toContain('~ drf1/drf2: update config');
    expect(p.stdout).toContain('~ limits.cpu = "1" → (unset)');
    expect((await apply(BASE)).code).toBe(0);
    const get = await run(execIn(['drf1'], ['lxc', 'config', 'get', 'drf2', 'limits.cpu']));
    expect(get.stdout.trim()).toBe('');
    expect((await plan(BASE)).stdout).toContain(NO_CHANGES);
  });

  it('names an orphan in every plan, and --prune deletes it', async () => {
    const WITHOUT_OLD = manifest('without-old', 'busybox');
    const p = await plan(WITHOUT_OLD);
    expect(p.stdout).toContain('drf1/drfold: in no manifest any more; --prune to delete');
    const pruned = await nestctl(['apply', '--auto-approve', '--prune', '--host-restart', RESTART, WITHOUT_OLD]);
    expect(pruned.code).toBe(0);
    const second = await plan(WITHOUT_OLD);
    expect(second.stdout).toContain(NO_CHANGES);
    expect(second.stdout).not.toContain('drfold');
  });

  it('plans an image change at a leaf as a replacement and carries it out', async () => {
    const NEST_LEAF = manifest('nest-leaf', 'nest');
    const p = await plan(NEST_LEAF);
    expect(p.stdout).toContain('-/+ drf1/drf2 (replace: image busybox → nest)');
    expect(p.stdout).toContain('lost: the filesystem of drf1/drf2');
    const a = await apply(NEST_LEAF);
    expect(a.code).toBe(0);
    expect(await baseImageOf(['drf1'], 'drf2')).toBe(await fingerprintIn(['drf1'], 'nest'));
    expect((await plan(NEST_LEAF)).stdout).toContain(NO_CHANGES);
  });

  it('refuses a container nestctl did not create unless the manifest adopts it', async () => {
    const launched = await run(['lxc', 'launch', 'busybox', ADOPTEE, '-q', '-c', 'limits.cpu=1']);
    expect(launched.code).toBe(0);
    const refused = await plan(manifest('adopt-no', 'nest', `  - name: ${ADOPTEE}\n    image: busybox`));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${ADOPTEE} exists and was not created by nestctl`);
    expect(refused.stderr).toContain('limits.cpu');
    const ADOPT = manifest('adopt-yes', 'nest', `  - name: ${ADOPTEE}\n    image: busybox\n    adopt: true`);
    expect((await plan(ADOPT)).stdout).toContain('~ limits.cpu = "1" → (unset)');
    expect((await apply(ADOPT)).code).toBe(0);
    expect((await plan(ADOPT)).stdout).toContain(NO_CHANGES);
  });
});
