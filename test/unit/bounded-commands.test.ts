// No client command runs unbounded (adapters/lxd/bounded.ts): a process past its time is killed
// with everything it started, a stuck read is asked again, and a change whose client was killed
// is judged by what the daemon shows afterwards.

import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { processExec } from '../../src/adapters/process-exec.js';
import { sha256 } from '../../src/core/hash.js';
import { TimedOutError } from '../../src/core/errors.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import type { Exec, ExecOptions, ExecResult } from '../../src/ports/exec.js';

const STUCK: ExecResult = { code: 137, stdout: '', stderr: '\n(killed after 120000 ms)', timedOut: true };

/** An Exec that answers by argv; `stuck(argv, n)` says whether the n-th call of that kind hangs. */
function fake(answer: (argv: readonly string[], n: number) => ExecResult) {
  const calls: Array<{ argv: readonly string[]; options?: ExecOptions }> = [];
  const exec: Exec = async (argv, options) => {
    calls.push({ argv, ...(options ? { options } : {}) });
    return answer(argv, calls.length);
  };
  return { exec, calls };
}

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const instances = (status: string): ExecResult =>
  ok(JSON.stringify([{ name: 'c1', project: 'default', status, profiles: [], config: {} }]));

describe('processExec past its time', () => {
  it('kills the whole process group, so a child holding the output open cannot keep it waiting', async () => {
    const t0 = Date.now();
    const r = await processExec(['sh', '-c', 'sleep 30 & echo started; wait'], { timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toBe('started\n');
    expect(r.stderr).toContain('(killed after 300 ms)');
  });

  it('does not mark a command that finished in time', async () => {
    const r = await processExec(['sh', '-c', 'exit 3'], { timeoutMs: 5000 });
    expect(r).toEqual({ code: 3, stdout: '', stderr: '' });
  });
});

describe('ExecLevel with a client that never returns', () => {
  it('gives every read a bound and asks a stuck read again', async () => {
    const { exec, calls } = fake((_argv, n) => (n === 1 ? STUCK : ok('[]')));
    expect(await new ExecLevel(exec, '', {}, 'debian').instances()).toEqual([]);
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.options?.timeoutMs === 120_000)).toBe(true);
  });

  it('fails a read that is stuck three times as timed out, naming the command', async () => {
    const { exec, calls } = fake(() => STUCK);
    const failed = new ExecLevel(exec, '', {}, 'debian').child('c1', 'debian').readSubid('subuid');
    await expect(failed).rejects.toBeInstanceOf(TimedOutError);
    await expect(failed).rejects.toThrow(/did not finish in c1: \(killed after 120000 ms\)/);
    expect(calls).toHaveLength(3);
  });

  it('asks a stuck probe again', async () => {
    const { exec, calls } = fake((_argv, n) => (n === 1 ? STUCK : ok(`${PROBE_MARK} now 1 \n`)));
    await new ExecLevel(exec, '', {}, 'debian').probe();
    expect(calls).toHaveLength(2);
  });

  it('takes a start whose client was killed as done when the daemon shows the container running', async () => {
    const { exec, calls } = fake((argv) => (argv.includes('start') ? STUCK : instances('Running')));
    await new ExecLevel(exec, '', {}, 'debian').startInstance('c1', false);
    expect(calls.map((c) => c.argv[1])).toEqual(['start', 'query']);
  });

  it('fails a start whose client was killed when the container is not running', async () => {
    const { exec } = fake((argv) => (argv.includes('start') ? STUCK : instances('Stopped')));
    await expect(new ExecLevel(exec, '', {}, 'debian').startInstance('c1', false)).rejects.toBeInstanceOf(TimedOutError);
  });

  it('takes a stop whose client was killed as done when the daemon shows it stopped', async () => {
    const { exec } = fake((argv) => (argv.includes('stop') ? STUCK : instances('Stopped')));
    await expect(new ExecLevel(exec, '', {}, 'debian').stopInstance('c1')).resolves.toBeUndefined();
  });

  it('takes a subid write whose client was killed as done when the file reads back as written', async () => {
    const text = 'root:65536:131072\n';
    const { exec, calls } = fake((argv) => (argv.includes('nestctl-write-subid') ? STUCK : ok(`present\n${text}`)));
    await new ExecLevel(exec, '', {}, 'debian').child('c1', 'debian').writeSubid('subuid', text, null);
    expect(calls).toHaveLength(2);
    const other = fake((argv) => (argv.includes('nestctl-write-subid') ? STUCK : ok('present\nroot:1:2\n')));
    await expect(new ExecLevel(other.exec, '', {}, 'debian').child('c1', 'debian').writeSubid('subuid', text, null)).rejects.toBeInstanceOf(
      TimedOutError,
    );
  });

  it('takes a file write whose client was killed as done when the file reads back with its content, mode and owner', async () => {
    const data = Buffer.from('hello\n');
    const facts = (mode: string): string => `${PROBE_MARK} file ${mode} 0 0 ${data.length} ${sha256(data)} ${data.toString('base64')}\n`;
    const level = (mode: string) => fake((argv) => (argv.includes('push-file') ? STUCK : ok(facts(mode))));
    const file = { path: '/etc/motd', data: data.toString('base64'), mode: 0o644, uid: 0, gid: 0, expected: null };
    const same = level('644');
    await new ExecLevel(same.exec, '', {}, 'debian').writeFile('c1', file);
    expect(same.calls.map((c) => c.argv[6])).toEqual(['-c', '-c']);
    const other = level('600');
    await expect(new ExecLevel(other.exec, '', {}, 'debian').writeFile('c1', file)).rejects.toBeInstanceOf(TimedOutError);
  });

  it('asks a boot wait again when its client was stopped, instead of failing the start', async () => {
    let waits = 0;
    const { exec, calls } = fake((argv) => (argv.includes('exec') ? (++waits === 1 ? STUCK : ok()) : ok()));
    await new ExecLevel(exec, '', {}, 'debian').startInstance('c1', true);
    const boots = calls.filter((c) => c.argv.includes('exec'));
    expect(boots).toHaveLength(2);
    expect(boots.every((c) => (c.options?.timeoutMs ?? Infinity) <= 45_000)).toBe(true);
  });

  it('bounds a change that names no time of its own', async () => {
    const { exec, calls } = fake(() => ok());
    await new ExecLevel(exec, '', {}, 'debian').updateInstance('c1', { set: { 'user.a': '1' }, unset: ['user.b'] });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.options?.timeoutMs === 600_000)).toBe(true);
  });
});
