// One apply at a time per host. The lock lives in a directory only root can write (a
// world-writable /run/lock would let any user block nestctl, or hang it with a FIFO), and is
// taken with link(2) of a fully written candidate file, so it is never seen half-written.
// It names its holder by pid and process start time (/proc/PID/stat field 22, proc(5)), so a
// recycled pid does not look like the holder. A stale lock is removed only under a second lock
// named after the stale content: contenders for the same stale lock race for that one name,
// the winner re-checks and removes it, everyone then races link(2) again and exactly one wins.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';

export const HOST_LOCK = '/run/nestctl/apply.lock';

export interface LockOptions {
  /** The lock file; its directory is created 0700 when missing. */
  path?: string;
  /** How long to wait for another holder to finish; 0 = fail at once. */
  timeoutMs?: number;
  /** Told once when the lock is busy and we wait. */
  onWait?: (message: string) => void;
}

interface Holder {
  raw: string;
  pid: number | null;
  start: string | null;
}

const RETRY_MS = 200;
// Each level of guard is needed only when a process died inside the takeover of the level below.
const MAX_GUARD_DEPTH = 4;

/** Field 22 of /proc/PID/stat (starttime), or null when the process does not exist. */
export function processStart(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) is in parentheses and may hold spaces: count from after the last ")".
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[22 - 3] ?? null;
}

function parseHolder(raw: string): Holder {
  const m = /^(\d+) (\d+) [0-9a-f]+\n$/.exec(raw);
  return m ? { raw, pid: Number(m[1]), start: m[2]! } : { raw, pid: null, start: null };
}

/** A holder is alive when its pid runs and started when the lock says; garbage is stale. */
const alive = (h: Holder): boolean => h.pid !== null && processStart(h.pid) === h.start;

function describe(h: Holder): string {
  return h.pid === null ? 'unreadable content' : `pid ${h.pid}`;
}

/** The directory must be ours alone: a real directory, owned by root (or us), not group/other writable. */
function secureDir(dir: string): void {
  const owner = process.getuid?.() ?? 0;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new EnvironmentError(`cannot create ${dir}: ${(e as Error).message}`, 'run nestctl as root');
  }
  const st = lstatSync(dir);
  const wrong = st.isSymbolicLink()
    ? 'is a symbolic link'
    : !st.isDirectory()
      ? 'is not a directory'
      : st.uid !== owner
        ? `is owned by uid ${st.uid}, not ${owner}`
        : (st.mode & 0o022) !== 0
          ? `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`
          : null;
  if (wrong)
    throw new EnvironmentError(
      `refusing the lock directory ${dir}: it ${wrong}`,
      `remove it; nestctl creates it as a directory only uid ${owner} can write`,
    );
}

