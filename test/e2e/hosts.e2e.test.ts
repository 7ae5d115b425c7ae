// Trees on two LXD remotes (README "Several hosts"): test/lab/remote.sh makes nxr1 and nxr2, nesting
// containers of the lab host whose LXD listens on the lab bridge, trusted as remotes of the host's
// lxc client; each daemon gets root:65536:<the container's ids - 65536>. The remotes start without
// images: the plan relays nest and busybox to them from this machine's store. A tree of two levels
// on nxr1 and one container on nxr2 are applied in one run, with the maps the plan predicted; a
// second plan has nothing to do; destroy removes them. Then nxr2's daemon is given a range too
// small for a tree, and the plan refuses it with the exact lines to add there; with shell: (here
// `lxc exec nxr2 -T -- sh -c`) the same tree grows nxr2's range on its machine and is applied.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan/model.js';
import { ROOT, labUnavailable, nestctl, run } from './lab.js';

const why = labUnavailable();
const REMOTE_SH = resolve(ROOT, 'test/lab/remote.sh');
const REMOTES = [
  { name: 'nxr1', address: '10.66.0.201', inner: '10.78.1.1/24' },
  { name: 'nxr2', address: '10.66.0.202', inner: '10.78.2.1/24' },
];

const manifest = (containers: string): string =>
  `${['apiVersion: nestctl/v1', 'hosts:', '  nxr1:', '    remote: nxr1', '    cli: lxc', '  nxr2:', '    remote: nxr2', '    cli: lxc', 'containers:', containers].join('\n')}\n`;

const TREE = manifest(
  [
    '  - name: hr1',
    '    host: nxr1',
    '    image: nest',
    '    containers:',
    '      - name: hr2',
    '        image: busybox',
    '  - name: hr3',
    '    host: nxr2',
    '    image: busybox',
  ].join('\n'),
);

/** hr4 holds hr5: 131072 ids from nxr2's daemon. */
const TOO_BIG = manifest(
  ['  - name: hr4', '    host: nxr2', '    image: nest', '    containers:', '      - name: hr5', '        image: busybox'].join('\n'),
);

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const words = (text: string): string => text.trim().split(/\s+/).join(' ');

