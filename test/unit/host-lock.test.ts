// The host lock against real processes: a crowd racing a stale lock, odd files at the path,
// an unsafe directory, and release on every way out. Child processes use the built dist/.

import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockHost, processStart } from '../../src/adapters/host-lock.js';

const CHILD = resolve(import.meta.dirname, 'helpers/lock-child.mjs');
const lockPath = (): string => join(mkdtempSync(join(tmpdir(), 'nestctl-lock-')), 'run', 'apply.lock');
const prepared = (): string => {
  const p = lockPath();
  mkdirSync(join(p, '..'), { mode: 0o700 });
  return p;
};
/** A pid that is certainly not running: above any pid_max. */
const DEAD = 2147483646;

interface Child {
  proc: ChildProcess;
  /** Resolves with the next line the child prints. */
  next(): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function child(path: string, timeoutMs = 0): Child {
  const proc = spawn(process.execPath, [CHILD, path, String(timeoutMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const queue: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else queue.push(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    proc.on('exit', (code, signal) => ok({ code, signal })),
  );
  const next = (): Promise<string> => {
    const l = queue.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((ok) => waiters.push(ok));
  };
  return { proc, next, exited };
}

async function holding(path: string): Promise<Child> {
  const c = child(path);
  expect(await c.next()).toBe('ready');
  c.proc.stdin!.write('go\n');
  expect(await c.next()).toBe('won');
  return c;
}

describe('host apply lock', () => {
  it('lets one apply in and refuses a second while the first runs', async () => {
    const p = lockPath();
    const release = await lockHost({ path: p });
    await expect(lockHost({ path: p })).rejects.toThrow(`another nestctl (pid ${process.pid}) is applying on this host`);
    release();
    expect(existsSync(p)).toBe(false);
    (await lockHost({ path: p }))();
  });

  it('creates its directory 0700 and records pid and process start time', async () => {
    const p = lockPath();
    const release = await lockHost({ path: p });
    const [pid, start] = readFileSync(p, 'utf8').split(' ');
    expect([Number(pid), start]).toEqual([process.pid, processStart(process.pid)]);
    release();
  });

  it('of 12 processes started at once against a stale lock, exactly one wins (5 rounds)', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 5; round += 1) {
      const p = prepared();
      writeFileSync(p, `${DEAD} 1 00\n`);
      const crowd = Array.from({ length: 12 }, () => child(p));
      for (const c of crowd) expect(await c.next()).toBe('ready');
      for (const c of crowd) c.proc.stdin!.write('go\n');
      const said = await Promise.all(crowd.map((c) => c.next()));
      expect(said.filter((s) => s === 'won')).toHaveLength(1);
      expect(said.filter((s) => s.startsWith('lost another nestctl'))).toHaveLength(11);
      for (const c of crowd) c.proc.stdin!.end();
      await Promise.all(crowd.map((c) => c.exited));
      expect(existsSync(p)).toBe(false);
    }
  });

  it('takes over a lock whose pid is gone, and one whose pid was recycled (other start time)', async () => {
    for (const content of [`${DEAD} 1 00\n`, `${process.pid} 1 00\n`, '', 'garbage']) {
      const p = prepared();
      writeFileSync(p, content);
      const release = await lockHost({ path: p });
      expect(readFileSync(p, 'utf8')).toMatch(new RegExp(`^${process.pid} ${processStart(process.pid)} `));
      release();
    }
  });

  it('sweeps away candidate and guard files left by killed processes, keeping live ones', async () => {
    const p = prepared();
    const live = `${process.pid} ${processStart(process.pid)} 01\n`;
    writeFileSync(`${p}.${DEAD}.aa.new`, '');
    writeFileSync(`${p}.${process.pid}.bb.new`, '');
    writeFileSync(`${p}.takeover-0123`, `${DEAD} 1 00\n`);
    writeFileSync(`${p}.takeover-4567`, live);
    const release = await lockHost({ path: p });
    expect(readdirSync(join(p, '..')).sort()).toEqual(
      [`apply.lock.${process.pid}.bb.new`, 'apply.lock', 'apply.lock.takeover-4567'].sort(),
    );
    release();
  });

  it('refuses odd files at the lock path at once: FIFO, directory, symlink', async () => {
    const fifo = prepared();
    const mk = spawn('mkfifo', [fifo]);
    await new Promise((ok) => mk.on('exit', ok));
    const t0 = Date.now();
    await expect(lockHost({ path: fifo })).rejects.toThrow(`the lock ${fifo} is not a regular file`);
    expect(Date.now() - t0).toBeLessThan(1000);
    const dir = prepared();
    mkdirSync(dir);
    await expect(lockHost({ path: dir })).rejects.toThrow('is not a regular file');
    const link = prepared();
    symlinkSync('/etc/passwd', link);
    await expect(lockHost({ path: link })).rejects.toThrow('is a symbolic link');
  });

  it('refuses a lock directory others can write, or one that is a symlink', async () => {
    const p = lockPath();
    mkdirSync(join(p, '..'), { mode: 0o700 });
    chmodSync(join(p, '..'), 0o1777);
    await expect(lockHost({ path: p })).rejects.toThrow(/refusing the lock directory .*: it is writable by group or others \(mode 777\)/);
    const q = lockPath();
    const real = mkdtempSync(join(tmpdir(), 'nestctl-real-'));
    chmodSync(real, 0o700);
    symlinkSync(real, join(q, '..'));
    await expect(lockHost({ path: q })).rejects.toThrow('it is a symbolic link');
  });

  it('is released on SIGTERM, SIGINT and on process.exit', async () => {
    const p = prepared();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const a = await holding(p);
      a.proc.kill(signal);
      expect((await a.exited).signal).toBe(signal);
      expect(existsSync(p)).toBe(false);
    }
    const b = await holding(p);
    b.proc.stdin!.write('exit\n');
    expect((await b.exited).code).toBe(7);
    expect(existsSync(p)).toBe(false);
  });

  it('--lock-timeout waits, says so, and gets the lock when the holder finishes', async () => {
    const p = prepared();
    const holder = await holding(p);
    const told: string[] = [];
    const waiting = lockHost({ path: p, timeoutMs: 10_000, onWait: (m) => told.push(m) });
    setTimeout(() => holder.proc.stdin!.end(), 400);
    const release = await waiting;
    expect(told).toEqual([expect.stringMatching(/^another nestctl \(pid \d+\) is applying on this host; waiting up to 10 s/)]);
    release();
    await holder.exited;
  });

  it('gives up after the timeout while the holder stays', async () => {
    const p = prepared();
    const holder = await holding(p);
    await expect(lockHost({ path: p, timeoutMs: 300 })).rejects.toThrow('another nestctl');
    holder.proc.stdin!.end();
    await holder.exited;
  });
});
