// The pieces a remote host is read and reached with: its range from an empty probe instance and
// the verdict on it, who the server is, and the argv of every command run against it.

import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  emptyProbeArgvs,
  lockArgvs,
  moveArgvs,
  probeName,
  relayCopyArgv,
  serverArgv,
  shellStepArgv,
} from '../../src/adapters/lxd/remote-commands.js';
import { ExecRemoteHost, probeRemoteRange, withRemoteLock } from '../../src/adapters/lxd/remote-host.js';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { restartArgv, waitReadyArgv, writeSubidArgv } from '../../src/adapters/lxd/commands.js';
import { ShellHostLevel } from '../../src/adapters/lxd/shell-host.js';
import { STALE_EXIT } from '../../src/adapters/lxd/write-subid-script.js';
import { shellWords } from '../../src/sim/shell.js';
import { flavourInfo } from '../../src/core/flavour/index.js';
import { simServer, simServerExec } from '../../src/sim/remote.js';
import { nestedArgv } from '../../src/adapters/nested-exec.js';
import { probedRange, remoteRangeVerdict } from '../../src/core/ids/remote-range.js';
import type { HostSpec } from '../../src/core/manifest/model.js';
import { parseServerIdentity, serverChange } from '../../src/core/observe/parse-server.js';
import type { Exec } from '../../src/ports/exec.js';
import { idmapJson } from './helpers/build.js';

const run = promisify(execFile);

const remoteHost = (shell: string[] | null = null): HostSpec => ({
  name: 'lab1',
  section: 'hosts.lab1',
  place: { kind: 'remote', remote: 'lab1', cli: null, client: 'lxc', flavour: 'debian', project: null, shell },
  owner: 'root',
  base: null,
  restart: null,
  flavour: null,
  profiles: [],
  pos: { line: 3, col: 3 },
});

describe("a remote daemon's range, from an empty probe instance", () => {
  it('reads the uid and gid ranges from volatile.idmap.next', () => {
    expect(probedRange(idmapJson(1000000, 1000000000))).toEqual({
      uid: { start: 1000000, size: 1000000000 },
      gid: { start: 1000000, size: 1000000000 },
    });
    // LXD may write one entry for both (Isuid and Isgid set).
    expect(probedRange(JSON.stringify([{ Isuid: true, Isgid: true, Hostid: 65536, Nsid: 0, Maprange: 131072 }]))).toEqual({
      uid: { start: 65536, size: 131072 },
      gid: { start: 65536, size: 131072 },
    });
    expect(probedRange(undefined)).toBeNull();
    expect(probedRange('[]')).toBeNull();
  });

  it('fits when the daemon hands out what the tree needs', () => {
    expect(
      remoteRangeVerdict({
        host: remoteHost(),
        member: null,
        range: probedRange(idmapJson(65536, 196608))!,
        need: 196608,
        flavour: 'debian',
      }),
    ).toEqual({ kind: 'fits' });
  });

  it('refuses a range too small with the exact lines to add on that server and the restart that keeps containers running', () => {
    const v = remoteRangeVerdict({
      host: remoteHost(),
      member: 'm2',
      range: probedRange(idmapJson(65536, 131072))!,
      need: 196608,
      flavour: 'debian',
    });
    expect(v).toEqual({
      kind: 'refused',
      message:
        'the tree on host lab1 needs 196608 ids from the LXD of member m2 of remote lab1, which hands out 131072 (uid 65536:131072, gid 65536:131072)',
      hint:
        "on member m2 of remote lab1, make root's first entry of at least 65536 ids root:65536:196608 in /etc/subuid and root:65536:196608 in /etc/subgid (keep the old entries after it while containers use them), " +
        'then restart the daemon without stopping its containers: systemctl restart lxd',
    });
  });

  it("with shell:, grows root's entry there instead of refusing; a snap is refused either way", () => {
    const range = probedRange(idmapJson(65536, 131072))!;
    expect(
      remoteRangeVerdict({ host: remoteHost(['ssh', 'root@lab1', '--']), member: null, range, need: 196608, flavour: 'incus' }),
    ).toEqual({ kind: 'grow', uid: { start: 65536, size: 196608 }, gid: { start: 65536, size: 196608 } });
    const snap = remoteRangeVerdict({ host: remoteHost(['ssh', 'root@lab1', '--']), member: null, range, need: 196608, flavour: 'snap' });
    expect(snap.kind === 'refused' && snap.hint).toMatch(/^a snap LXD takes its range from its own namespace/);
  });
});

