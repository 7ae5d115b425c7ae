// The real adapter's classic LXC: every argv's shape, the writer script run by sh on temp files,
// the probe's output parsed, and ExecLevel's calls through a recording Exec.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import {
  lxcAttachArgv,
  lxcCreateArgv,
  lxcDestroyArgv,
  lxcProbeArgv,
  lxcStartArgv,
  lxcStopArgv,
  writeLxcFileArgv,
} from '../../src/adapters/lxd/lxc-commands.js';
import { LXC_PROBE_SCRIPT, LXC_STALE_EXIT, WRITE_LXC_FILE_SCRIPT } from '../../src/adapters/lxd/lxc-scripts.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseLxcProbe } from '../../src/core/observe/parse-lxc.js';
import { sha256 } from '../../src/core/hash.js';
import type { Exec } from '../../src/ports/exec.js';

const alice = { user: 'alice', home: '/home/alice' };
const root = { user: null, home: null };

describe('LXC argv', () => {
  it("runs a user's commands through runuser with HOME and -P, root's directly, manifest words one argv word each", () => {
    expect(
      lxcCreateArgv({ name: 'box', owner: alice, template: 'download', templateArgs: ['--dist', 'debian'], config: null }, null),
    ).toEqual([
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-create',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'box',
      '-t',
      'download',
      '--',
      '--dist',
      'debian',
    ]);
    expect(
      lxcCreateArgv({ name: 'rb', owner: root, template: 'busybox', templateArgs: [], config: 'x' }, '/var/lib/nestctl/lxc/rb.conf'),
    ).toEqual(['lxc-create', '-P', '/var/lib/lxc', '-n', 'rb', '-f', '/var/lib/nestctl/lxc/rb.conf', '-t', 'busybox']);
    expect(lxcStartArgv('box', alice, 'none')).toEqual([
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-start',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'box',
    ]);
    expect(lxcStartArgv('box', alice, 'systemd-run')).toEqual([
      'systemd-run',
      '--uid=alice',
      '--scope',
      '--quiet',
      '-p',
      'Delegate=yes',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-start',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'box',
    ]);
    expect(lxcStopArgv('rb', root)).toEqual(['lxc-stop', '-P', '/var/lib/lxc', '-n', 'rb', '-k']);
    expect(lxcDestroyArgv('box', alice)).toEqual([
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-destroy',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'box',
    ]);
    expect(lxcProbeArgv(['alice', 'root'])).toEqual(['sh', '-c', LXC_PROBE_SCRIPT, 'lxc-probe', 'alice', 'root']);
    expect(lxcProbeArgv(['alice'], true)).toEqual(['sh', '-c', LXC_PROBE_SCRIPT, 'lxc-probe', '--every-owner', 'alice']);
    expect(writeLxcFileArgv('/etc/lxc/lxc-usernet', root, null, false)).toEqual([
      'sh',
      '-c',
      WRITE_LXC_FILE_SCRIPT,
      'nestctl-write-lxc-file',
      '/etc/lxc/lxc-usernet',
      'absent',
      'keep',
      '/var/lib/nestctl/lxc-usernet.orig',
    ]);
    expect(writeLxcFileArgv('/home/alice/.config/lxc/default.conf', alice, 'abc', false).slice(0, 6)).toEqual([
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
    ]);
  });

  it('keeps the probe a constant script with no manifest data in it', () => {
    expect(LXC_PROBE_SCRIPT).not.toMatch(/alice|box/);
    expect(LXC_PROBE_SCRIPT).toContain('for o in "$@"');
  });
});

describe('the LXC probe for a deletion (sh, fake accounts)', () => {
  it('with --every-owner also reads root and every account whose ~/.local/share/lxc holds a container, each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-lxcprobe-'));
    const bin = join(dir, 'bin');
    const passwd = [
      'root:x:0:0:root:/root:/bin/sh',
      ...['alice', 'bob', 'carol'].map((u, i) => `${u}:x:${1000 + i}:${1000 + i}::${dir}/home/${u}:/bin/sh`),
    ].join('\n');
    for (const [user, box] of [
      ['alice', 'a1'],
      ['carol', 'c1'],
    ] as const) {
      mkdirSync(join(dir, 'home', user, '.local/share/lxc', box), { recursive: true });
      writeFileSync(join(dir, 'home', user, '.local/share/lxc', box, 'config'), `lxc.uts.name = ${box}\n`);
    }
    mkdirSync(join(dir, 'home/bob/.local/share/lxc'), { recursive: true });
    mkdirSync(bin);
    // Stand-ins: the accounts above, and no LXC tool of this machine's is run.
    writeFileSync(
      join(bin, 'getent'),
      `#!/bin/sh\nprintf '%s\\n' '${passwd.replaceAll('\n', "' '")}' | if [ -n "$2" ]; then grep "^$2:"; else cat; fi\n`,
      { mode: 0o755 },
    );
    for (const tool of ['lxc-info', 'lxc-ls']) writeFileSync(join(bin, tool), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const child = spawn('sh', ['-c', LXC_PROBE_SCRIPT, 'lxc-probe', '--every-owner', 'alice'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    expect(await new Promise((ok) => child.on('exit', ok))).toBe(0);
    const seen = parseLxcProbe(stdout, PROBE_MARK, '', 'any');
    expect(Object.keys(seen.owners)).toEqual(['alice', 'root', 'carol']);
    expect(seen.owners['carol']!.containers.map((c) => c.name)).toEqual(['c1']);
    expect(seen.owners['alice']!.containers.map((c) => c.name)).toEqual(['a1']);
  });
});

