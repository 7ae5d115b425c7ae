// The argv of the commands nestctl runs against a host that is a client remote, from this
// machine: who the server is, its id map (an image-less probe instance), images copied to it,
// its lock, and moves between cluster members. Each word from the manifest (remote, project,
// member) was checked not to read as an option (core/manifest/words-on-argv.ts).

import { remoteRef, projectArgs, type RemoteTop } from '../nested-exec.js';
import { queryArgv } from './commands.js';

/** `lxc query REMOTE:/1.0`: the server's environment (server_name, certificate_fingerprint, server_clustered). */
export const serverArgv = (cli: string, top: RemoteTop): string[] => queryArgv(cli, `${top.remote}:/1.0`);

/** The probe instance's name; `suffix` (random hex) keeps two probes apart. */
export const probeName = (suffix: string): string => `nestctl-probe-${suffix}`;

/**
 * An empty instance (no image, never started) on the server or on one member, its
 * volatile.idmap.next (the daemon's whole map: it is not isolated), and its deletion.
 */
export function emptyProbeArgvs(
  cli: string,
  top: RemoteTop,
  name: string,
  member: string | null,
): { create: string[]; read: string[]; remove: string[] } {
  const ref = remoteRef(name, top);
  const target = member ? ['--target', member] : [];
  return {
    create: [cli, 'init', ...projectArgs(top), ref, '--empty', '-q', ...target],
    read: [cli, 'config', 'get', ...projectArgs(top), ref, 'volatile.idmap.next'],
    remove: [cli, 'delete', ...projectArgs(top), ref, '-q'],
  };
}

/**
 * An image of this machine's daemon copied to the remote through the client: the local daemon
 * listens only on its socket, so the remote cannot pull from it (`--mode relay`).
 */
export function relayCopyArgv(cli: string, fingerprint: string, top: RemoteTop, aliases: readonly string[]): string[] {
  const project = top.project ? ['--target-project', top.project] : [];
  return [cli, 'image', 'copy', fingerprint, `${top.remote}:`, '--mode', 'relay', ...project, ...aliases.flatMap((a) => ['--alias', a])];
}

/** The server-side lock: a profile, because LXD creates one in a single transaction and refuses an existing name. */
export const LOCK_PROFILE = 'nestctl-lock';
export const LOCK_OWNER_KEY = 'user.nestctl.owner';

export const lockArgvs = (cli: string, top: RemoteTop) => {
  const ref = remoteRef(LOCK_PROFILE, top);
  return {
    create: [cli, 'profile', 'create', ...projectArgs(top), ref],
    setOwner: (owner: string): string[] => [cli, 'profile', 'set', ...projectArgs(top), ref, `${LOCK_OWNER_KEY}=${owner}`],
    getOwner: [cli, 'profile', 'get', ...projectArgs(top), ref, LOCK_OWNER_KEY],
    release: [cli, 'profile', 'delete', ...projectArgs(top), ref],
  };
};

/** How long a root container with a tree inside gets to stop cleanly before a move (LXD 5.0.2's own move waits only 30 s). */
export const MOVE_STOP_TIMEOUT_SECONDS = 600;

/** Stop (with a long timeout), move to the member, start: a stateless move its inner daemon survives. A stopped one is only moved. */
export function moveArgvs(cli: string, top: RemoteTop, name: string, member: string, running = true): string[][] {
  const ref = remoteRef(name, top);
  const project = projectArgs(top);
  const move = [cli, 'move', ...project, ref, '--target', member, '-q'];
  if (!running) return [move];
  return [
    [cli, 'stop', ...project, ref, '--timeout', String(MOVE_STOP_TIMEOUT_SECONDS), '-q'],
    move,
    [cli, 'start', ...project, ref, '-q'],
  ];
}

/** A word for a POSIX shell, read back as exactly itself: in single quotes, each ' as '\''. */
export const shellWord = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * A host-level step (subid edit, daemon restart) run on a remote's machine through its `shell:`
 * prefix. ssh joins the words after its options into one line that the remote user's shell
 * parses again, so each word of the step goes as one quoted word: the constant scripts and the
 * planned values reach the far side unchanged, and nothing in them is interpreted there.
 */
export const shellStepArgv = (shell: readonly string[], argv: readonly string[]): string[] => [...shell, argv.map(shellWord).join(' ')];
