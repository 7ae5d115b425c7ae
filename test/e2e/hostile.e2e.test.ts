// A hostile container on real LXD: inside hst1 (which runs LXD and holds hst2), what nestctl
// runs and reads is replaced — the `lxc` early on the PATH, a file nestctl diffs — by versions
// that print terminal escapes, 200 MB, an answer that never ends, or a probe line of their own.
// Each time `plan` (and once `apply`) ends in bounded time and memory, prints not one raw control
// character with NO_COLOR=1, names the level that misbehaved, and changes nothing elsewhere: the
// sibling hstok and the host's subid files are as they were. One tree, built once.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, RESTART, ROOT, deleteInstances, execIn, labUnavailable, nestctl, run } from './lab.js';
import { saveSubidFiles } from './lab.js';

const why = labUnavailable();
const MANIFEST = 'test/e2e/manifests/hostile.yaml';
const OURS = ['hst1', 'hstok'];
const NO_CHANGES = 'No changes. The containers match the manifest.';
/** Every control character but newline and tab, DEL, C1 controls, and the bidi and invisible format characters. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-hostile-'));

interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set size of the nestctl process, MiB. */
  peakMiB: number;
}

/** nestctl with NO_COLOR=1, its time and its peak RSS (test/e2e/peak-rss.mjs). */
async function measured(args: string[], timeoutMs = 5 * 60_000): Promise<Measured> {
  const file = join(tmp, `rss-${Date.now()}`);
  const t0 = Date.now();
  const r = await run(['node', '--import', join(ROOT, 'test/e2e/peak-rss.mjs'), CLI, ...args], {
    timeoutMs,
    env: { NO_COLOR: '1', NESTCTL_PEAK_RSS_FILE: file },
  });
  const ms = Date.now() - t0;
  let peakMiB = Number.NaN;
  try {
    peakMiB = Number(readFileSync(file, 'utf8')) / 1024;
  } catch {
    // no file: the process died before its exit handlers ran
  }
  process.stderr.write(`hostile e2e: nestctl ${args[0]} → exit ${r.code} in ${ms} ms, peak RSS ${peakMiB.toFixed(0)} MiB\n`);
  return { ...r, ms, peakMiB };
}

const plan = () => measured(['plan', '--host-restart', RESTART, MANIFEST]);

/** Put `script` at /usr/local/bin/lxc inside hst1: before /usr/bin on the PATH LXD gives `lxc exec`. */
async function hostileLxc(script: string): Promise<void> {
  const r = await run(execIn(['hst1'], ['sh', '-c', 'cat > /usr/local/bin/lxc && chmod 755 /usr/local/bin/lxc']), { input: script });
  expect(r.code, r.stderr).toBe(0);
}

async function honestLxc(): Promise<void> {
  const r = await run(execIn(['hst1'], ['rm', '-f', '/usr/local/bin/lxc']));
  expect(r.code, r.stderr).toBe(0);
}

/** What must not change while hst1 misbehaves: the sibling, the host's subid files, hst2's config. */
async function elsewhere(): Promise<string> {
  const parts = await Promise.all([
    run(['lxc', 'config', 'show', 'hstok']),
    run(['lxc', 'list', '--format', 'csv', '--columns', 'ns', '^hst']),
    run(execIn(['hst1'], ['/usr/bin/lxc', 'config', 'show', 'hst2'])),
  ]);
  return [...parts.map((p) => p.stdout), readFileSync('/etc/subuid', 'utf8'), readFileSync('/etc/subgid', 'utf8')].join('\n--\n');
}

function expectClean(r: Measured): void {
  expect(r.stdout + r.stderr).not.toMatch(RAW);
  expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout + r.stderr).not.toContain('internal error');
}