describe('who a remote is', () => {
  const env = (name: string, fingerprint: string, clustered = false) =>
    JSON.stringify({
      api_version: '1.0',
      environment: { server_name: name, certificate_fingerprint: fingerprint, server_clustered: clustered },
    });
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);

  it('reads server_name, certificate_fingerprint and server_clustered from /1.0', () => {
    expect(parseServerIdentity(env('m1', A, true))).toEqual({ serverName: 'm1', fingerprint: A, clustered: true });
    expect(parseServerIdentity('{"environment":{}}')).toBeNull();
    expect(parseServerIdentity(env('m1', 'not-hex'))).toBeNull();
    expect(parseServerIdentity('Error: not found')).toBeNull();
  });

  it('names a remote that now points at another server; the same certificate under a new name is the same server', () => {
    const planned = parseServerIdentity(env('lab1', A))!;
    expect(serverChange('lab1', 'lab1', planned, parseServerIdentity(env('lab1', B))!)).toBe(
      'remote lab1 (host lab1) is now server lab1 with certificate bbbbbbbbbbbb…, but the plan was made against lab1 with certificate aaaaaaaaaaaa…',
    );
    expect(serverChange('lab1', 'lab1', planned, parseServerIdentity(env('renamed', A))!)).toBeNull();
  });
});

describe('argv against a remote (never a shell line)', () => {
  const top = { remote: 'lab1', project: null };
  const inProject = { remote: 'lab1', project: 'trees' };

  it('reaches a root container on a remote with one exec, and the levels below it through it', () => {
    expect(nestedArgv('lxc', 'c1', ['cat', '/etc/subuid'], top)).toEqual(['lxc', 'exec', 'lab1:c1', '-T', '--', 'cat', '/etc/subuid']);
    const inner = nestedArgv('lxc', 'c2', ['true']);
    expect(nestedArgv('incus', 'c1', inner, inProject)).toEqual([
      'incus',
      'exec',
      '--project',
      'trees',
      'lab1:c1',
      '-T',
      '--',
      'lxc',
      'exec',
      'c2',
      '-T',
      '--',
      'true',
    ]);
    // this machine, as before
    expect(nestedArgv('lxc', 'c1', ['true'])).toEqual(['lxc', 'exec', 'c1', '-T', '--', 'true']);
  });

  it("asks the server who it is, and probes its map (or a member's) with an empty instance it deletes", () => {
    expect(serverArgv('lxc', top)).toEqual(['lxc', 'query', 'lab1:/1.0']);
    expect(emptyProbeArgvs('lxc', inProject, probeName('3f9a'), 'm2')).toEqual({
      create: ['lxc', 'init', '--project', 'trees', 'lab1:nestctl-probe-3f9a', '--empty', '-q', '--target', 'm2'],
      read: ['lxc', 'config', 'get', '--project', 'trees', 'lab1:nestctl-probe-3f9a', 'volatile.idmap.next'],
      remove: ['lxc', 'delete', '--project', 'trees', 'lab1:nestctl-probe-3f9a', '-q'],
    });
    expect(emptyProbeArgvs('lxc', top, 'p', null).create).toEqual(['lxc', 'init', 'lab1:p', '--empty', '-q']);
  });

  it('relays an image of this machine to the remote, into its project', () => {
    expect(relayCopyArgv('lxc', 'f'.repeat(64), inProject, ['nest'])).toEqual([
      'lxc',
      'image',
      'copy',
      'f'.repeat(64),
      'lab1:',
      '--mode',
      'relay',
      '--target-project',
      'trees',
      '--alias',
      'nest',
    ]);
  });

  it('locks with a profile created once, naming its holder, and releases it', () => {
    const lock = lockArgvs('lxc', top);
    expect([lock.create, lock.setOwner('root@ctl pid 42 since 2026-01-01T00:00:00Z'), lock.getOwner, lock.release]).toEqual([
      ['lxc', 'profile', 'create', 'lab1:nestctl-lock'],
      ['lxc', 'profile', 'set', 'lab1:nestctl-lock', 'user.nestctl.owner=root@ctl pid 42 since 2026-01-01T00:00:00Z'],
      ['lxc', 'profile', 'get', 'lab1:nestctl-lock', 'user.nestctl.owner'],
      ['lxc', 'profile', 'delete', 'lab1:nestctl-lock'],
    ]);
  });

  it('moves a root container between members stopped: stop with a long timeout, move, start', () => {
    expect(moveArgvs('lxc', top, 'c1', 'm3')).toEqual([
      ['lxc', 'stop', 'lab1:c1', '--timeout', '600', '-q'],
      ['lxc', 'move', 'lab1:c1', '--target', 'm3', '-q'],
      ['lxc', 'start', 'lab1:c1', '-q'],
    ]);
  });
});