describe.skipIf(why !== null)(`trees on two LXD remotes${why ? ` (skipped: ${why})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nestctl-hosts-e2e-'));
  const tree = join(dir, 'hosts.yaml');
  const tooBig = join(dir, 'too-big.yaml');
  writeFileSync(tree, TREE);
  writeFileSync(tooBig, TOO_BIG);

  beforeAll(async () => {
    // The remotes start without the lab's images: nestctl relays them from this machine.
    for (const r of REMOTES) await ok(['bash', REMOTE_SH, 'up', r.name, r.address, r.inner]);
  }, 20 * 60_000);

  // Runs after failures too: both remotes (and all they hold) go.
  afterAll(async () => {
    for (const r of REMOTES) await run(['bash', REMOTE_SH, 'down', r.name]);
    rmSync(dir, { recursive: true, force: true });
  }, 10 * 60_000);

  it(
    'applies hr1 → hr2 on nxr1 and hr3 on nxr2 in one run, with the maps planned, then plans nothing and destroys them',
    async () => {
      const planned = await nestctl(['plan', '--json', tree]);
      expect(planned.code, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as Plan;
      expect(plan.hosts?.map((h) => h.name)).toEqual(['nxr1', 'nxr2']);
      expect(plan.hosts?.every((h) => h.remote !== null && /^[0-9a-f]{64}$/.test(h.remote.fingerprint))).toBe(true);
      // Nothing is written at a remote's top level: its range is only read.
      expect(plan.steps.filter((s) => s.level === '' && (s.kind === 'write-subid' || s.kind === 'restart-daemon'))).toEqual([]);
      // The images go to each remote's top level from this machine's store, before the creates that need them.
      const relays = (host: string) =>
        plan.steps.flatMap((s) => (s.kind === 'copy-image' && s.host === host && s.relay !== undefined ? [s.image] : []));
      expect(relays('nxr1')).toContain('nest');
      expect(relays('nxr2')).toEqual(['busybox']);
      expect(plan.steps.find((s) => s.id === 'nxr1:hr1:create-instance')?.dependsOn).toContain('nxr1:host:copy-image:nest');
      expect(plan.steps.find((s) => s.id === 'nxr2:hr3:create-instance')?.dependsOn).toContain('nxr2:host:copy-image:busybox');
      const text = await nestctl(['plan', tree]);
      expect(text.stdout).toMatch(/\+ nxr1: copy image nest \([0-9a-f]{12}\) from this machine/);
      expect(text.stdout).toMatch(/\+ nxr2: copy image busybox \([0-9a-f]{12}\) from this machine/);
      const childMap = (host: string, level: string, path: string) =>
        plan.levels.find((l) => l.host === host && l.path === level)!.children.find((c) => c.path === path)!.map;

      const applied = await nestctl(['apply', '--auto-approve', '--ci', tree]);
      expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(0);

      const hr1 = childMap('nxr1', '', 'hr1');
      expect(words(await ok(['lxc', 'exec', 'nxr1:hr1', '-T', '--', 'cat', '/proc/self/uid_map']))).toBe(`0 ${hr1.start} ${hr1.size}`);
      const hr2 = childMap('nxr1', 'hr1', 'hr1/hr2');
      expect(words(await ok(['lxc', 'exec', 'nxr1:hr1', '-T', '--', 'lxc', 'exec', 'hr2', '-T', '--', 'cat', '/proc/self/uid_map']))).toBe(
        `0 ${hr2.start} ${hr2.size}`,
      );
      const hr3 = childMap('nxr2', '', 'hr3');
      expect(words(await ok(['lxc', 'exec', 'nxr2:hr3', '-T', '--', 'cat', '/proc/self/uid_map']))).toBe(`0 ${hr3.start} ${hr3.size}`);

      const again = await nestctl(['plan', tree]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('No changes.');

      const destroyed = await nestctl(['destroy', '--auto-approve', '--ci', tree]);
      expect(destroyed.code, `${destroyed.stdout}\n${destroyed.stderr}`).toBe(0);
      expect((await run(['lxc', 'info', 'nxr1:hr1'])).code).not.toBe(0);
      expect((await run(['lxc', 'info', 'nxr2:hr3'])).code).not.toBe(0);
    },
    30 * 60_000,
  );

  it(
    "refuses at plan time a tree too big for the remote's range, with the exact lines to add there",
    async () => {
      await ok(['lxc', 'exec', 'nxr2', '-T', '--', 'sh', '-c', 'echo root:65536:65536 > /etc/subuid && cp /etc/subuid /etc/subgid']);
      await ok(['lxc', 'exec', 'nxr2', '-T', '--', 'systemctl', 'restart', 'lxd']);
      await ok(['lxc', 'exec', 'nxr2', '-T', '--', 'lxd', 'waitready', '--timeout', '60']);
      const r = await nestctl(['plan', tooBig]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `${tooBig}:6:3: error: the tree on host nxr2 needs 131072 ids from the LXD of remote nxr2, which hands out 65536 (uid 65536:65536, gid 65536:65536)`,
      );
      expect(r.stderr).toContain(
        "on remote nxr2, make root's first entry of at least 65536 ids root:65536:131072 in /etc/subuid and root:65536:131072 in /etc/subgid",
      );
      expect(r.stderr).toContain('systemctl restart lxd');
      expect((await run(['lxc', 'info', 'nxr2:hr4'])).code).not.toBe(0);
    },
    10 * 60_000,
  );

  it(
    "with shell:, grows that remote's range on its machine, restarts its daemon there and applies the tree",
    async () => {
      // `lxc exec nxr2 -- sh -c LINE` reaches nxr2's machine as ssh would: LINE is read by a POSIX shell there.
      const withShell = join(dir, 'with-shell.yaml');
      writeFileSync(withShell, TOO_BIG.replace('    remote: nxr2\n', '    remote: nxr2\n    shell: [lxc, exec, nxr2, -T, --, sh, -c]\n'));
      const planned = await nestctl(['plan', '--json', withShell]);
      expect(planned.code, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as Plan;
      expect(
        plan.steps
          .filter((s) => s.host === 'nxr2' && s.level === '' && (s.kind === 'write-subid' || s.kind === 'restart-daemon'))
          .map((s) => s.kind),
      ).toEqual(['write-subid', 'write-subid', 'restart-daemon']);
      const applied = await nestctl(['apply', '--auto-approve', '--ci', withShell]);
      expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(0);
      const hr4 = plan.levels.find((l) => l.host === 'nxr2' && l.path === '')!.children.find((c) => c.path === 'hr4')!.map;
      expect(words(await ok(['lxc', 'exec', 'nxr2:hr4', '-T', '--', 'cat', '/proc/self/uid_map']))).toBe(`0 ${hr4.start} ${hr4.size}`);
      const again = await nestctl(['plan', withShell]);
      expect(again.stdout).toContain('No changes.');
      const destroyed = await nestctl(['destroy', '--auto-approve', '--ci', withShell]);
      expect(destroyed.code, `${destroyed.stdout}\n${destroyed.stderr}`).toBe(0);
    },
    20 * 60_000,
  );
});