function write(file: string, text: string, expected: string, orig = ''): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('sh', ['-c', WRITE_LXC_FILE_SCRIPT, 'nestctl-write-lxc-file', file, expected, 'keep', ...(orig ? [orig] : [])]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(text);
  return new Promise((ok) => child.on('exit', (code) => ok({ code, stderr })));
}

describe('the LXC file writer (sh, temp files)', () => {
  it('creates the directory and file, keeps the original once, keeps the mode, and refuses a changed file or a symlink', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-lxcfile-'));
    const file = join(dir, 'etc/lxc/lxc-usernet');
    const orig = join(dir, 'state/lxc-usernet.orig');
    expect(await write(file, 'alice veth lxdbr0 1\n', 'absent', orig)).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('alice veth lxdbr0 1\n');
    expect(readFileSync(orig, 'utf8')).toBe(''); // it was absent
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const stale = await write(file, 'x\n', sha256('something else\n'), orig);
    expect(stale.code).toBe(LXC_STALE_EXIT);
    expect(stale.stderr).toMatch(/^plan is stale: .*lxc-usernet changed since it was planned/);
    expect(await write(file, 'alice veth lxdbr0 2\n', sha256('alice veth lxdbr0 1\n'), orig)).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(orig, 'utf8')).toBe('');
    const link = join(dir, 'link');
    symlinkSync(file, link);
    expect((await write(link, 'x\n', sha256('alice veth lxdbr0 2\n'))).code).toBe(LXC_STALE_EXIT);
    expect(readFileSync(file, 'utf8')).toBe('alice veth lxdbr0 2\n');
    expect(existsSync(`${file}.nestctl.`)).toBe(false);
  });
});

describe('parseLxcProbe', () => {
  const line = (name: string, status: string, body = ''): string =>
    `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`;
  it('reads owners and their containers in order, a missing account and a stopped container', () => {
    const out = [
      line('version', 'ok', '5.0.2\n'),
      line('apparmor', 'yes'),
      line('usernet', '1700000000.1', 'alice veth lxdbr0 1\n'),
      line('usernet_orig', 'absent'),
      line('owner', 'ok', 'alice'),
      line('home', 'ok', '/home/alice'),
      line('default_conf', '1700000000.2', 'lxc.idmap = u 0 100000 65536\n'),
      line('container', 'ok', 'box'),
      line('state', 'ok', 'RUNNING\n'),
      line('uid_map', '1700000000.3', '         0     100000      65536\n'),
      line('config', '1700000000.4', 'lxc.uts.name = box\n'),
      line('container', 'ok', 'old'),
      line('state', 'ok', 'STOPPED\n'),
      line('uid_map', 'absent'),
      line('config', '1700000000.5', 'lxc.uts.name = old\n'),
      line('owner', 'absent', 'bob'),
    ].join('\n');
    const lxc = parseLxcProbe(out, PROBE_MARK, '', 'any');
    expect(lxc.version).toBe('5.0.2');
    expect(lxc.apparmor).toBe(true);
    expect(lxc.usernet.text).toBe('alice veth lxdbr0 1\n');
    expect(lxc.owners['bob']).toEqual({ home: null, defaultConf: null, containers: [] });
    const a = lxc.owners['alice']!;
    expect(a.home).toBe('/home/alice');
    expect(a.containers.map((c) => [c.name, c.state, c.uidMap.map((e) => [e.nsid, e.hostid, e.maprange]), c.config.text])).toEqual([
      ['box', 'RUNNING', [[0, 100000, 65536]], 'lxc.uts.name = box\n'],
      ['old', 'STOPPED', [], 'lxc.uts.name = old\n'],
    ]);
  });

  it('says LXC is not installed when lxc-ls is not there', () => {
    expect(parseLxcProbe(line('version', 'absent'), PROBE_MARK, '', 'any').version).toBeNull();
  });
});

