// The real-LXD lab for e2e tests: set the host up with the project's own scripts, run nestctl
// as a user would (the built CLI), and leave the host as it was found.

import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXEC_ATTEMPTS, neverStarted, retryDelayMs } from '../../src/adapters/nested-exec.js';

export const ROOT = resolve(import.meta.dirname, '../..');
// The command users install (package.json's bin): the bundle of tsc's output.
export const CLI = resolve(ROOT, 'dist/bundle/bin.js');
export const RESTART = resolve(ROOT, 'test/lab/restart-lxd.sh');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run argv to its end without blocking the test worker's event loop (a synchronous child of a
 * minute blocks Vitest's worker RPC: "Timeout calling onTaskUpdate").
 */
export async function run(
  argv: string[],
  options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Ran> {
  // An `lxc exec` the daemon answered as never started is run again, as nestctl's own nested exec does.
  for (let attempt = 1; ; attempt += 1) {
    const r = await runOnce(argv, options);
    if (argv[1] !== 'exec' || !neverStarted(r.code, r.stderr + r.stdout) || attempt === EXEC_ATTEMPTS) return r;
    await new Promise((res) => setTimeout(res, retryDelayMs(attempt)));
  }
}

function runOnce(argv: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<Ran> {
  return new Promise((done) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure = '';
    const timer = setTimeout(
      () => {
        failure = `\n(killed after ${options.timeoutMs ?? 30 * 60_000} ms)`;
        child.kill('SIGKILL');
      },
      options.timeoutMs ?? 30 * 60_000,
    );
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      failure += `\n${String(e)}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: `${Buffer.concat(err).toString('utf8')}${failure}` });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/**
 * One nestctl command, stopped after 15 minutes (the seed apply takes about one): well inside a
 * test's 30, so a command that hangs fails its test with everything it printed, which names the
 * step it hung in, instead of the test timing out with nothing to show.
 */
export function nestctl(args: string[], timeoutMs = 15 * 60_000): Promise<Ran> {
  return run(['node', CLI, ...args], { timeoutMs });
}

/** Why the real-LXD suite cannot run here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (it installs LXD and edits /etc/subuid)';
  return null;
}

/** Installs and starts LXD and imports the lab images (test/e2e/global-setup.ts runs it once per run). */
export async function setupHost(): Promise<void> {
  const r = await run(['bash', resolve(ROOT, 'test/lab/setup-host.sh')], { timeoutMs: 40 * 60_000 });
  if (r.code !== 0) throw new Error(`lab setup failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** `lxc exec a -- lxc exec b -- … argv` as an argv array. */
export function execIn(path: string[], argv: string[]): string[] {
  return path.reduceRight<string[]>((inner, name) => ['lxc', 'exec', name, '-T', '--', ...inner], argv);
}

export async function uidMapOf(path: string[]): Promise<string> {
  const r = await run(execIn(path, ['cat', '/proc/self/uid_map']));
  if (r.code !== 0) throw new Error(`reading uid_map in ${path.join('/')}: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/).join(' ');
}

interface Saved {
  path: string;
  text: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Where nestctl records the files it first edited (for destroy --restore-ids). */
export const ORIGINALS = ['/var/lib/nestctl/subuid.orig', '/var/lib/nestctl/subgid.orig'];

/**
 * Back up /etc/subuid and /etc/subgid; restore() puts them back (and removes nestctl's records
 * of originals that were not there before) and restarts the daemon (LXD, or the restart script
 * given) so it reads them again.
 */
export function saveSubidFiles(restart = RESTART): { restore(): Promise<void>; saved: Saved[] } {
  const hadOriginal = ORIGINALS.filter((f) => existsSync(f));
  const saved = ['/etc/subuid', '/etc/subgid'].map((path) => {
    const st = statSync(path);
    return { path, text: readFileSync(path, 'utf8'), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  });
  return {
    saved,
    async restore() {
      for (const s of saved) {
        if (readFileSync(s.path, 'utf8') === s.text) continue;
        writeFileSync(s.path, s.text);
        chmodSync(s.path, s.mode);
        chownSync(s.path, s.uid, s.gid);
      }
      for (const f of ORIGINALS) if (!hadOriginal.includes(f)) rmSync(f, { force: true });
      await run([restart]);
    },
  };
}

/** SIGKILL the host's LXD daemon (containers keep running), as a crash or the OOM killer would. */
export async function killHostDaemon(): Promise<void> {
  const r = await run(['bash', '-c', `. ${resolve(ROOT, 'test/lab/lib.sh')}; pids=$(lxd_daemon_pids); [ -n "$pids" ] && kill -9 $pids`]);
  if (r.code !== 0) throw new Error(`no host LXD daemon to kill: ${r.stderr}`);
}

/** Start the host's LXD daemon again (the lab's restart script starts it when none runs). */
export async function startHostDaemon(): Promise<void> {
  const r = await run([RESTART]);
  if (r.code !== 0) throw new Error(`starting the host LXD failed: ${r.stderr}`);
}

export async function deleteInstances(names: string[]): Promise<void> {
  for (const n of names) await run(['lxc', 'delete', '--force', n]);
}

export async function instanceExists(name: string): Promise<boolean> {
  return (await run(['lxc', 'info', name])).code === 0;
}
