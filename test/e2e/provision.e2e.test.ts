// Files and setup commands in containers on a real LXD host (LAB.md): a two-level tree (nest →
// busybox) with files and setup at both levels; content, mode and owner as the manifest says; a
// hand edit at level 2 planned and repaired; setup run exactly once; a changed list planned.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const OUTER = 'prv1';
const INNER = 'prv2';
const DIR = mkdtempSync(join(tmpdir(), 'nestctl-provision-'));
writeFileSync(join(DIR, 'motd'), 'welcome to prv1\n');

/** The manifest, with `extra` setup commands appended to the inner container's list. */
function manifest(extra: string[][] = [], first = 'echo ran >> /etc/nestctl-setup.log'): string {
  const file = join(DIR, `provision-${extra.length}-${first.length}.yaml`);
  const inner = [['sh', '-c', first], ...extra];
  writeFileSync(
    file,
    [
      'apiVersion: nestctl/v1',
      'host:',
      '  flavour: debian',
      'containers:',
      `  - name: ${OUTER}`,
      '    image: nest',
      '    files:',
      '      - path: /etc/motd',
      '        source: motd',
      '    setup:',
      '      - [sh, -c, "echo ran >> /etc/nestctl-setup.log"]',
      '    containers:',
      `      - name: ${INNER}`,
      '        image: busybox',
      '        files:',
      '          - path: /etc/app/app.conf',
      '            content: "listen = 8080\\n"',
      '            mode: "0640"',
      '            uid: 1000',
      '            gid: 100',
      '        setup:',
      ...inner.map((argv) => `          - ${JSON.stringify(argv)}`),
      '',
    ].join('\n'),
  );
  return file;
}

async function inside(path: string[], argv: string[]): Promise<string> {
  const r = await run(execIn(path, argv));
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${path.join('/')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(why !== null)(`files and setup on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances([OUTER]); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
  });

  // Runs after failures too: the containers go, the host's subid files come back.
  afterAll(async () => {
    await deleteInstances([OUTER]);
    await files?.restore();
  });

  it('builds the tree with its files and runs each setup list once', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, manifest()]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await inside([OUTER], ['cat', '/etc/motd'])).toBe('welcome to prv1\n');
    expect(await inside([OUTER, INNER], ['cat', '/etc/app/app.conf'])).toBe('listen = 8080\n');
    expect((await inside([OUTER, INNER], ['stat', '-c', '%a %u %g', '/etc/app/app.conf'])).trim()).toBe('640 1000 100');
    expect(await inside([OUTER], ['cat', '/etc/nestctl-setup.log'])).toBe('ran\n');
    expect(await inside([OUTER, INNER], ['cat', '/etc/nestctl-setup.log'])).toBe('ran\n');
  });

  it('plans nothing more, and a second apply does not run setup again', async () => {
    const planned = await nestctl(['plan', '--host-restart', RESTART, manifest()]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('No changes. The containers match the manifest.');
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, manifest()]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await inside([OUTER, INNER], ['cat', '/etc/nestctl-setup.log'])).toBe('ran\n');
  });

  it('plans a hand edit at level 2 with a diff, and apply repairs content, mode and owner', async () => {
    await inside(
      [OUTER, INNER],
      ['sh', '-c', 'echo "listen = 9090" > /etc/app/app.conf && chmod 666 /etc/app/app.conf && chown 0:0 /etc/app/app.conf'],
    );
    const planned = await nestctl(['plan', '--host-restart', RESTART, manifest()]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(`~ ${OUTER}/${INNER}: /etc/app/app.conf`);
    expect(planned.stdout).toContain('-listen = 9090');
    expect(planned.stdout).toContain('+listen = 8080');
    expect(planned.stdout).toContain('~ mode 0666 → 0640');
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, manifest()]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await inside([OUTER, INNER], ['cat', '/etc/app/app.conf'])).toBe('listen = 8080\n');
    expect((await inside([OUTER, INNER], ['stat', '-c', '%a %u %g', '/etc/app/app.conf'])).trim()).toBe('640 1000 100');
  });

  it('runs only the commands added at the end of a setup list, and a changed list whole', async () => {
    const grown = manifest([['touch', '/etc/nestctl-more']]);
    const planned = await nestctl(['plan', '--host-restart', RESTART, grown]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(`~ ${OUTER}/${INNER}: setup (run 1 command after the 1 that ran)`);
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, grown]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await inside([OUTER, INNER], ['cat', '/etc/nestctl-setup.log'])).toBe('ran\n');
    expect((await run(execIn([OUTER, INNER], ['test', '-e', '/etc/nestctl-more']))).code).toBe(0);

    const changed = manifest([['touch', '/etc/nestctl-more']], 'echo again >> /etc/nestctl-setup.log');
    const replanned = await nestctl(['plan', '--host-restart', RESTART, changed]);
    expect(replanned.stdout).toContain(`~ ${OUTER}/${INNER}: setup (list changed: re-run 2 commands)`);
    const again = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, changed]);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(await inside([OUTER, INNER], ['cat', '/etc/nestctl-setup.log'])).toBe('ran\nagain\n');
    expect(await inside([OUTER], ['cat', '/etc/nestctl-setup.log'])).toBe('ran\n');
  });
});