describe('the LXC probe script (sh)', () => {
  it('runs under sh: LXC found on PATH, an account that does not exist said so', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'nestctl-lxcbin-'));
    writeFileSync(join(bin, 'lxc-ls'), '#!/bin/sh\necho 5.0.2\n', { mode: 0o755 });
    const child = spawn('sh', ['-c', LXC_PROBE_SCRIPT, 'lxc-probe', 'nestctl-no-such-user'], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise((ok) => child.on('exit', ok));
    expect(code).toBe(0);
    const lxc = parseLxcProbe(stdout, PROBE_MARK, '', 'any');
    expect(lxc.version).toBe('5.0.2');
    expect(lxc.owners).toEqual({ 'nestctl-no-such-user': { home: null, defaultConf: null, containers: [] } });
  });
});

describe('ExecLevel: LXC calls', () => {
  it("writes root's create-time config first, then runs lxc-create; a stale LXC write is a plan-is-stale error", async () => {
    const calls: string[][] = [];
    const exec: Exec = async (argv) => {
      calls.push([...argv]);
      return { code: 0, stdout: '', stderr: '' };
    };
    const level = new ExecLevel(exec, '', {}, 'debian');
    await level.lxcCreate({ name: 'rb', owner: root, template: 'busybox', templateArgs: [], config: 'lxc.idmap = u 0 700000 65536\n' });
    expect(calls.map((a) => a.filter((w) => !w.includes('\n')))).toEqual([
      ['sh', '-c', 'nestctl-write-lxc-file', '/var/lib/nestctl/lxc/rb.conf', 'absent', 'keep'],
      ['lxc-create', '-P', '/var/lib/lxc', '-n', 'rb', '-f', '/var/lib/nestctl/lxc/rb.conf', '-t', 'busybox'],
    ]);
    const refusing = new ExecLevel(
      async () => ({ code: LXC_STALE_EXIT, stdout: '', stderr: 'plan is stale: /etc/lxc/lxc-usernet changed since it was planned\n' }),
      '',
      {},
      'debian',
    );
    const e = await refusing.writeLxcFile('/etc/lxc/lxc-usernet', 'root', 'x\n', null).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EnvironmentError);
    expect((e as Error).message).toBe('plan is stale: /etc/lxc/lxc-usernet changed since it was planned');
  });
});

describe('ExecLevel: the inside of an LXC container (LXC inside LXC)', () => {
  it("runs every command there through lxc-attach, argv only; a user's container as its owner, the home read once", async () => {
    expect(lxcAttachArgv('outer', root, ['sh', '-c', 'x'])).toEqual([
      'lxc-attach',
      '-P',
      '/var/lib/lxc',
      '-n',
      'outer',
      '--',
      'sh',
      '-c',
      'x',
    ]);
    expect(lxcAttachArgv('box', alice, ['lxc-ls'])).toEqual([
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-attach',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'box',
      '--',
      'lxc-ls',
    ]);
    const calls: string[][] = [];
    const line = (name: string, status: string, body = ''): string =>
      `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`;
    const exec: Exec = async (argv) => {
      calls.push([...argv]);
      // The host's LXC probe for alice: her home.
      const stdout =
        argv.includes('lxc-probe') && !argv.includes('lxc-attach')
          ? [
              line('version', 'ok', '5.0.2\n'),
              line('apparmor', 'no'),
              line('usernet', 'absent'),
              line('usernet_orig', 'absent'),
              line('owner', 'ok', 'alice'),
              line('home', 'ok', '/home/alice'),
              line('default_conf', 'absent'),
            ].join('\n')
          : '';
      return { code: 0, stdout, stderr: '' };
    };
    const host = new ExecLevel(exec, '', {}, 'debian');
    const mine = host.lxcChild('mine', 'alice');
    expect(mine.path).toBe('mine');
    await mine.lxcStart('deep', root, 'none');
    const deep = mine.lxcChild('deep', null);
    await deep.lxcDelete('deepest', root, false);
    const attach = [
      'runuser',
      '-u',
      'alice',
      '--',
      'env',
      'HOME=/home/alice',
      'lxc-attach',
      '-P',
      '/home/alice/.local/share/lxc',
      '-n',
      'mine',
      '--',
    ];
    expect(calls).toEqual([
      lxcProbeArgv(['alice']),
      [...attach, 'lxc-start', '-P', '/var/lib/lxc', '-n', 'deep'],
      [...attach, 'lxc-attach', '-P', '/var/lib/lxc', '-n', 'deep', '--', 'lxc-destroy', '-P', '/var/lib/lxc', '-n', 'deepest'],
    ]);
  });
});
