// The real-LXD lab for e2e tests: set the host up with the project's own scripts, run nestctl
// as a user would (the built CLI), and leave the host as it was found.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = resolve(ROOT, 'dist/src/cli/main.js');
export const RESTART = resolve(ROOT, 'test/lab/restart-lxd.sh');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Ran {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 30 * 60_000,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export function nestctl(args: string[]): Ran {
  return run(['node', CLI, ...args]);
}

/** Why the real-LXD suite cannot run here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (it installs LXD and edits /etc/subuid)';
  return null;
}

export function setupHost(): void {
  const r = run(['bash', resolve(ROOT, 'test/lab/setup-host.sh')], { timeoutMs: 40 * 60_000 });
  if (r.code !== 0) throw new Error(`lab setup failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** `lxc exec a -- lxc exec b -- … argv` as an argv array. */
export function execIn(path: string[], argv: string[]): string[] {
  return path.reduceRight<string[]>((inner, name) => ['lxc', 'exec', name, '-T', '--', ...inner], argv);
}

export function uidMapOf(path: string[]): string {
  const r = run(execIn(path, ['cat', '/proc/self/uid_map']));
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
 * of originals that were not there before) and restarts LXD to re-read them.
 */
export function saveSubidFiles(): { restore(): void; saved: Saved[] } {
  const hadOriginal = ORIGINALS.filter((f) => existsSync(f));
  const saved = ['/etc/subuid', '/etc/subgid'].map((path) => {
    const st = statSync(path);
    return { path, text: readFileSync(path, 'utf8'), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  });
  return {
    saved,
    restore() {
      for (const s of saved) {
        if (readFileSync(s.path, 'utf8') === s.text) continue;
        writeFileSync(s.path, s.text);
        chmodSync(s.path, s.mode);
        chownSync(s.path, s.uid, s.gid);
      }
      for (const f of ORIGINALS) if (!hadOriginal.includes(f)) rmSync(f, { force: true });
      run([RESTART]);
    },
  };
}

export function deleteInstances(names: string[]): void {
  for (const n of names) run(['lxc', 'delete', '--force', n]);
}

export function instanceExists(name: string): boolean {
  return run(['lxc', 'info', name]).code === 0;
}
