// A client that lost its operation's end (adapters/lxd/bounded.ts): nestctl's own scripts print
// END_MARK and their exit code last, and processExec stops waiting for a program that printed it
// and did not exit. Real processes (sh), no LXD.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { END_MARK } from '../../src/adapters/lxd/bounded.js';
import { READ_FILES_SCRIPT, WRITE_FILE_SCRIPT } from '../../src/adapters/lxd/files-script.js';
import { END_GRACE_MS, processExec } from '../../src/adapters/process-exec.js';

describe('the end mark', () => {
  it('a program that printed it and hangs is killed after the grace, with the marked code and the mark left out', async () => {
    const t0 = Date.now();
    const r = await processExec(['sh', '-c', `echo hello; echo "${END_MARK} 3"; sleep 30`], { endMark: END_MARK, timeoutMs: 20_000 });
    expect(r).toMatchObject({ code: 3, stdout: 'hello\n' });
    expect(r.timedOut).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(END_GRACE_MS + 10_000);
  });

  it('a program that exits keeps its own code; without the option the line is plain output', async () => {
    expect(await processExec(['sh', '-c', `echo a; echo "${END_MARK} 0"`], { endMark: END_MARK })).toMatchObject({
      code: 0,
      stdout: 'a\n',
    });
    expect(await processExec(['sh', '-c', `echo "${END_MARK} 0"`])).toMatchObject({ code: 0, stdout: `${END_MARK} 0\n` });
    // A mark not on the last line does not end anything.
    expect(await processExec(['sh', '-c', `echo "${END_MARK} 0"; echo more; exit 2`], { endMark: END_MARK })).toMatchObject({
      code: 2,
      stdout: `${END_MARK} 0\nmore\n`,
    });
  });

  it("nestctl's file scripts print it last, with their exit code, on a real sh", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-mark-'));
    const file = join(dir, 'f.txt');
    const write = await processExec(
      ['sh', '-c', WRITE_FILE_SCRIPT, 'push-file', file, '644', String(process.getuid?.() ?? 0), String(process.getgid?.() ?? 0), 'absent'],
      { stdin: 'hi\n', endMark: END_MARK },
    );
    expect(write, write.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(readFileSync(file, 'utf8')).toBe('hi\n');
    const stale = await processExec(['sh', '-c', WRITE_FILE_SCRIPT, 'push-file', file, '644', '0', '0', 'absent'], {
      stdin: 'x',
      endMark: END_MARK,
    });
    expect(stale.code).toBe(3);
    const raw = await processExec(['sh', '-c', READ_FILES_SCRIPT, 'files', file]);
    expect(raw.stdout.trimEnd().split('\n').pop()).toBe(`${END_MARK} 0`);
    const read = await processExec(['sh', '-c', READ_FILES_SCRIPT, 'files', file], { endMark: END_MARK });
    expect(read.stdout).not.toContain(END_MARK);
    expect(read.stdout).toContain(' file 644 ');
  });
});
