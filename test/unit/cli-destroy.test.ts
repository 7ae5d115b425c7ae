// `nestctl destroy` through the built CLI on a --world that holds what destroy must keep.

import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = promisify(execFile);

async function nestctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', CI: '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

describe('nestctl destroy --world', () => {
  it('keeps a leaf holding a stranger, one whose inner LXD is down and one it cannot look into, saying why', async () => {
    const r = await nestctl([
      'destroy',
      '--world',
      'test/unit/fixtures/worlds/leaf-holds-stranger.yaml',
      '--auto-approve',
      'test/unit/fixtures/nest-leaves.yaml',
    ]);
    const out = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    expect(out).toContain('c1 is kept: it holds containers nestctl did not create or cannot prove empty (c1/web)');
    expect(out).toContain('c9 is kept: the LXD inside it is not running');
    expect(out).toContain('bare is kept: what it holds cannot be looked at');
    expect(out).toContain('No changes. Nothing nestctl created is left to destroy.');
  });
});
