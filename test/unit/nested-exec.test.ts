import { afterEach, describe, expect, it, vi } from 'vitest';
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

  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives the failure back after eight attempts, about 5.5 s of waiting', async () => {
    vi.useFakeTimers();
    const { exec, calls } = scripted([{ code: 255, stdout: '', stderr: NOT_STARTED }]);
    const started = Date.now();
    const pending = nestedExec(exec, 'incus', 'c1')(['true']);
    await vi.runAllTimersAsync();
    const r = await pending;
    expect(r.code).toBe(255);
    expect(calls).toHaveLength(8);
    expect(Date.now() - started).toBe(5500);
  });

  it("sees the daemon's answer in streamed output too (a setup command), and only when nothing else came", async () => {
    vi.useFakeTimers();
    const streamedOnce = (lines: string[]): { exec: Exec; calls: number } => {
      const state = { exec: null as unknown as Exec, calls: 0 };
      state.exec = async (_argv, options) => {
        state.calls += 1;
        if (state.calls > 1) return { code: 0, stdout: '', stderr: '' };
        for (const l of lines) options?.onOutput?.('stderr', l);
        return { code: 255, stdout: '', stderr: '' };
      };
      return state;
    };
    const seen: string[] = [];
    const lost = streamedOnce([NOT_STARTED]);
    const pending = nestedExec(lost.exec, 'lxc', 'c1')(['sh', '-c', 'echo hi'], { onOutput: (_s, c) => seen.push(c) });
    await vi.runAllTimersAsync();
    expect((await pending).code).toBe(0);
    expect(lost.calls).toBe(2);
    expect(seen).toEqual([NOT_STARTED]);
    const ran = streamedOnce(['partial output\n', NOT_STARTED]);
    expect((await nestedExec(ran.exec, 'lxc', 'c1')(['sh', '-c', 'x'], { onOutput: () => undefined })).code).toBe(255);
    expect(ran.calls).toBe(1);
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
