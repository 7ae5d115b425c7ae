// The subid writer script for real, in a temp directory: the constant script is run by `sh`
// with the file path (and the .orig directory) pointed at temp files.

import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCKED_EXIT, REFUSED_EXIT, STALE_EXIT, WRITE_SUBID_SCRIPT } from '../../src/adapters/lxd/write-subid-script.js';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { REFUSED_HINT } from '../../src/core/subid/check-text.js';
import type { Exec } from '../../src/ports/exec.js';
import { sha256 } from '../../src/core/hash.js';

const OLD = 'root:100000:65536\nalice:165536:65536\n';
const NEW = 'root:300000:131072\nalice:165536:65536\n';
const ENTRY = 'root:300000:131072';

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
}

/** Runs the script on `file` with `text` on stdin; `.orig` records go to `state`. */
function run(file: string, text: string, args: { sha?: string; mode?: string; entry?: string; state: string }): Promise<Run> {
  const t0 = Date.now();
  const child = spawn('sh', [
    '-c',
    WRITE_SUBID_SCRIPT,
    'nestctl-write-subid',
    file,
    args.sha ?? sha256(OLD),
    args.mode ?? 'keep',
    args.entry ?? '',
    args.state,
  ]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // a refusing script may exit before it reads stdin (EPIPE)
  child.stdin.end(text);
  return new Promise((ok) => child.on('exit', (code) => ok({ code, stderr, ms: Date.now() - t0 })));
}

function setup(content = OLD): { dir: string; file: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nestctl-subid-'));
  const file = join(dir, 'subuid');
  writeFileSync(file, content, { mode: 0o640 });
  return { dir, file, state: join(dir, 'state') };
}

/** Only the file itself (and what the test put there) is left: no temp, pid or lock files. */
const leftovers = (dir: string): string[] => readdirSync(dir).filter((n) => /\.(lock|pid)$|\.nestctl\./.test(n));

describe('write-subid script', () => {
  it('replaces the file keeping mode and owner, writes the backup and the original, leaves nothing behind', async () => {
    const { dir, file, state } = setup();
    chownSync(file, 1234, 2345);
    const r = await run(file, NEW, { entry: ENTRY, state });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe(NEW);
    const st = statSync(file);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, 1234, 2345]);
    expect(readFileSync(`${file}-`, 'utf8')).toBe(OLD);
    expect(readFileSync(join(state, 'subuid.orig'), 'utf8')).toBe(OLD);
    expect(leftovers(dir)).toEqual([]);
  });

  it('exits 3 when the file changed since it was planned, leaving it untouched', async () => {
    const { file, state } = setup();
    const r = await run(file, NEW, { sha: sha256('something else\n'), state });
    expect(r.code).toBe(STALE_EXIT);
    expect(r.stderr).toContain(`${file} changed since it was planned`);
    expect(readFileSync(file, 'utf8')).toBe(OLD);
  });

  it('waits for a lock held by a live process, then exits 4 saying who holds it', async () => {
    const { file, state } = setup();
    writeFileSync(`${file}.lock`, `${process.pid}\n`);
    const r = await run(file, NEW, { state });
    expect(r.code).toBe(LOCKED_EXIT);
    expect(r.stderr).toContain(`${file} is locked (${file}.lock held by pid ${process.pid}`);
    expect(r.ms).toBeGreaterThanOrEqual(3000);
    expect(readFileSync(file, 'utf8')).toBe(OLD);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('reclaims a lock left by a process that is gone, as shadow does', async () => {
    const { dir, file, state } = setup();
    writeFileSync(`${file}.lock`, '2147483646\n');
    const r = await run(file, NEW, { state });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe(NEW);
    expect(leftovers(dir)).toEqual([]);
  });

  it.each([
    ['an empty text', '', 'it is empty and FILE is not'],
    ['a text cut short mid-line', 'root:300000:131072\nalice:1655', 'it does not end in a newline (cut short?)'],
    [
      'a line that is not owner:start:count',
      'root:300000:131072\nalice 165536 65536\n',
      'line 2 is neither owner:start:count nor a comment',
    ],
    ['a text without the planned entry', 'alice:165536:65536\n', `it lacks the planned entry ${ENTRY}`],
  ])('refuses %s with exit 5, changing nothing', async (_what, text, why) => {
    const { dir, file, state } = setup();
    const r = await run(file, text, { entry: ENTRY, state });
    expect(r.code).toBe(REFUSED_EXIT);
    expect(r.stderr.trim()).toBe(`refusing the new ${file}: ${why.replace('FILE', file)}`);
    expect(readFileSync(file, 'utf8')).toBe(OLD);
    expect([existsSync(`${file}-`), existsSync(state)]).toEqual([false, false]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('accepts comments and blank lines, and an empty text when restoring an empty original', async () => {
    const { file, state } = setup();
    const r = await run(file, `# ids\n\n${ENTRY} # nestctl\n`, { entry: `${ENTRY} # nestctl`, state });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const restore = await run(file, '', { sha: sha256(readFileSync(file, 'utf8')), mode: 'forget', state });
    expect(restore).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('never writes through a symlink', async () => {
    const { dir, file, state } = setup();
    const link = join(dir, 'subgid');
    symlinkSync(file, link);
    const r = await run(link, NEW, { state });
    expect(r.code).toBe(REFUSED_EXIT);
    expect(r.stderr.trim()).toBe(`${link} is a symbolic link; refusing to write through it`);
    expect(readFileSync(file, 'utf8')).toBe(OLD);
  });
});

describe('ExecLevel.writeSubid with the real script', () => {
  it('refuses a text cut short at a line boundary on its way down: the planned entry travels as an argument', async () => {
    const { file, state } = setup();
    // The level's exec, but /etc/subuid is our temp file and the text loses its last line in transit.
    const exec: Exec = (argv, options) =>
      new Promise((ok) => {
        const child = spawn(argv[0]!, [...argv.slice(1).map((a) => (a === '/etc/subuid' ? file : a)), state]);
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdin.on('error', () => undefined);
        child.stdin.end(
          `${String(options?.stdin ?? '')
            .split('\n')
            .slice(0, 1)
            .join('\n')}\n`,
        );
        child.on('exit', (code) => ok({ code: code ?? -1, stdout: '', stderr }));
      });
    const sent = `alice:165536:65536\n${ENTRY}\n`;
    await expect(
      new ExecLevel(exec, 'c1', {}, 'debian').writeSubid('subuid', sent, sha256(OLD), { entries: [ENTRY] }),
    ).rejects.toMatchObject({
      message: `refusing the new ${file}: it lacks the planned entry ${ENTRY}`,
      hint: REFUSED_HINT,
    });
    expect(readFileSync(file, 'utf8')).toBe(OLD);
  });
});

describe('the simulator refuses the same texts with the same words', () => {
  it.each([
    ['', 'it is empty and /etc/subuid is not'],
    ['root:300000:131072\nalice:1655', 'it does not end in a newline (cut short?)'],
    ['root:300000:131072\nalice 165536 65536\n', 'line 2 is neither owner:start:count nor a comment'],
  ])('%j', async (text, why) => {
    const host = createSimWorld({ host: { lxd: { flavour: 'debian', initialised: true }, subuid: OLD, subgid: OLD, images: [] } }).host();
    const obs = await host.probe();
    await expect(host.writeSubid('subuid', text, obs.subuid.sha256)).rejects.toThrow(`refusing the new /etc/subuid: ${why}`);
    expect((await host.probe()).subuid.sha256).toBe(obs.subuid.sha256);
    const { file, state } = setup();
    const r = await run(file, text, { state });
    expect(r.stderr.trim()).toBe(`refusing the new ${file}: ${why.replace('/etc/subuid', file)}`);
  });
});