/** Read the lock without following a symlink or blocking on a FIFO; null when it vanished. */
function readHolder(path: string): Holder | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw oddFile(path, 'a symbolic link');
    throw new EnvironmentError(`cannot read the lock ${path}: ${(e as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw oddFile(path, 'not a regular file');
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return parseHolder(buf.subarray(0, n).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

const oddFile = (path: string, what: string): EnvironmentError =>
  new EnvironmentError(`the lock ${path} is ${what}; nestctl never creates that`, `remove ${path} if no nestctl is running`);

function unlinkIfOurs(path: string, mine: string): void {
  try {
    if (readHolder(path)?.raw === mine) unlinkSync(path);
  } catch {
    // Releasing must not throw on an exit path; a lock that is not ours is not ours to remove.
  }
}

type Attempt = { held: true } | { held: false; holder: Holder };

/** One non-blocking attempt to make `path` a link to our candidate file. */
function attempt(path: string, candidate: string, mine: string, depth: number): Attempt {
  for (;;) {
    try {
      linkSync(candidate, path);
      return { held: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new EnvironmentError(`cannot create ${path}: ${(e as Error).message}`, 'run nestctl as root');
    }
    const holder = readHolder(path);
    if (holder === null) continue; // released between our link and our read
    if (alive(holder)) return { held: false, holder };
    if (depth >= MAX_GUARD_DEPTH)
      throw new EnvironmentError(
        `cannot take over the stale lock ${path}: too many takeovers died`,
        `remove ${path}* if no nestctl is running`,
      );
    const guard = `${path}.takeover-${sha256(holder.raw).slice(0, 16)}`;
    const g = attempt(guard, candidate, mine, depth + 1);
    if (!g.held) return { held: false, holder: g.holder };
    try {
      // Only the guard's holder may remove this very content; anyone may then link.
      if (readHolder(path)?.raw === holder.raw) unlinkSync(path);
    } finally {
      unlinkIfOurs(guard, mine);
    }
  }
}

/** Take the host lock (waiting up to timeoutMs) or throw; returns the release function. */
export async function lockHost(options: LockOptions = {}): Promise<() => void> {
  const path = options.path ?? HOST_LOCK;
  const timeoutMs = options.timeoutMs ?? 0;
  secureDir(dirname(path));
  const start = processStart(process.pid);
  if (start === null) throw new EnvironmentError('cannot read /proc/self/stat to identify this process', 'nestctl needs Linux /proc');
  const mine = `${process.pid} ${start} ${randomBytes(8).toString('hex')}\n`;
  const candidate = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  const fd = openSync(candidate, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, mine);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + timeoutMs;
  let told = false;
  try {
    for (;;) {
      const r = attempt(path, candidate, mine, 0);
      if (r.held) break;
      const busy = `another nestctl (${describe(r.holder)}) is applying on this host`;
      if (Date.now() >= deadline) {
        throw new EnvironmentError(
          busy,
          timeoutMs > 0
            ? `still busy after ${timeoutMs / 1000} s; ${path} names the holder`
            : `wait for it to finish, or pass --lock-timeout (e.g. 2m) to wait; ${path} names the holder`,
        );
      }
      if (!told) options.onWait?.(`${busy}; waiting up to ${Math.ceil((deadline - Date.now()) / 1000)} s for it to finish…`);
      told = true;
      await sleep(Math.min(RETRY_MS, Math.max(1, deadline - Date.now())));
    }
  } finally {
    unlinkSync(candidate);
  }
  sweep(path);
  return releaseOnExit(() => unlinkIfOurs(path, mine));
}

/**
 * Holding the lock, remove candidate and guard files left by processes that were killed while
 * taking it. Safe: a guard only permits removing the stale content it is named after, and
 * the lock now holds ours.
 */
function sweep(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    try {
      // A candidate may be caught empty while its creator writes it: judge it by the pid in its
      // name. A guard is always a link to a whole candidate: judge it by its content.
      const candidatePid = /^\.(\d+)\.[0-9a-f]+\.new$/.exec(name.slice(prefix.length - 1))?.[1];
      const h = candidatePid === undefined && name.includes('.takeover-') ? readHolder(join(dir, name)) : null;
      const dead = candidatePid !== undefined ? processStart(Number(candidatePid)) === null : h !== null && !alive(h);
      if (dead) unlinkSync(join(dir, name));
    } catch {
      // An odd file here is not ours to judge; the lock itself is fine.
    }
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Release on every way out: the returned function, process.exit (the CLI's second Ctrl-C
 * exits that way), and a fatal signal nobody else handles (release, then die of it as usual).
 */
function releaseOnExit(release: () => void): () => void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    process.removeListener('exit', once);
    for (const s of SIGNALS) process.removeListener(s, handlers[s]);
    release();
  };
  const handlers = Object.fromEntries(
    SIGNALS.map((s) => [
      s,
      (): void => {
        // Someone else (apply's Ctrl-C handler) owns this signal: they decide; 'exit' releases.
        if (process.listenerCount(s) > 1) return;
        once();
        process.kill(process.pid, s);
      },
    ]),
  ) as Record<(typeof SIGNALS)[number], () => void>;
  process.on('exit', once);
  for (const s of SIGNALS) process.on(s, handlers[s]);
  return once;
}
