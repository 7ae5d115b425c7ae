import { describe, expect, it } from 'vitest';
import { nestedArgv, nestedExec } from '../../src/adapters/nested-exec.js';
import type { Exec, ExecResult } from '../../src/ports/exec.js';

const NOT_STARTED = 'Error: Failed to retrieve PID of executing child process\n';

/** A parent level that answers from a script of results and records what it was asked. */
function scripted(results: ExecResult[]): { exec: Exec; calls: string[][] } {
  const calls: string[][] = [];
  const exec: Exec = async (argv) => {
    calls.push([...argv]);
    return results[Math.min(calls.length - 1, results.length - 1)]!;
  };
  return { exec, calls };
}

describe('nestedExec', () => {
  it('runs argv in the container through the parent client, as one argv', async () => {
    const { exec, calls } = scripted([{ code: 0, stdout: 'ok', stderr: '' }]);
    const r = await nestedExec(exec, 'lxc', 'c1')(['cat', '/etc/subuid']);
    expect(r.stdout).toBe('ok');
    expect(calls).toEqual([nestedArgv('lxc', 'c1', ['cat', '/etc/subuid'])]);
    expect(calls[0]).toEqual(['lxc', 'exec', 'c1', '-T', '--', 'cat', '/etc/subuid']);
  });

  it('runs a command again when the daemon says it never started', async () => {
    const { exec, calls } = scripted([
      { code: 255, stdout: '', stderr: NOT_STARTED },
      { code: 0, stdout: 'done', stderr: '' },
    ]);
    const r = await nestedExec(exec, 'lxc', 'c1')(['true']);
    expect(r).toEqual({ code: 0, stdout: 'done', stderr: '' });
    expect(calls).toHaveLength(2);
  });

  it('gives the failure back after three attempts', async () => {
    const { exec, calls } = scripted([{ code: 255, stdout: '', stderr: NOT_STARTED }]);
    const r = await nestedExec(exec, 'incus', 'c1')(['true']);
    expect(r.code).toBe(255);
    expect(calls).toHaveLength(3);
  });

  it('never runs again a command that failed for another reason (it may have run)', async () => {
    for (const failed of [
      { code: 255, stdout: '', stderr: 'Error: Instance not found\n' },
      { code: 1, stdout: '', stderr: NOT_STARTED },
    ]) {
      const { exec, calls } = scripted([failed, { code: 0, stdout: '', stderr: '' }]);
      expect(await nestedExec(exec, 'lxc', 'c1')(['sh', '-c', 'exit 1'])).toEqual(failed);
      expect(calls).toHaveLength(1);
    }
  });
});
