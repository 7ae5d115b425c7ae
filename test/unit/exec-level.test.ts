// The real LXD client over a recording Exec: argv arrays at every depth, data never spliced into
// a shell string, and failures turned into errors that say what to do.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { STALE_EXIT } from '../../src/adapters/lxd/write-subid-script.js';
import type { Exec, ExecOptions, ExecResult } from '../../src/ports/exec.js';

function recorder(answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({})) {
  const calls: Array<{ argv: readonly string[]; options?: ExecOptions }> = [];
  const exec: Exec = async (argv, options) => {
    calls.push({ argv, ...(options ? { options } : {}) });
    return { code: 0, stdout: '', stderr: '', ...answer(argv) };
  };
  return { exec, calls };
}

describe('ExecLevel', () => {
  it('reaches nested levels by composing lxc exec, one argv element per word', async () => {
    const { exec, calls } = recorder();
    const c2 = new ExecLevel(exec, '', {}, 'debian').child('c1', 'debian').child('c2', 'debian');
    expect(c2.path).toBe('c1/c2');
    await c2.createInstance({ name: 'c3', fingerprint: 'f'.repeat(64), profiles: ['default'], config: { 'user.note': 'a b; rm -rf /' } });
    expect(calls.at(-1)!.argv).toEqual([
      'lxc',
      'exec',
      'c1',
      '-T',
      '--',
      'lxc',
      'exec',
      'c2',
      '-T',
      '--',
      'lxc',
      'init',
      '-q',
      'f'.repeat(64),
      'c3',
      '-p',
      'default',
      '-c',
      'user.note=a b; rm -rf /',
    ]);
  });

  it('writes subid files through a constant script: path, hash and planned entry as arguments, text on stdin', async () => {
    const { exec, calls } = recorder();
    await new ExecLevel(exec, '', {}, 'debian')
      .child('c1', 'debian')
      .writeSubid('subuid', 'root:65536:131072\n', 'abc', { entries: ['root:65536:131072'] });
    const { argv, options } = calls[0]!;
    expect(argv.slice(0, 7)).toEqual(['lxc', 'exec', 'c1', '-T', '--', 'sh', '-c']);
    expect(argv[7]).not.toContain('root:65536');
    expect(argv.slice(8)).toEqual(['nestctl-write-subid', '/etc/subuid', 'abc', 'keep', 'root:65536:131072']);
    expect(options?.stdin).toBe('root:65536:131072\n');
  });

  it("waits for a nested level's daemon with its flavour's waitready, which starts a socket-activated one", async () => {
    const { exec, calls } = recorder();
    await new ExecLevel(exec, '', {}, 'debian').child('c1', 'incus').waitDaemon();
    expect(calls.map((c) => c.argv)).toEqual([
      ['lxc', 'exec', 'c1', '-T', '--', 'incus', 'admin', 'waitready', '--timeout', expect.stringMatching(/^\d+$/)],
    ]);
  });

  it('reports a changed file as a stale plan', async () => {
    const { exec } = recorder(() => ({ code: STALE_EXIT, stderr: '/etc/subuid changed since it was planned' }));
    await expect(new ExecLevel(exec, '', {}, 'debian').writeSubid('subuid', 'x', 'abc')).rejects.toThrow(
      'plan is stale: /etc/subuid changed since it was planned',
    );
  });

  it('says what to do about a socket it may not use, or a daemon that is not running', async () => {
    const denied = recorder(() => ({
      code: 1,
      stderr: 'Error: Get "http://unix.socket/1.0": dial unix /var/lib/lxd/unix.socket: connect: permission denied',
    }));
    await expect(new ExecLevel(denied.exec, '', {}, 'debian').startInstance('c1', false)).rejects.toMatchObject({
      message: 'permission denied on the LXD socket',
      hint: 'run nestctl as root or as a member of the lxd group',
    });
    const down = recorder(() => ({
      code: 1,
      stderr: 'Error: Get "http://unix.socket/1.0": dial unix /var/lib/lxd/unix.socket: connect: no such file or directory',
    }));
    await expect(new ExecLevel(down.exec, '', {}, 'debian').child('c1', 'debian').startInstance('c2', false)).rejects.toMatchObject({
      message: 'the LXD daemon is not running in c1',
    });
  });

  it('stops waiting for a container to boot when the daemon above it is gone (no minutes of retries)', async () => {
    const refused = 'Error: Get "http://unix.socket/1.0": dial unix /var/lib/lxd/unix.socket: connect: connection refused';
    const { exec, calls } = recorder((argv) => (argv.includes('exec') ? { code: 1, stderr: refused } : {}));
    const t0 = Date.now();
    await expect(new ExecLevel(exec, '', {}, 'debian').startInstance('c1', true)).rejects.toThrow(
      'the LXD daemon is not running on the host',
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(calls.filter((c) => c.argv.includes('exec'))).toHaveLength(1);
  });

  it('lists the instances to every probe of a level whose flavour two concurrent probes find out', async () => {
    const full = readFileSync(new URL('./fixtures/probe-host.txt', import.meta.url), 'utf8');
    const detection = full
      .split('\n')
      .filter((l) => / has_(lxd|incus) /.test(l))
      .join('\n');
    // The first answers come late, so both probes ask before either learns the flavour.
    let first = 2;
    const exec: Exec = async (argv) => {
      const named = argv[4] !== '';
      if (!named && first-- > 0) await new Promise((r) => setTimeout(r, 20));
      return { code: 0, stdout: named ? full : detection, stderr: '' };
    };
    const host = new ExecLevel(exec, '', {}, null);
    const seen = await Promise.all([host.probe(), host.probe()]);
    expect(seen.map((l) => l.instances.map((i) => i.name))).toEqual([['lab-c1'], ['lab-c1']]);
  });

  it('names the daemon a booting container runs on: Incus on an Incus host', async () => {
    const refused = 'Error: Get "http://unix.socket/1.0": dial unix /var/lib/incus/unix.socket: connect: connection refused';
    const { exec } = recorder((argv) => (argv.includes('exec') ? { code: 1, stderr: refused } : {}));
    await expect(new ExecLevel(exec, '', {}, 'incus').startInstance('c1', true)).rejects.toMatchObject({
      message: 'the Incus daemon is not running on the host',
      hint: 'start it (systemctl start incus) and try again',
    });
  });
});

describe('ExecLevel.probe', () => {
  const fact = (name: string, status: string, body = ''): string =>
    `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}\n`;
  /** What the probe script prints on a level with `installed`, having asked `asked` (or nothing). */
  const probeOutput = (installed: { snap?: boolean; lxd?: boolean; incus?: boolean }, asked: string | null): string =>
    fact('has_snap_lxd', installed.snap ? 'yes' : 'no') +
    fact('has_lxd', installed.lxd ? 'yes' : 'no') +
    fact('has_incus', installed.incus ? 'yes' : 'no') +
    (asked
      ? fact('asked', asked) +
        fact('server', '0', JSON.stringify({ environment: { server_version: '6.0.4' } })) +
        fact('instances', '0', '[]')
      : '');

  it('costs one round trip on a level whose flavour nobody named: the script asks the one installed', async () => {
    const { exec, calls } = recorder(() => ({ stdout: probeOutput({ incus: true }, 'incus') }));
    const level = await new ExecLevel(exec, '', {}, 'incus').child('c1', null).probe();
    expect(calls).toHaveLength(1);
    expect(level).toMatchObject({ path: 'c1', flavour: 'incus', daemon: { kind: 'up', version: '6.0.4' } });
    // Every flavour's client and unit travel as arguments: the script holds no flavour facts.
    expect(calls[0]!.argv.slice(-12)).toEqual([
      'probe',
      '',
      '',
      'debian',
      'lxc',
      'lxd',
      'incus',
      'incus',
      'incus',
      'snap',
      'lxc',
      'snap.lxd.daemon',
    ]);
  });

  it('asks again only when the script asked another daemon than decideFlavour chose', async () => {
    const { exec, calls } = recorder((argv) => ({ stdout: probeOutput({ snap: true }, argv[4] === '' ? 'debian' : 'snap') }));
    const level = await new ExecLevel(exec, '', {}, null).probe();
    expect(level.flavour).toBe('snap');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.argv.slice(-3)).toEqual(['probe', 'lxc', 'snap.lxd.daemon']);
  });

  it('asks nothing where LXD and Incus sit side by side and nothing names one', async () => {
    const { exec, calls } = recorder(() => ({ stdout: probeOutput({ lxd: true, incus: true }, null) }));
    const level = await new ExecLevel(exec, '', {}, null).probe();
    expect(calls).toHaveLength(1);
    expect(level).toMatchObject({ flavour: null, installed: ['debian', 'incus'], daemon: { kind: 'down' } });
  });
});

