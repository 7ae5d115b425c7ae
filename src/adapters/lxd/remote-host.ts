// A host that is a client remote, read and locked from this machine with the argv of
// remote-commands.ts: who the server is, its daemon's range (an empty probe instance, always
// deleted again), and the server-side lock that keeps two controllers' applies apart.

import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { probedRange } from '../../core/ids/remote-range.js';
import type { IdRange } from '../../core/ids/range.js';
import { ONLINE } from '../../core/observed.js';
import { CommandError, EnvironmentError, TimedOutError } from '../../core/errors.js';
import { ask, CHANGE_TIMEOUT_MS } from './bounded.js';
import { CLUSTER_MEMBERS_QUERY, remoteQueryArgv } from './remote-probe.js';
import { parseServerIdentity, type ServerIdentity } from '../../core/observe/parse-server.js';
import type { ObservedImage } from '../../core/observed.js';
import type { Exec } from '../../ports/exec.js';
import type { Cli, RemoteTop } from '../nested-exec.js';
import type { RemoteHost } from '../../ports/remote.js';
import { emptyProbeArgvs, LOCK_PROFILE, lockArgvs, moveArgvs, probeName, relayCopyArgv, serverArgv } from './remote-commands.js';

const where = (top: RemoteTop): string => `remote ${top.remote}`;

/** A move's stop waits up to MOVE_STOP_TIMEOUT_SECONDS, and a rootfs copied between members' pools can take as long as a create. */
const MOVE_TIMEOUT_MS = 1_800_000;

async function run(exec: Exec, argv: string[], top: RemoteTop, timeoutMs = CHANGE_TIMEOUT_MS): Promise<string> {
  const r = await exec(argv, { timeoutMs });
  if (r.timedOut) throw new TimedOutError(argv, r.stderr, where(top));
  if (r.code !== 0) throw new CommandError(argv, r.code, r.stderr, where(top));
  return r.stdout;
}

export async function readServer(exec: Exec, cli: string, top: RemoteTop): Promise<ServerIdentity> {
  const argv = serverArgv(cli, top);
  const server = parseServerIdentity(await run(exec, argv, top));
  if (!server)
    throw new EnvironmentError(
      `${argv.join(' ')} did not name the server (no environment.server_name and certificate_fingerprint)`,
      `check that ${top.remote} is an LXD or Incus remote this client trusts: ${cli} remote list`,
    );
  return server;
}

/** The daemon's map on the server, or on `member` of a cluster; the probe instance is deleted on every path. */
export async function probeRemoteRange(
  exec: Exec,
  cli: string,
  top: RemoteTop,
  member: string | null,
  suffix = randomBytes(4).toString('hex'),
): Promise<{ uid: IdRange; gid: IdRange }> {
  const argvs = emptyProbeArgvs(cli, top, probeName(suffix), member);
  const created = await exec(argvs.create, { timeoutMs: CHANGE_TIMEOUT_MS });
  let removed = false;
  try {
    // The client can lose a create that finished: on a cluster it said "Operation not found"
    // when the instance went to another member (seen on the lab). Whether the probe instance
    // is there decides, not the client's word.
    const read = await ask(exec, argvs.read);
    if (read.code !== 0 && (created.code !== 0 || created.timedOut)) {
      throw created.timedOut
        ? new TimedOutError(argvs.create, created.stderr, where(top))
        : new CommandError(argvs.create, created.code, created.stderr, where(top));
    }
    if (read.code !== 0) throw new CommandError(argvs.read, read.code, read.stderr, where(top));
    const json = read.stdout.trim();
    const range = probedRange(json);
    if (!range)
      throw new EnvironmentError(
        `${where(top)}${member ? ` member ${member}` : ''} gave its probe instance no id map (volatile.idmap.next: ${json || 'empty'})`,
        'a daemon that gives containers no map runs only privileged ones; nestctl cannot size a tree there',
      );
    await run(exec, argvs.remove, top);
    removed = true;
    return range;
  } finally {
    if (!removed) await exec(argvs.remove).catch(() => undefined);
  }
}

/** Who holds a lock, as recorded in it: user@machine, pid and time. */
export const lockOwner = (now: Date = new Date()): string =>
  `${userInfo().username}@${hostname()} pid ${process.pid} since ${now.toISOString()}`;

/**
 * Takes the server-side lock (a profile LXD refuses to create twice) and records its holder;
 * the returned function releases it. A held lock is refused with its holder's name.
 */