const FP_A = 'a'.repeat(64);
const IMG = 'f'.repeat(64);

function simulated(members: { name: string; range: { start: number; size: number } }[]) {
  const server = simServer('lab1', members[0]!.name, FP_A, members);
  const calls: string[][] = [];
  const sim = simServerExec(server, () => new Set([IMG]));
  const exec: Exec = (argv, options) => (calls.push([...argv]), sim(argv, options));
  return { server, calls, exec, host: new ExecRemoteHost(exec, 'lxc', { remote: 'lab1', project: null }, async () => []) };
}

describe('a remote read, locked and changed through its client (simulated server)', () => {
  const top = { remote: 'lab1', project: null };

  it("probes the daemon's map with an empty instance and deletes it, also when the map is unreadable", async () => {
    const r = simulated([{ name: 'lab1', range: { start: 65536, size: 131072 } }]);
    expect(await r.host.probeRange(null)).toEqual({ uid: { start: 65536, size: 131072 }, gid: { start: 65536, size: 131072 } });
    // A standalone server answers no member list: one probe instance, where LXD puts it.
    expect(r.calls.map((c) => c[1])).toEqual(['query', 'init', 'config', 'delete']);
    expect(r.server.instances.size).toBe(0);
    // A read that gives no map still deletes the probe.
    const broken: Exec = async (argv, o) => (argv[1] === 'config' ? { code: 0, stdout: '\n', stderr: '' } : r.exec(argv, o));
    await expect(probeRemoteRange(broken, 'lxc', top, null, 'abcd')).rejects.toThrow(/gave its probe instance no id map/);
    expect(r.server.instances.size).toBe(0);
  });

  it('reads the map of a probe instance its client said it could not create, when the instance is there (a lost operation)', async () => {
    const r = simulated([{ name: 'lab1', range: { start: 65536, size: 131072 } }]);
    const lost: Exec = async (argv, o) =>
      argv[1] === 'init' ? (await r.exec(argv, o), { code: 1, stdout: '', stderr: 'Error: Operation not found\n' }) : r.exec(argv, o);
    expect(await probeRemoteRange(lost, 'lxc', top, null, 'abcd')).toEqual({
      uid: { start: 65536, size: 131072 },
      gid: { start: 65536, size: 131072 },
    });
    expect(r.server.instances.size).toBe(0);
    // A create that really failed is reported as the create's failure.
    const failed: Exec = async (argv, o) =>
      argv[1] === 'init' ? { code: 1, stdout: '', stderr: 'Error: no space left\n' } : r.exec(argv, o);
    await expect(probeRemoteRange(failed, 'lxc', top, null, 'abce')).rejects.toThrow(
      /lxc init .* failed in remote lab1 \(exit 1\): Error: no space left/,
    );
  });

  it('a remote whose map is too small for the tree is refused with the fix to make there', async () => {
    const r = simulated([{ name: 'lab1', range: { start: 65536, size: 131072 } }]);
    const verdict = remoteRangeVerdict({
      host: remoteHost(),
      member: null,
      range: await r.host.probeRange(null),
      need: 196608,
      flavour: 'debian',
    });
    expect(verdict.kind === 'refused' && verdict.hint).toMatch(
      /^on remote lab1, make root's first entry of at least 65536 ids root:65536:196608 in \/etc\/subuid/,
    );
  });

  it('a held lock names its holder; the lock is released after the work, and after a failure', async () => {
    const r = simulated([{ name: 'lab1', range: { start: 65536, size: 131072 } }]);
    const release = await r.host.lock('alice@ctl1 pid 7 since 2026-01-01T00:00:00.000Z');
    await expect(r.host.lock('bob@ctl2 pid 9 since 2026-01-01T00:01:00.000Z')).rejects.toThrow(
      'remote lab1 is locked by another apply: alice@ctl1 pid 7 since 2026-01-01T00:00:00.000Z',
    );
    await release();
    expect(r.server.profiles.size).toBe(0);
    expect(await withRemoteLock(r.exec, 'lxc', top, 'bob', async () => r.server.profiles.get('nestctl-lock')?.['user.nestctl.owner'])).toBe(
      'bob',
    );
    await expect(withRemoteLock(r.exec, 'lxc', top, 'bob', () => Promise.reject(new Error('step failed')))).rejects.toThrow('step failed');
    expect(r.server.profiles.size).toBe(0);
  });

  it("probes each member of a cluster, and a container moved to another member has that member's map right after", async () => {
    const r = simulated([
      { name: 'm1', range: { start: 65536, size: 262144 } },
      { name: 'm2', range: { start: 65536, size: 393216 } },
    ]);
    expect((await r.host.probeRange('m2')).uid).toEqual({ start: 65536, size: 393216 });
    r.server.instances.set('c1', { member: 'm1', running: true, map: { start: 65536, size: 262144 } });
    await r.host.move('c1', 'm2', true);
    expect(r.calls.slice(-3).map((c) => c[1])).toEqual(['stop', 'move', 'start']);
    expect(r.server.instances.get('c1')).toEqual({ member: 'm2', running: true, map: { start: 65536, size: 393216 } });
  });

  it('relays an image this machine holds, and refuses one it does not', async () => {
    const r = simulated([{ name: 'lab1', range: { start: 65536, size: 131072 } }]);
    await r.host.relayImage(IMG, ['nest']);
    expect([...r.server.images]).toEqual([IMG]);
    await expect(r.host.relayImage('0'.repeat(64), ['x'])).rejects.toThrow(/Image not found/);
  });

  it("a saved plan's server is told apart from the one the remote name reaches now", async () => {
    const r = simulated([{ name: 'lab1', range: { start: 65536, size: 131072 } }]);
    const planned = await r.host.server();
    expect(serverChange('lab1', 'lab1', planned, await r.host.server())).toBeNull();
    r.server.fingerprint = 'c'.repeat(64);
    expect(serverChange('lab1', 'lab1', planned, await r.host.server())).toMatch(
      /^remote lab1 \(host lab1\) is now server lab1 with certificate cccccccccccc…/,
    );
  });
});

