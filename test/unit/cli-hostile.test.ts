// Hostile input at the CLI's edges: whatever arguments, files or keys arrive, nestctl answers
// with a clear error and exit 1 (or declines), never a stack trace, never "internal error", never
// a hang. Every case runs the built CLI against the simulated LXD (--simulate / --world), so no
// case can reach this machine's LXD.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliRun, ROOT, nestctl, nestctlAtPrompt, runCommand } from './helpers/cli.js';

const LEAF = 'test/unit/fixtures/leaf.yaml';
const LEAF_TEXT = readFileSync(join(ROOT, LEAF));
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-hostile-'));
const at = (name: string): string => join(tmp, name);
const STACK = /^\s+at /m;

beforeAll(async () => {
  mkdirSync(at('dir'));
  writeFileSync(at('binary.bin'), Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x00, 0x01]));
  writeFileSync(at('huge-world.yaml'), Buffer.alloc(17 * 1024 * 1024, 0x61));
  writeFileSync(at('huge.yaml'), `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  writeFileSync(at('list-world.yaml'), '- just\n- a list\n');
  writeFileSync(at('truncated.plan.json'), '{"formatVersion": 1, "steps": [');
  writeFileSync(at('target.json'), '{}');
  symlinkSync(at('target.json'), at('link.plan.json'));
  writeFileSync(at('\u00e9t\u00e9.yaml'), LEAF_TEXT);
  await promisify(execFile)('mkfifo', [at('fifo.yaml')]);
});

// The huge inputs are 19 MiB together: do not leave them behind.
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The contract every hostile run must keep. */
function expectClean(r: CliRun, code: number): void {
  expect(r.timedOut, 'finished in time').toBe(false);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(code);
  expect(r.stdout).not.toMatch(STACK);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stdout + r.stderr).not.toContain('internal error');
}

const cases: Array<[string, string[], RegExp]> = [
  ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['unknown option', ['plan', '--simulate', '--bogus', LEAF], /unknown option '--bogus'/],
  ['missing argument', ['plan', '--simulate'], /missing required argument 'file'/],
  ['option missing its value', ['plan', '--simulate', LEAF, '--out'], /argument missing/],
  [
    '--host-restart invalid JSON',
    ['plan', '--simulate', '--host-restart', '[', LEAF],
    /--host-restart: not valid JSON[\s\S]*e\.g\. --host-restart/,
  ],
  [
    '--host-restart not an array of strings',
    ['plan', '--simulate', '--host-restart', '[1,2]', LEAF],
    /--host-restart: expected a JSON array of strings/,
  ],
  ['--host-restart empty array', ['plan', '--simulate', '--host-restart', '[]', LEAF], /--host-restart: empty command/],
  ['--host-restart blank', ['plan', '--simulate', '--host-restart', '  ', LEAF], /--host-restart: empty command/],
  ['--host-restart empty word', ['plan', '--simulate', '--host-restart', '["", "restart"]', LEAF], /--host-restart: empty word/],
  [
    '--host-restart option as program',
    ['plan', '--simulate', '--host-restart=-rf /', LEAF],
    /--host-restart: "-rf" is an option, not a program/,
  ],
  ['--out into a missing directory', ['plan', '--simulate', '--out', at('nope/p.json'), LEAF], /the directory .*nope does not exist/],
  ['--out onto a directory', ['plan', '--simulate', '--out', at('dir'), LEAF], /--out .*dir: is a directory/],
  ['--out with a trailing slash', ['plan', '--simulate', '--out', `${at('newdir')}/`, LEAF], /expected a file name/],
  ['--out through a symlink', ['plan', '--simulate', '--out', at('link.plan.json'), LEAF], /is a symbolic link/],
  ['--out in a read-only location', ['plan', '--simulate', '--out', '/proc/nestctl.plan.json', LEAF], /cannot create a file in \/proc/],
  ['--world is a directory', ['plan', '--world', at('dir'), LEAF], /is a directory, not a file/],
  ['--world is missing', ['plan', '--world', at('missing.yaml'), LEAF], /missing\.yaml: no such file/],
  ['--world is binary', ['plan', '--world', at('binary.bin'), LEAF], /binary\.bin: not UTF-8 text/],
  ['--world is huge', ['plan', '--world', at('huge-world.yaml'), LEAF], /larger than 16 MiB/],
  ['--world is not a world', ['plan', '--world', at('list-world.yaml'), LEAF], /list-world\.yaml:1:1: error: expected a mapping/],
  ['--target climbing out', ['plan', '--simulate', '--target', '../x', LEAF], /--target \.\.\/x: no such container/],
  ['--target empty', ['plan', '--simulate', '--target', '', LEAF], /--target: empty node path/],
  ['--target with an empty segment', ['plan', '--simulate', '--target', 'c1//c2', LEAF], /--target c1\/\/c2: no such container/],
  ['manifest is a directory', ['plan', '--simulate', at('dir')], /is a directory, not a file/],
  ['manifest is a FIFO (no writer: would block a plain open)', ['plan', '--simulate', at('fifo.yaml')], /not a regular file/],
  ['manifest is /dev/zero', ['validate', '/dev/zero'], /\/dev\/zero: not a regular file/],
  ['manifest is huge', ['validate', at('huge.yaml')], /larger than 1 MiB/],
  ['manifest is -', ['apply', '--simulate', '--auto-approve', '-'], /standard input \(-\) is not supported/],
  ['show of a manifest', ['show', LEAF], /is not a saved plan/],
  ['show of a truncated plan', ['show', at('truncated.plan.json')], /truncated\.plan\.json:1:\d+: error: not valid JSON/],
  ['apply --json without approval', ['apply', '--simulate', '--json', LEAF], /needs --auto-approve/],
];

describe.concurrent('hostile arguments and files: exit 1, a clear message, no stack trace', () => {
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await nestctl(args);
    expectClean(r, 1);
    expect(r.stderr).toMatch(message);
  });

  it('a file name that is not UTF-8', async () => {
    // Through sh so the name reaches nestctl as raw bytes (0xff is never valid UTF-8).
    const r = await runCommand(['sh', '-c', `node '${CLI}' plan --simulate "$(printf '${tmp}/\\377.yaml')"`]);
    expectClean(r, 1);
    expect(r.stderr).toMatch(/\.yaml: no such file/);
  });

  it('a file name with non-ASCII letters is just a file', async () => {
    const r = await nestctl(['validate', at('\u00e9t\u00e9.yaml')]);
    expectClean(r, 0);
  });

  it('a closed stdout (EPIPE) ends quietly', async () => {
    const r = await nestctl(['plan', '--simulate', 'examples/seed.yaml'], { closeStdout: true });
    expectClean(r, 0);
    expect(r.stderr).toBe('');
  });

  it('a closed stdout does not cut a command short: it runs to its end and exits with its own code', async () => {
    const r = await nestctl(['plan', '--simulate', '--detailed-exitcode', 'examples/seed.yaml'], { closeStdout: true });
    expectClean(r, 2);
    const apply = await nestctl(['apply', '--simulate', '--auto-approve', 'examples/seed.yaml'], { closeStdout: true });
    expectClean(apply, 0);
    expect(apply.stderr).toBe('');
  });
});

describe('the approval prompt under a terminal', () => {
  it.each([
    ['Ctrl-D (end of input)', '\x04'],
    ['Ctrl-C', '\x03'],
  ])('%s cancels: "Apply cancelled.", exit 1, no hang', async (_name, key) => {
    const r = await nestctlAtPrompt(['apply', '--simulate', LEAF], key);
    expect(r.prompted).toBe(true);
    expectClean(r, 1);
    expect(r.stdout).toContain('Apply cancelled.');
    expect(r.stdout).not.toContain('Apply complete');
  });

  it('Ctrl-D at the destroy prompt cancels the destroy', async () => {
    const r = await nestctlAtPrompt(['destroy', '--world', 'test/unit/fixtures/worlds/leaf-converged.yaml', LEAF], '\x04');
    expect(r.prompted).toBe(true);
    expectClean(r, 1);
    expect(r.stdout).toContain('Destroy cancelled.');
  });

  it('"yes" still approves, and progress on the terminal runs to the end', async () => {
    const r = await nestctlAtPrompt(['apply', '--simulate', LEAF], 'yes\r');
    expectClean(r, 0);
    expect(r.stdout).toContain('Apply complete!');
  });
});
