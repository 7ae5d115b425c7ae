// Every argv of classic LXC. A user's commands run as that user through runuser (util-linux: root
// only, no PAM session and no terminal needed, unlike `su -l`), with HOME set so LXC finds
// ~/.config/lxc/default.conf, and `-P` naming the container directory outright. Under systemd a
// user's lxc-start runs in a delegated scope (systemd-run --uid … --scope -p Delegate=yes): LXC's
// guides use `systemd-run --user --scope`, which needs the user's own systemd instance (a login
// session or linger); a system scope run as the user gives the container the same delegated
// cgroup without one. Every manifest value here was checked (core/manifest/lxc-checks.ts) and
// goes in as one argv word.

import { USERNET, USERNET_ORIGINAL, lxcDir } from '../../core/lxc/paths.js';
import type { LxcCreate, LxcOwner } from '../../ports/lxd.js';
import { EVERY_OWNER, LXC_PROBE_SCRIPT, WRITE_LXC_FILE_SCRIPT } from './lxc-scripts.js';

export function asOwner(owner: LxcOwner, argv: readonly string[]): string[] {
  return owner.user === null ? [...argv] : ['runuser', '-u', owner.user, '--', 'env', `HOME=${owner.home}`, ...argv];
}

const dirOf = (owner: LxcOwner): string => lxcDir(owner.user, owner.home);

/** `configFile`: root's create-time config (-f), already written at the level. */
export function lxcCreateArgv(c: LxcCreate, configFile: string | null): string[] {
  const args = c.templateArgs.length > 0 ? ['--', ...c.templateArgs] : [];
  return asOwner(c.owner, [
    'lxc-create',
    '-P',
    dirOf(c.owner),
    '-n',
    c.name,
    ...(configFile ? ['-f', configFile] : []),
    '-t',
    c.template,
    ...args,
  ]);
}

export function lxcStartArgv(name: string, owner: LxcOwner, cgroup: 'none' | 'systemd-run'): string[] {
  const start = ['lxc-start', '-P', dirOf(owner), '-n', name];
  if (cgroup === 'systemd-run' && owner.user !== null) {
    return ['systemd-run', `--uid=${owner.user}`, '--scope', '--quiet', '-p', 'Delegate=yes', '--', 'env', `HOME=${owner.home}`, ...start];
  }
  return asOwner(owner, start);
}

export const lxcStopArgv = (name: string, owner: LxcOwner): string[] => asOwner(owner, ['lxc-stop', '-P', dirOf(owner), '-n', name, '-k']);
export const lxcDestroyArgv = (name: string, owner: LxcOwner): string[] => asOwner(owner, ['lxc-destroy', '-P', dirOf(owner), '-n', name]);

/** The LXC probe: `sh -c SCRIPT lxc-probe [--every-owner] OWNER…`. */
export const lxcProbeArgv = (owners: readonly string[], everyOwner = false): string[] => [
  'sh',
  '-c',
  LXC_PROBE_SCRIPT,
  'lxc-probe',
  ...(everyOwner ? [EVERY_OWNER] : []),
  ...owners,
];

/** Root's create-time config for lxc-create -f: written by the LXC writer to this file first. */
export const rootCreateConfigFile = (name: string): string => `/var/lib/nestctl/lxc/${name}.conf`;

/** Writes an LXC file as its owner ("root" or a user, whose home the file is under); lxc-usernet keeps its original. */
export function writeLxcFileArgv(file: string, owner: LxcOwner, expected: string | null, forgetOriginal: boolean): string[] {
  const orig = file === USERNET ? [USERNET_ORIGINAL] : [];
  return asOwner(owner, [
    'sh',
    '-c',
    WRITE_LXC_FILE_SCRIPT,
    'nestctl-write-lxc-file',
    file,
    expected ?? 'absent',
    forgetOriginal ? 'forget' : 'keep',
    ...orig,
  ]);
}

/** argv run inside an LXC container through its owner's lxc-attach (no terminal: stdin passes). */
export const lxcAttachArgv = (name: string, owner: LxcOwner, argv: readonly string[]): string[] =>
  asOwner(owner, ['lxc-attach', '-P', dirOf(owner), '-n', name, '--', ...argv]);