describe('ExecLevel.readSubid', () => {
  it('reads again when the answer was lost on its way back, and never takes that for an absent file', async () => {
    let calls = 0;
    const exec: Exec = async () => ({ code: 0, stdout: calls++ === 0 ? '' : 'present\nroot:100000:65536\n', stderr: '' });
    expect(await new ExecLevel(exec, '', {}, 'debian').child('c1', 'debian').readSubid('subuid')).toMatchObject({
      text: 'root:100000:65536\n',
    });
    expect(calls).toBe(2);
  });

  it('says absent only when the script says so, and fails after three lost answers', async () => {
    const absent: Exec = async () => ({ code: 0, stdout: 'absent\n', stderr: '' });
    expect(await new ExecLevel(absent, '', {}, 'debian').readSubid('subgid')).toEqual({ text: null, sha256: null });
    const lost: Exec = async () => ({ code: 0, stdout: '', stderr: '' });
    await expect(new ExecLevel(lost, '', {}, 'debian').child('c1', 'debian').readSubid('subuid')).rejects.toThrow(
      'reading /etc/subuid in c1 gave no answer 3 times',
    );
  });

  it('asks a probe again whose answer was lost, instead of reading an empty level', async () => {
    const full = readFileSync(new URL('./fixtures/probe-host.txt', import.meta.url), 'utf8');
    let calls = 0;
    const exec: Exec = async () => ({ code: 0, stdout: calls++ === 0 ? '' : full, stderr: '' });
    const level = await new ExecLevel(exec, '', {}, 'debian').probe();
    expect(level.instances.map((i) => i.name)).toEqual(['lab-c1']);
    expect(calls).toBe(2);
  });
});