describe.skipIf(why !== null)(`a hostile container on real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  let before = '';

  beforeAll(async () => {
    await deleteInstances(OURS);
    files = saveSubidFiles();
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, MANIFEST]);
    if (r.code !== 0) throw new Error(`building the tree failed:\n${r.stdout}\n${r.stderr}`);
    expect((await plan()).stdout).toContain(NO_CHANGES);
    before = await elsewhere();
  });

  afterAll(async () => {
    await deleteInstances(OURS);
    await files?.restore();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows a file full of escapes and a bidi config value as text, and --json keeps them exact', async () => {
    const hostile = 'calm\u001b[2J\u001b]0;pwned\u0007\u001b]8;;http://evil/\u001b\\link\u001b]8;;\u001b\\\n';
    const put = await run(execIn(['hst1'], ['sh', '-c', 'cat > /etc/hostile-note']), { input: hostile });
    expect(put.code, put.stderr).toBe(0);
    const set = await run(['lxc', 'config', 'set', 'hst1', 'user.note', 'abc\u202edef']);
    expect(set.code, set.stderr).toBe(0);
    const p = await plan();
    expect(p.code, p.stderr).toBe(0);
    expectClean(p);
    expect(p.stdout).toContain('-calm\\x1b[2J\\x1b]0;pwned\\x07\\x1b]8;;http://evil/\\x1b\\link');
    expect(p.stdout).toContain('~ user.note = "abc\\u202edef" → (unset)');
    const json = await measured(['plan', '--json', '--host-restart', RESTART, MANIFEST]);
    const steps = (JSON.parse(json.stdout) as { steps: Array<{ kind: string; text?: { before: string } }> }).steps;
    expect(steps.find((s) => s.kind === 'push-file')?.text?.before).toBe(hostile);
    // Repaired by apply, as any drift.
    expect((await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, MANIFEST])).code).toBe(0);
    expect((await plan()).stdout).toContain(NO_CHANGES);
  });

  it('stops a 200 MB answer at its cap, names the level, and plan and apply change nothing', async () => {
    await hostileLxc('#!/bin/sh\ncase "$1" in exec) head -c 200000000 /dev/zero | tr "\\000" A;; esac\nexec /usr/bin/lxc "$@"\n');
    try {
      const p = await plan();
      expect(p.code).toBe(1);
      expectClean(p);
      expect(p.stderr).toMatch(/in hst1\/hst2 printed more than 32 MiB on stdout; nestctl stopped it and changed nothing there/);
      expect(p.ms).toBeLessThan(120_000);
      expect(p.peakMiB).toBeLessThan(400);
      const a = await measured(['apply', '--auto-approve', '--host-restart', RESTART, MANIFEST]);
      expect(a.code).toBe(1);
      expectClean(a);
      expect(a.stderr).toMatch(/in hst1\/hst2 printed more than 32 MiB/);
      expect(a.peakMiB).toBeLessThan(400);
      expect(await elsewhere()).toBe(before);
    } finally {
      await honestLxc();
    }
  });

  it('stops an answer that never ends', async () => {
    await hostileLxc('#!/bin/sh\ncase "$1" in exec) exec yes nestctl;; esac\nexec /usr/bin/lxc "$@"\n');
    try {
      const p = await plan();
      expect(p.code).toBe(1);
      expectClean(p);
      expect(p.stderr).toMatch(/in hst1\/hst2 printed more than 32 MiB on stdout/);
      expect(p.ms).toBeLessThan(120_000);
      expect(await elsewhere()).toBe(before);
    } finally {
      await honestLxc();
    }
  });

  it("refuses hst1's own answer when it claims the host's hstok, and destroy deletes nothing", async () => {
    const claim = { name: 'hstok', status: 'Running', config: { 'user.nestctl.managed': 'true', 'user.nestctl.path': 'hstok' } };
    const answer = JSON.stringify([claim, claim]);
    await hostileLxc(`#!/bin/sh\ncase "$1 $2" in "query /1.0/instances"*) echo '${answer}'; exit 0;; esac\nexec /usr/bin/lxc "$@"\n`);
    try {
      const p = await plan();
      expect(p.code).toBe(1);
      expectClean(p);
      expect(p.stderr).toMatch(/the answer in hst1 is refused: instance "default\/hstok" is listed twice/);
      const d = await measured(['destroy', '--auto-approve', '--host-restart', RESTART, MANIFEST]);
      expect(d.code).toBe(1);
      expectClean(d);
      expect(await elsewhere()).toBe(before);
    } finally {
      await honestLxc();
    }
  });

  it('prints a nested client’s hostile error text escaped', async () => {
    await hostileLxc(
      '#!/bin/sh\ncase "$1" in exec) printf "\\033]0;pwned\\007\\033[2JError: \\342\\200\\256evil\\n" >&2; exit 1;; esac\nexec /usr/bin/lxc "$@"\n',
    );
    try {
      const p = await plan();
      expect(p.code).toBe(1);
      expectClean(p);
      expect(p.stderr).toMatch(/cannot read the files inside hst1\/hst2/);
      expect(p.stderr).toContain('\\x1b]0;pwned\\x07\\x1b[2JError: \\u202eevil');
      expect(await elsewhere()).toBe(before);
    } finally {
      await honestLxc();
    }
    expect((await plan()).stdout).toContain(NO_CHANGES);
  });
});
