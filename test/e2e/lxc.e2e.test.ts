// Classic LXC on a real lab host (LAB.md, "Classic LXC, run by an ordinary user"): a user-owned
// busybox LXC container on the host beside an LXD busybox, running with init's uid_map at the
// user's planned subuid start; a root-owned unprivileged LXC container inside an LXD container
// made from the lab's `nest-tools` image (nest plus Debian's lxc package);
// a second plan empty; destroy --restore-ids puts /etc/subuid, /etc/subgid and
// /etc/lxc/lxc-usernet back; a later destroy keeps an LXD container holding an LXC container
// made by hand (afterAll deletes it). The host needs Debian's lxc package (test/lab/setup-host.sh).

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART, deleteInstances, execIn, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();
const USER = 'nestlxc1';
const HOME = `/home/${USER}`;
const LXD_SIBLING = 'lxcnb1';
const OUTER = 'lxcouter1';
const USERNET = '/etc/lxc/lxc-usernet';
const DIR = mkdtempSync(join(tmpdir(), 'nestctl-lxc-'));

const MANIFEST = join(DIR, 'lxc.yaml');
writeFileSync(
  MANIFEST,
  [
    'apiVersion: nestctl/v1',
    'host:',
    '  flavour: debian',
    'containers:',
    `  - name: ${LXD_SIBLING}`,
    '    image: busybox',
    '  - name: ubox',
    '    runtime: lxc',
    `    user: ${USER}`,
    `  - name: ${OUTER}`,
    '    image: nest-tools',
    '    containers:',
    '      - name: rbox',
    '        runtime: lxc',
    '',
  ].join('\n'),
);

/** OUTER alone, for the LXC container made by hand inside it. */
const OUTER_ONLY = join(DIR, 'outer.yaml');
writeFileSync(
  OUTER_ONLY,
  ['apiVersion: nestctl/v1', 'host:', '  flavour: debian', 'containers:', `  - name: ${OUTER}`, '    image: nest-tools', ''].join('\n'),
);

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** init's uid_map of an LXC container (lxc-info -pH as root, then /proc/PID/uid_map), at the host or inside `path`. */
async function lxcUidMap(path: string[], dir: string, name: string): Promise<string> {
  const pid = (await must(execIn(path, ['lxc-info', '-P', dir, '-n', name, '-pH']))).trim();
  return (await must(execIn(path, ['cat', `/proc/${pid}/uid_map`]))).trim().split(/\s+/).join(' ');
}

const read = (file: string): string | null => (existsSync(file) ? readFileSync(file, 'utf8') : null);

