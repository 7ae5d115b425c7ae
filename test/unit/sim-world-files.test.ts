// Files inside containers in the simulated world's text (--world, --state): a saved state keeps
// every file with its bytes, mode and owner and the recorded setup hash, so a continued simulation
// plans nothing; a hand edit of the state file, or a world file written with a file, is drift the
// plan shows.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nestctl } from './helpers/cli.js';

const MANIFEST = `apiVersion: nestctl/v1
containers:
  - name: c1
    image: nest
    files:
      - path: /etc/role
        content: "outer\\n"
        mode: "0600"
        uid: 1000
    containers:
      - name: c2
        image: busybox
        setup:
          - [touch, /var/lib/ready]
`;

const ROLE = `          /etc/role:
            content: |
              outer
            mode: "0600"
            uid: 1000
            gid: 0
`;

let dir = '';
let manifest = '';
let state = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nestctl-world-files-'));
  manifest = join(dir, 'm.yaml');
  state = join(dir, 'state.yaml');
  await writeFile(manifest, MANIFEST);
  const r = await nestctl(['apply', '--simulate', '--auto-approve', '--state', state, manifest]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('files in the simulated world', () => {
  it('--state keeps each file with its bytes, mode and owner, and the setup record: planning again finds nothing', async () => {
    const text = await readFile(state, 'utf8');
    expect(text).toContain(ROLE);
    expect(text).toMatch(/user\.nestctl\.setup: [0-9a-f]{64}\n/);
    expect(text).toContain('/var/lib/ready:\n                  content: ""\n');
    const r = await nestctl(['plan', '--detailed-exitcode', '--state', state, manifest]);
    expect(r.stdout).toContain('No changes.');
    expect(r.code).toBe(0);
  });

  it('a file edited in the state file is drift: the plan shows it with a diff', async () => {
    const edited = join(dir, 'edited.yaml');
    await writeFile(
      edited,
      (await readFile(state, 'utf8')).replace(ROLE, ROLE.replace('              outer\n', '              edited by hand\n')),
    );
    const r = await nestctl(['plan', '--detailed-exitcode', '--state', edited, manifest]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('~ c1: /etc/role');
    expect(r.stdout).toContain('-edited by hand');
    expect(r.stdout).toContain('+outer');
  });

  it('a world file can start with a file given in base64, mode and owner: the plan compares them all', async () => {
    const saved = await readFile(state, 'utf8');
    const role = (mode: string): string =>
      `          /etc/role:\n            base64: ${Buffer.from('outer\n').toString('base64')}\n            mode: "${mode}"\n            uid: 1000\n`;
    const world = async (name: string, text: string): Promise<string> => {
      expect(text).not.toBe(saved);
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    const same = await nestctl([
      'plan',
      '--detailed-exitcode',
      '--world',
      await world('same.yaml', saved.replace(ROLE, role('0600'))),
      manifest,
    ]);
    expect(same.stdout).toContain('No changes.');
    expect(same.code).toBe(0);
    const loose = await nestctl(['plan', '--world', await world('loose.yaml', saved.replace(ROLE, role('0644'))), manifest]);
    expect(loose.stdout).toContain('~ c1: /etc/role');
    expect(loose.stdout).toMatch(/mode 0644 → 0600/);
    const rerun = await nestctl([
      'plan',
      '--world',
      await world('no-setup.yaml', saved.replace(/ +user\.nestctl\.setup: [0-9a-f]{64}\n/, '')),
      manifest,
    ]);
    expect(rerun.stdout).toContain('~ c1/c2: setup (run 1 command)');
  });

  it('refuses a file with both content and base64, at its line', async () => {
    const world = join(dir, 'both.yaml');
    const lines = (await readFile(state, 'utf8')).replace(ROLE, `          /etc/role:\n            content: x\n            base64: eA==\n`);
    await writeFile(world, lines);
    const r = await nestctl(['plan', '--world', world, manifest]);
    expect(r.code).toBe(1);
    // The file's mapping starts on the line after its path.
    const line = lines.split('\n').indexOf('          /etc/role:') + 2;
    expect(r.stderr).toContain(`${world}:${line}:13: error:`);
    expect(r.stderr).toContain('a file needs exactly one of content (text) and base64 (bytes)');
  });
});
