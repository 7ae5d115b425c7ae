// The file probe and the file writer for real, with `sh` on temp files: what the scripts print is
// what the parser reads, and ExecLevel sends paths as arguments through the nested exec.

import { spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILE_REFUSED_EXIT, FILE_STALE_EXIT, READ_FILES_SCRIPT, WRITE_FILE_SCRIPT } from '../../src/adapters/lxd/files-script.js';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { parseFileFacts } from '../../src/core/observe/parse-files.js';
import { sha256 } from '../../src/core/hash.js';
import type { Exec, ExecResult } from '../../src/ports/exec.js';

/** Runs argv locally (no shell of ours), stdin as given. */
const local: Exec = (argv, options = {}) =>
  new Promise<ExecResult>((ok) => {
    const child = spawn(argv[0]!, argv.slice(1));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
    child.on('exit', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });

const dir = (): string => mkdtempSync(join(tmpdir(), 'nestctl-files-'));

describe('read-files script', () => {
  it('prints absent, other and each file facts in argument order, parsed back exactly', async () => {
    const d = dir();
    const motd = join(d, 'motd');
    writeFileSync(motd, 'hi there\n', { mode: 0o640 });
    const odd = join(d, 'it\'s a "name" with spaces');
    writeFileSync(odd, '');
    symlinkSync(motd, join(d, 'link'));
    const paths = [join(d, 'missing'), motd, d, join(d, 'link'), odd];
    const r = await local(['sh', '-c', READ_FILES_SCRIPT, 'files', ...paths]);
    expect(r.code).toBe(0);
    const facts = parseFileFacts(r.stdout, PROBE_MARK, paths);
    const st = statSync(motd);
    expect(facts).toEqual({
      [paths[0]!]: null,
      [motd]: {
        kind: 'file',
        sha256: sha256('hi there\n'),
        mode: 0o640,
        uid: st.uid,
        gid: st.gid,
        size: 9,
        data: Buffer.from('hi there\n').toString('base64'),
      },
      [d]: { kind: 'other' },
      [paths[3]!]: { kind: 'other' },
      [odd]: { kind: 'file', sha256: sha256(''), mode: 0o644 & ~process.umask(), uid: st.uid, gid: st.gid, size: 0, data: '' },
    });
  });

  it('leaves out the content of a file too large to diff', async () => {
    const d = dir();
    const big = join(d, 'big');
    writeFileSync(big, Buffer.alloc(70_000, 1));
    const r = await local(['sh', '-c', READ_FILES_SCRIPT, 'files', big]);
    expect(parseFileFacts(r.stdout, PROBE_MARK, [big])?.[big]).toMatchObject({ kind: 'file', size: 70_000, data: null });
  });

  it('ExecLevel reads them inside the container through the nested exec, paths as arguments', async () => {
    const d = dir();
    writeFileSync(join(d, 'a'), 'x');
    const seen: string[][] = [];
    const host: Exec = (argv, options) => {
      seen.push([...argv]);
      // `lxc exec c1 -T -- sh -c SCRIPT files PATH`: run what follows `--` here.
      return local(argv.slice(argv.indexOf('--') + 1), options);
    };
    const facts = await new ExecLevel(host, '', {}, 'debian').readFiles('c1', [join(d, 'a')]);
    expect(facts[join(d, 'a')]).toMatchObject({ kind: 'file', sha256: sha256('x') });
    expect(seen[0]!.slice(0, 8)).toEqual(['lxc', 'exec', 'c1', '-T', '--', 'sh', '-c', READ_FILES_SCRIPT]);
    expect(seen[0]!.slice(8)).toEqual(['files', join(d, 'a')]);
  });
});

describe('write-file script', () => {
  const write = (path: string, content: string, expected: string, mode = '640', uid = '1234', gid = '2345') =>
    local(['sh', '-c', WRITE_FILE_SCRIPT, 'push-file', path, mode, uid, gid, expected], { stdin: content });

  it('writes the bytes with mode and owner, creating the directory, and leaves no temp file', async () => {
    const d = dir();
    const file = join(d, 'etc', 'app.conf');
    const r = await write(file, 'a = 1\n', 'absent');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('a = 1\n');
    const st = statSync(file);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 1234, 2345]);
    expect(readdirSync(join(d, 'etc'))).toEqual(['app.conf']);
  });

  it('refuses a file that is not as planned (exit 3) and leaves it', async () => {
    const d = dir();
    const file = join(d, 'motd');
    writeFileSync(file, 'edited\n');
    const r = await write(file, 'new\n', sha256('planned\n'));
    expect(r.code).toBe(FILE_STALE_EXIT);
    expect(r.stderr).toContain('changed after the plan was made');
    expect(readFileSync(file, 'utf8')).toBe('edited\n');
    expect((await write(file, 'new\n', sha256('edited\n'))).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('new\n');
  });

  it('never replaces a symlink or a directory (exit 5)', async () => {
    const d = dir();
    const target = join(d, 'target');
    writeFileSync(target, 'keep\n');
    symlinkSync(target, join(d, 'link'));
    expect((await write(join(d, 'link'), 'x', 'any')).code).toBe(FILE_REFUSED_EXIT);
    expect((await write(d, 'x', 'any')).code).toBe(FILE_REFUSED_EXIT);
    expect(lstatSync(join(d, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
  });
});