describe.skipIf(why !== null)(`classic LXC on real hosts${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  let usernetBefore: string | null = null;
  /** /etc/subuid and /etc/subgid once the user exists, before nestctl edits them. */
  let idsBefore: Array<string | null> = [];

  beforeAll(async () => {
    await deleteInstances([LXD_SIBLING, OUTER]);
    await run(['userdel', '-r', USER]); // a crashed earlier run must not decide this one
    // Saved before useradd, which gives the user subid lines of its own: they go with the user.
    files = saveSubidFiles();
    await must(['useradd', '-m', USER]);
    idsBefore = ['/etc/subuid', '/etc/subgid'].map(read);
    usernetBefore = read(USERNET);
  });

  afterAll(async () => {
    await run(['lxc-stop', '-P', `${HOME}/.local/share/lxc`, '-n', 'ubox', '-k']);
    await deleteInstances([LXD_SIBLING, OUTER]);
    await run(['userdel', '-r', USER]);
    if (usernetBefore === null) await run(['rm', '-f', USERNET]);
    else writeFileSync(USERNET, usernetBefore);
    await run(['rm', '-f', '/var/lib/nestctl/lxc-usernet.orig']);
    await files?.restore();
  });

  it("runs a user's LXC container beside an LXD one and a root-owned one inside LXD, each mapped as planned", async () => {
    const planned = await nestctl(['plan', '--json', '--host-restart', RESTART, MANIFEST]);
    expect(planned.code, planned.stderr).toBe(0);
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, MANIFEST]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const line = new RegExp(`^${USER}:(\\d+):(\\d+)$`, 'm').exec(readFileSync('/etc/subuid', 'utf8'));
    expect(line).not.toBeNull();
    expect(await lxcUidMap([], `${HOME}/.local/share/lxc`, 'ubox')).toBe(`0 ${line![1]} ${line![2]}`);
    expect(readFileSync(USERNET, 'utf8')).toMatch(new RegExp(`^${USER} veth lxdbr0 \\d+$`, 'm'));
    // inside the LXD container: root-owned, a slice of root's range there outside its LXD's
    const inner = (await lxcUidMap([OUTER], '/var/lib/lxc', 'rbox')).split(' ').map(Number);
    expect(inner[0]).toBe(0);
    expect(inner[2]).toBe(65536);
    expect(await must(execIn([OUTER], ['cat', '/etc/subuid']))).toContain(`root:${inner[1]}:65536`);
  });

  it('plans nothing more', async () => {
    const again = await nestctl(['plan', '--host-restart', RESTART, MANIFEST]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });

  it('destroy --restore-ids removes them and puts back /etc/subuid, /etc/subgid and lxc-usernet', async () => {
    const r = await nestctl(['destroy', '--auto-approve', '--ci', '--restore-ids', '--host-restart', RESTART, MANIFEST]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(['/etc/subuid', '/etc/subgid'].map(read)).toEqual(idsBefore);
    expect(read(USERNET) ?? '').toBe(usernetBefore ?? '');
    expect((await run(['lxc-info', '-P', `${HOME}/.local/share/lxc`, '-n', 'ubox'])).code).not.toBe(0);
  });

  it('destroy keeps an LXD container holding an LXC container made by hand, and names it', async () => {
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, OUTER_ONLY]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    await must(execIn([OUTER], ['lxc-create', '-n', 'foreign', '-t', 'busybox']));
    const d = await nestctl(['destroy', '--auto-approve', '--ci', OUTER_ONLY]);
    expect(d.code, `${d.stdout}\n${d.stderr}`).toBe(0);
    expect(`${d.stdout}\n${d.stderr}`).toContain(
      `${OUTER} is kept: it holds containers nestctl did not create or cannot prove empty (LXC container ${OUTER}/foreign of root)`,
    );
    expect((await run(['lxc', 'info', OUTER])).code).toBe(0);
  });
});

// Under systemd (PID 1 of an LXD container from nest-tools), a user's lxc-start runs in a
// delegated scope: `systemd-run --uid=USER --scope -p Delegate=yes`. The account is made by the
// LXD container's own setup command on a first apply: nestctl creates no accounts.
const SD_OUTER = 'lxcsd1';
const SD_USER = 'nestlxu';
const SD_DIR = `/home/${SD_USER}/.local/share/lxc`;
const sdManifest = (withLxc: boolean): string => {
  const file = join(DIR, withLxc ? 'systemd-lxc.yaml' : 'systemd.yaml');
  const lines = [
    'apiVersion: nestctl/v1',
    'host:',
    '  flavour: debian',
    'containers:',
    `  - name: ${SD_OUTER}`,
    '    image: nest-tools',
    '    setup:',
    `      - [useradd, -m, ${SD_USER}]`,
  ];
  if (withLxc) lines.push('    containers:', '      - name: ubx', '        runtime: lxc', `        user: ${SD_USER}`);
  writeFileSync(file, [...lines, ''].join('\n'));
  return file;
};

describe.skipIf(why !== null)(`a user's LXC container under systemd${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances([SD_OUTER]);
    files = saveSubidFiles();
  });

  afterAll(async () => {
    await deleteInstances([SD_OUTER]);
    await files?.restore();
  });

  it("starts it in a delegated systemd scope, mapped on the user's range there, and plans nothing more", async () => {
    const first = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, sdManifest(false)]);
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    const file = sdManifest(true);
    const planned = await nestctl(['plan', '--json', '--host-restart', RESTART, file]);
    expect(planned.code, planned.stderr).toBe(0);
    const start = (JSON.parse(planned.stdout) as { steps: Array<{ kind: string; cgroup?: string }> }).steps.find(
      (s) => s.kind === 'start-lxc',
    );
    expect(start?.cgroup).toBe('systemd-run');
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--host-restart', RESTART, file]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const line = new RegExp(`^${SD_USER}:(\\d+):(\\d+)$`, 'm').exec(await must(execIn([SD_OUTER], ['cat', '/etc/subuid'])));
    expect(line).not.toBeNull();
    expect(await lxcUidMap([SD_OUTER], SD_DIR, 'ubx')).toBe(`0 ${line![1]} ${line![2]}`);
    // Its init sits in the transient scope systemd-run made, not in the caller's cgroup.
    const pid = (await must(execIn([SD_OUTER], ['lxc-info', '-P', SD_DIR, '-n', 'ubx', '-pH']))).trim();
    expect(await must(execIn([SD_OUTER], ['cat', `/proc/${pid}/cgroup`]))).toMatch(/^\d+:name=systemd:\/system\.slice\/run-[^/]+\.scope/m);
    const again = await nestctl(['plan', '--host-restart', RESTART, file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The containers match the manifest.');
  });
});
