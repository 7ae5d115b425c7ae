// LXD's (and liblxc's) own words, and the typed errors the real adapter (adapters/lxd/level.ts,
// classify) would turn them into, so callers cannot tell the simulator from the real thing.

import { CommandError, UnseenError } from '../core/errors.js';
import { daemonName, flavourInfo } from '../core/flavour/index.js';
import type { Flavour } from '../core/manifest/model.js';

/** lxd/instance/instance_utils.go ValidConfig (LXD 5.0.2; newer LXD says "does not have"). */
export function noAllocation(flavour: Flavour): string {
  return `${daemonName(flavour)} doesn't have a uid/gid allocation. In this mode, only privileged containers are supported`;
}

/** driver_lxc.go Rename: LXD 5.0.2 still says "container", Incus 6.0 "instance" (both seen on the lab). */
export function renameRunning(flavour: Flavour): string {
  return `Renaming of running ${flavour === 'incus' ? 'instance' : 'container'} not allowed`;
}

export const TEXT = {
  /** lxd/instance.go instanceCreateFromImage. */
  record: 'Failed creating instance record',
  /** lxd/instance/instance_utils.go CreateInternal. */
  initialising: 'Failed initialising instance',
  /** driver_lxc.go lxcCreate. */
  invalidConfig: 'Invalid config',
  noRootDisk: 'Failed getting root disk: No root device could be found',
  notEnoughIds: 'Not enough uid/gid available for the container',
  instanceNotFound: 'Instance not found',
  notRunning: 'Instance is not running',
  alreadyRunning: 'The instance is already running',
  alreadyStopped: 'The instance is already stopped',
  deleteRunning: 'The instance is currently running, stop it first or pass --force',
  imageNotFound: 'Image not found',
  imageExists: 'Image with same fingerprint already exists',
} as const;

/** instance_post.go instancePost: the new name is taken (a 409 Conflict). */
export const nameInUse = (name: string): string => `Name ${JSON.stringify(name)} already in use`;

/**
 * The chain `lxc init` prints when creation fails inside lxcCreate. Real LXD 5.0.2 prints no
 * "Failed instance creation:" in front (seen on the lab: test/lab/samples/errors.txt).
 */
export function creationFailed(inner: string): string {
  return `${TEXT.record}: ${TEXT.initialising}: ${inner}`;
}

/** A failed `lxc …`/`incus …` call: "Error: …" on stderr, exit 1. */
export function lxcFailure(path: string, argv: readonly string[], message: string): CommandError {
  return new CommandError(argv, 1, `Error: ${message}\n`, path);
}

/** The error text `lxc query /1.0` prints when nothing listens on the socket. */
export function socketRefused(flavour: Flavour): string {
  return `Error: Get "http://unix.socket/1.0": dial unix ${flavourInfo(flavour).socket}: connect: connection refused`;
}

/**
 * `lxc exec C -- sh …` in a container whose image has no /bin/sh: the exec fails with 127, which
 * the real adapter (adapters/lxd/level.ts, probe) reports as an unseen level.
 */
export function noShell(path: string, argv: readonly string[]): UnseenError {
  const failed = new CommandError(argv, 127, 'Error: Command not found\n', path);
  return new UnseenError(failed.message, path);
}

/** No lxc/incus at that level (sh's "not found", exit 127). */
export function commandNotFound(path: string, argv: readonly string[]): CommandError {
  return new CommandError(argv, 127, `sh: 1: ${argv[0] ?? ''}: not found\n`, path);
}

/**
 * A start that liblxc aborts: LXD's "Failed to run: … forkstart …" (shared.RunCommand), the
 * client's hint, then the ERROR lines of the instance's lxc.log (as `lxc info --show-log` shows).
 */
export function startFailed(path: string, argv: readonly string[], flavour: Flavour, name: string, logLines: string[]): CommandError {
  const { paths: p, client: cli } = flavourInfo(flavour);
  const stderr = [
    `Error: Failed to run: ${p.bin} forkstart ${name} ${p.containers} ${p.logs}/${name}/lxc.conf: exit status 1`,
    `Try \`${cli} info --show-log ${name}\` for more info`,
    ...logLines.map((l) => `${cli} ${name} ${l}`),
    '',
  ].join('\n');
  return new CommandError(argv, 1, stderr, path);
}

/** liblxc's lxc_map_ids lines when newuidmap/newgidmap refuse (conf.c), then lxc_spawn's. */
export function mapIdsLog(tool: 'newuidmap' | 'newgidmap', toolError: string, pid: number, args: string): string[] {
  return [
    `ERROR    conf - conf.c:lxc_map_ids - ${tool} failed to write mapping "${toolError}": ${tool} ${pid} ${args}`,
    'ERROR    start - start.c:lxc_spawn - Failed to set up id mapping.',
    'ERROR    lxccontainer - lxccontainer.c:wait_on_daemonized_start - Received container state "ABORTING" instead of "RUNNING"',
  ];
}
