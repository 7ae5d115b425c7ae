// Docker inside an unprivileged tree on a real LXD host (LAB.md, "Docker inside"): `docker: true`
// at level 1 and level 2, the lab's nest-tools image (LXD + docker.io), a small rootfs tarball
// pushed with `files:` and imported by a setup command (no registry is reachable here), then
// `docker run` at both levels. Docker's containers live in the LXD container's own unprivileged
// map, and nothing is privileged. A third container, dkr3 at level 1, remaps Docker
// (docker.userns_remap): Docker's containers run on the dockremap range nestctl planned.

import { mkdtempSync, mkdirSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();
const L1 = 'dkr1';
const L2 = 'dkr2';
const L3 = 'dkr3';
const DIR = mkdtempSync(join(tmpdir(), 'nestctl-docker-'));
const SETUP_LOG = '/root/nestctl-setup.log';

/** A Docker image rootfs of busybox alone, small enough for `files:` (1 MiB). */
async function tinyRootfs(): Promise<void> {
  const root = join(DIR, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const applet of ['sh', 'true', 'cat', 'echo', 'id']) symlinkSync('busybox', join(root, 'bin', applet));
  const r = await run([
    'sh',
    '-c',
    'tar --numeric-owner --owner=0 --group=0 -C "$1" -cf - . | xz -9 > "$2"',
    'tar',
    root,
    join(DIR, 'tiny.tar.xz'),
  ]);
  if (r.code !== 0) throw new Error(`building the rootfs tarball: ${r.stderr}`);
}

function level(name: string, inner: string[], docker = 'true'): string[] {
  return [
    `- name: ${name}`,
    '  image: nest-tools',
    `  docker: ${docker}`,
    '  files:',
    '    - path: /root/tiny.tar.xz',
    '      source: tiny.tar.xz',
    '  setup:',
    `    - [sh, -c, "echo ran >> ${SETUP_LOG}"]`,
    '    - [docker, import, /root/tiny.tar.xz, nestctl-tiny]',
    ...inner.map((l) => `  ${l}`),
  ];
}

function manifest(): string {
  const file = join(DIR, 'docker.yaml');
  const tree = [...level(L1, ['containers:', ...level(L2, []).map((l) => `  ${l}`)]), ...level(L3, [], '{userns_remap: true}')];
  writeFileSync(file, ['apiVersion: nestctl/v1', 'host:', '  flavour: debian', 'containers:', ...tree.map((l) => `  ${l}`), ''].join('\n'));
  return file;
}

async function inside(path: string[], argv: string[]): Promise<string> {
  const r = await run(execIn(path, argv));
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${path.join('/')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(why !== null)(`Docker inside on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances([L1, L3]); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
    await tinyRootfs();
  });

  // Runs after failures too: the containers go, the host's subid files come back.
  afterAll(async () => {
    await deleteInstances([L1, L3]);
    await files?.restore();
  });

  it('plans the keys Docker needs and never security.privileged', async () => {
    const r = await nestctl(['plan', '--host-restart', RESTART, manifest()]);
    expect(r.code, r.stderr).toBe(0);
    for (const path of [L1, `${L1}/${L2}`]) {
      const create = r.stdout.slice(r.stdout.indexOf(`+ ${path}: create`));
      expect(create).toContain('security.syscalls.intercept.mknod = "true"');
      expect(create).toContain('security.syscalls.intercept.setxattr = "true"');
    }
    expect(r.stdout).not.toContain('security.privileged');
  });

  it('applies the tree, and Docker runs a container at level 1 and at level 2', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, manifest()]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const path of [[L1], [L1, L2]]) {
      expect(await inside(path, ['docker', 'run', '--rm', 'nestctl-tiny', '/bin/echo', 'hello from docker'])).toBe('hello from docker\n');
      expect((await inside(path, ['docker', 'info', '--format', '{{.Driver}}'])).trim()).toBe('overlay2');
      // Docker's containers share their LXD container's unprivileged namespace (no remapping of
      // their own), so they see its map: host ids, never the host's root.
      const dockerMap = (await inside(path, ['docker', 'run', '--rm', 'nestctl-tiny', '/bin/cat', '/proc/self/uid_map']))
        .trim()
        .split(/\s+/)
        .join(' ');
      expect(dockerMap).toBe(await uidMapOf(path));
    }
    expect(await uidMapOf([L1])).not.toMatch(/^0 0 /);
    expect(await uidMapOf([L1, L2])).toBe('0 65536 65536');
    const privileged = await run(execIn([], ['lxc', 'config', 'get', L1, 'security.privileged']));
    expect(privileged.stdout.trim()).toBe('');
  });

  it('remaps Docker in dkr3 onto the dockremap range nestctl wrote, and plans nothing more', async () => {
    // dkr3's map: root's own 65536 ids, then dockremap's 65536 (Docker's "userns-remap": "default").
    expect(await inside([L3], ['cat', '/etc/subuid'])).toContain('dockremap:65536:65536\n');
    expect(JSON.parse(await inside([L3], ['cat', '/etc/docker/daemon.json']))).toEqual({ 'userns-remap': 'default' });
    const dockerMap = (await inside([L3], ['docker', 'run', '--rm', 'nestctl-tiny', '/bin/cat', '/proc/self/uid_map']))
      .trim()
      .split(/\s+/)
      .join(' ');
    expect(dockerMap).toBe('0 65536 65536');
    const planned = await nestctl(['plan', '--host-restart', RESTART, manifest()]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('No changes.');
  });

  it('plans nothing more, and a second apply runs no setup again', async () => {
    const planned = await nestctl(['plan', '--host-restart', RESTART, manifest()]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('No changes.');
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, manifest()]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const path of [[L1], [L1, L2], [L3]]) expect(await inside(path, ['cat', SETUP_LOG])).toBe('ran\n');
  });
});