describe('host-level steps through shell:', () => {
  it('sends the step as one line of quoted words, which a POSIX shell reads back as the same argv', async () => {
    const hostile = ['sh', '-c', 'printf "%s\\n" "$@"', 'x', "it's", '$(echo injected)', 'a b', 'line\nbreak', '`id`;', ''];
    const argv = shellStepArgv(['ssh', 'root@lab1', '--'], hostile);
    expect(argv.slice(0, 3)).toEqual(['ssh', 'root@lab1', '--']);
    expect(argv).toHaveLength(4);
    // What the remote user's shell does with the line ssh hands it: `sh -c LINE`.
    const { stdout } = await run('sh', ['-c', argv[3]!]);
    expect(stdout).toBe(`${hostile.slice(4).join('\n')}\n`);
  });

  it("reads the line back in the simulator's shell as the same words", () => {
    const hostile = ['sh', '-c', 'printf "%s\\n" "$@"', "it's", '$(echo injected)', 'a b', 'line\nbreak', '`id`;', ''];
    expect(shellWords(shellStepArgv(['ssh', 'root@lab1', '--'], hostile)[3]!)).toEqual(hostile);
    expect(shellWords('unquoted $word')).toBeNull();
  });

  const PREFIX = ['ssh', 'root@lab1', '--'];
  /** A remote's top level with shell:, over an exec that records each argv and answers with `answer`. */
  function shellTop(answer: (words: string[]) => { code: number; stdout?: string; stderr?: string }) {
    const calls: { argv: string[]; stdin: string | undefined }[] = [];
    let rereads = 0;
    const exec: Exec = async (argv, options) => {
      calls.push({ argv: [...argv], stdin: options?.stdin?.toString() });
      const r = answer(argv.length === PREFIX.length + 1 ? (shellWords(argv.at(-1)!) ?? []) : []);
      return { code: r.code, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    const top = {
      remote: 'lab1',
      project: null,
      range: () => Promise.reject(new Error("the client's range is not read for a step through shell:")),
    };
    const level = new ShellHostLevel(
      new ExecLevel(exec, '', {}, 'debian', top),
      { remote: 'lab1', prefix: PREFIX, exec, restarted: async () => void (rereads += 1) },
      'debian',
    );
    return { level, calls, rereads: () => rereads };
  }

  it("writes root's subid file on the remote's machine through the prefix, the text on stdin", async () => {
    const t = shellTop(() => ({ code: 0 }));
    await t.level.writeSubid('subuid', 'root:1000000:131072\n', 'e'.repeat(64), { entries: ['root:1000000:131072'] });
    const expected = writeSubidArgv('subuid', 'e'.repeat(64), false, ['root:1000000:131072']);
    expect(t.calls).toEqual([{ argv: shellStepArgv(PREFIX, expected), stdin: 'root:1000000:131072\n' }]);
    expect(shellWords(t.calls[0]!.argv[3]!)).toEqual(expected);
  });

  it('refuses a write the script there finds stale', async () => {
    const t = shellTop(() => ({ code: STALE_EXIT, stderr: '/etc/subuid changed since the plan' }));
    await expect(t.level.writeSubid('subuid', 'root:1:65536\n', 'e'.repeat(64))).rejects.toThrow(
      'plan is stale: /etc/subuid changed since the plan',
    );
  });

  it("reads root's subid file there, and restarts the daemon there, then has its range read again", async () => {
    const t = shellTop((w) => (w.includes('nestctl-read-file') ? { code: 0, stdout: 'present\nroot:100000:65536\n' } : { code: 0 }));
    expect((await t.level.readSubid('subgid')).text).toBe('root:100000:65536\n');
    await t.level.restartDaemon(null);
    const info = flavourInfo('debian');
    expect(t.calls.slice(1).map((c) => c.argv)).toEqual([
      shellStepArgv(PREFIX, restartArgv(info)),
      shellStepArgv(PREFIX, waitReadyArgv(info)),
    ]);
    expect(t.rereads()).toBe(1);
  });

  it('runs host.restart there as given', async () => {
    const t = shellTop(() => ({ code: 0 }));
    await t.level.restartDaemon(['systemctl', 'restart', 'lxd']);
    expect(t.calls[0]!.argv).toEqual([...PREFIX, "'systemctl' 'restart' 'lxd'"]);
  });
});