export async function takeRemoteLock(exec: Exec, cli: string, top: RemoteTop, owner: string): Promise<() => Promise<void>> {
  const lock = lockArgvs(cli, top);
  const created = await exec(lock.create, { timeoutMs: CHANGE_TIMEOUT_MS });
  if (created.code !== 0) {
    if (!/already exists/i.test(created.stderr)) throw new CommandError(lock.create, created.code, created.stderr, where(top));
    const holder = await ask(exec, lock.getOwner);
    const name = holder.code === 0 && holder.stdout.trim() ? holder.stdout.trim() : 'a holder that has not recorded itself yet';
    throw new EnvironmentError(
      `${where(top)} is locked by another apply: ${name}`,
      `wait for it to finish; if none runs any more, remove the lock: ${cli} profile delete ${top.project ? `--project ${top.project} ` : ''}${top.remote}:${LOCK_PROFILE}`,
    );
  }
  const release = async (): Promise<void> => {
    await run(exec, lock.release, top);
  };
  try {
    await run(exec, lock.setOwner(owner), top);
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
  return release;
}

/** fn under the remote's lock, released on every exit path. */
export async function withRemoteLock<T>(exec: Exec, cli: string, top: RemoteTop, owner: string, fn: () => Promise<T>): Promise<T> {
  const release = await takeRemoteLock(exec, cli, top, owner);
  let value: T;
  try {
    value = await fn();
  } catch (e) {
    await release().catch(() => undefined); // the failure that stopped fn is the one to report
    throw e;
  }
  await release();
  return value;
}

/** RemoteHost over the real client, every command an argv run here. */
export class ExecRemoteHost implements RemoteHost {
  constructor(
    private readonly exec: Exec,
    private readonly cli: Cli,
    private readonly top: RemoteTop,
    /** This machine's image store (its own daemon's, not the remote's). */
    private readonly local: () => Promise<ObservedImage[]>,
  ) {}

  get remote(): string {
    return this.top.remote;
  }

  server(): Promise<ServerIdentity> {
    return readServer(this.exec, this.cli, this.top);
  }

  /**
   * The map a container placed here gets. Untargeted on a cluster, LXD puts it on whichever
   * online member it chooses (fewest instances, its own tie-break: the lab's cluster picked the
   * last member where an empty instance's would have said the first), so the map nestctl can
   * count on is the smallest online member's, read on each member.
   */
  async probeRange(member: string | null): Promise<{ uid: IdRange; gid: IdRange }> {
    if (member !== null) return probeRemoteRange(this.exec, this.cli, this.top, member);
    const listed = await ask(this.exec, remoteQueryArgv(this.cli, this.top, CLUSTER_MEMBERS_QUERY));
    const online =
      listed.code === 0
        ? (JSON.parse(listed.stdout) as Array<{ server_name: string; status: string }>)
            .filter((m) => m.status === ONLINE)
            .map((m) => m.server_name)
            .sort()
        : [];
    if (online.length === 0) return probeRemoteRange(this.exec, this.cli, this.top, null);
    const ranges = await Promise.all(online.map((m) => probeRemoteRange(this.exec, this.cli, this.top, m)));
    return ranges.reduce((small, r) => (Math.min(r.uid.size, r.gid.size) < Math.min(small.uid.size, small.gid.size) ? r : small));
  }

  lock(owner: string): Promise<() => Promise<void>> {
    return takeRemoteLock(this.exec, this.cli, this.top, owner);
  }

  localImages(): Promise<ObservedImage[]> {
    return this.local();
  }

  async relayImage(fingerprint: string, aliases: readonly string[]): Promise<void> {
    await run(this.exec, relayCopyArgv(this.cli, fingerprint, this.top, aliases), this.top);
  }

  async move(name: string, member: string, running: boolean): Promise<void> {
    for (const argv of moveArgvs(this.cli, this.top, name, member, running)) await run(this.exec, argv, this.top, MOVE_TIMEOUT_MS);
  }
}

/**
 * The remote with its server's range read once (the plan's check and the top level's probe share
 * one probe instance); `reread` forgets it, after a restart of the daemon there.
 */
export function rangeReadOnce(remote: RemoteHost): RemoteHost & { reread(): void } {
  let range: Promise<{ uid: IdRange; gid: IdRange }> | null = null;
  return {
    reread: () => {
      range = null;
    },
    remote: remote.remote,
    server: () => remote.server(),
    probeRange: (member) => (member === null ? (range ??= remote.probeRange(null)) : remote.probeRange(member)),
    lock: (owner) => remote.lock(owner),
    localImages: () => remote.localImages(),
    relayImage: (fingerprint, aliases) => remote.relayImage(fingerprint, aliases),
    move: (name, member, running) => remote.move(name, member, running),
  };
}
