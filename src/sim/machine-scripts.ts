// nestctl's constant scripts on a simulated machine, recognised by their text and their $0 name
// (`sh -c SCRIPT NAME ARGS…`, adapters/lxd): each does to the level what the script does on a
// real one, and answers in the script's own output format and exit codes.

import { EnvironmentError } from '../core/errors.js';
import { flavourInfo, type Flavour } from '../core/flavour/index.js';
import type { ExecOptions, ExecResult } from '../ports/exec.js';
import type { LxcOwner, SubidFile } from '../ports/lxd.js';
import { RESTART, readSubidArgv, WAIT_BOOT_ARGV } from '../adapters/lxd/commands.js';
import {
  FILE_DIFF_MAX_BYTES,
  FILE_REFUSED_EXIT,
  FILE_STALE_EXIT,
  READ_FILES_SCRIPT,
  WRITE_FILE_SCRIPT,
} from '../adapters/lxd/files-script.js';
import { EVERY_OWNER, LXC_PROBE_SCRIPT, LXC_STALE_EXIT, WRITE_LXC_FILE_SCRIPT } from '../adapters/lxd/lxc-scripts.js';
import { ADDRESSES_ARG, PROBE_MARK, PROBE_SCRIPT } from '../adapters/lxd/probe-script.js';
import { REFUSED_EXIT, STALE_EXIT, WRITE_SUBID_SCRIPT } from '../adapters/lxd/write-subid-script.js';
import { encodeLxcProbe } from './encode-lxc.js';
import { encodeProbe } from './encode-probe.js';
import { readFiles, writeFile } from './files.js';
import { probeLxc, writeLxcFile } from './lxc.js';
import { probeLevel } from './probe.js';
import { reach } from './reach.js';
import { restartDaemon } from './restart.js';
import type { World } from './state.js';
import { writeSubid } from './subid.js';
import { selectDaemon } from './world.js';
import { ok, failed } from './answers.js';

type Run = (world: World, path: string, args: readonly string[], owner: LxcOwner, options: ExecOptions) => ExecResult;

const subidFile = (path: string | undefined): SubidFile | null =>
  path === '/etc/subuid' ? 'subuid' : path === '/etc/subgid' ? 'subgid' : null;
const stdinText = (options: ExecOptions): string => (options.stdin === undefined ? '' : options.stdin.toString());

/** A script's refusal (EnvironmentError from the world's rules) as the script's own exit code and words. */
function refusal(e: unknown, stale: number, refused: number | null): ExecResult {
  if (!(e instanceof EnvironmentError) || e.name === 'CommandError') throw e;
  if (e.message.startsWith('plan is stale: ')) return failed(stale, e.message.slice('plan is stale: '.length));
  if (refused !== null) return failed(refused, e.message);
  throw e;
}

/**
 * `sh -c PROBE probe [--addresses] CLIENT UNIT`, or `probe [--addresses] '' '' FLAVOUR CLIENT UNIT…`:
 * the script chooses as it does (snap, deb, Incus; none when LXD is beside Incus).
 */
const probe: Run = (world, path, argv) => {
  const addresses = argv[0] === ADDRESSES_ARG;
  const args = addresses ? argv.slice(1) : argv;
  const [client = '', , ...triples] = args;
  const level = reach(world, path, ['sh', '-c', '<probe>']);
  const installed = [level.lxd, level.beside].flatMap((d) => (d ? [d.flavour] : []));
  let asked: Flavour | null = null;
  let chose: Flavour | null = null;
  if (client !== '') asked = installed.find((f) => flavourInfo(f).client === client) ?? null;
  else if (triples.length > 0) {
    const lxd = installed.includes('snap') ? 'snap' : installed.includes('debian') ? 'debian' : null;
    chose = installed.includes('incus') ? (lxd ? null : 'incus') : lxd;
    asked = chose;
  }
  if (asked) selectDaemon(level, asked);
  const observed = probeLevel(world, path, asked, { addresses });
  const answeredBy = asked ? flavourInfo(asked).client : client || null;
  return ok(encodeProbe(observed, { chose, client: answeredBy, missingClient: client !== '' && asked === null, addresses }));
};

const readSubid: Run = (world, path, args) => {
  const file = subidFile(args[0]);
  const text = file ? (reach(world, path, ['cat', args[0]!]).files[`/etc/${file}`]?.text ?? null) : null;
  return ok(text === null ? 'absent\n' : `present\n${text}`);
};

const writeSubidScript: Run = (world, path, args, _owner, options) => {
  const [name, expected, forget, entries] = args;
  const file = subidFile(name);
  if (!file) return failed(REFUSED_EXIT, `${name ?? ''} is not /etc/subuid or /etc/subgid`);
  try {
    writeSubid(world, path, file, stdinText(options), expected === 'absent' ? null : (expected ?? null), {
      forgetOriginal: forget === 'forget',
      entries: (entries ?? '').split('\n').filter(Boolean),
    });
    return ok();
  } catch (e) {
    return refusal(e, STALE_EXIT, REFUSED_EXIT);
  }
};

const restart: Run = (world, path) => {
  restartDaemon(world, path, null);
  return ok();
};

/** `sh -c READ_FILES files PATH…`: one fact line per path (core/observe/parse-files.ts). */
const files: Run = (world, path, args) => {
  const seen = readFiles(world, path, args);
  const lines = args.map((p) => {
    const f = seen[p];
    if (!f) return `${PROBE_MARK} absent`;
    if (f.kind !== 'file') return `${PROBE_MARK} other`;
    return `${PROBE_MARK} file ${f.mode.toString(8)} ${f.uid} ${f.gid} ${f.size} ${f.sha256} ${f.size <= FILE_DIFF_MAX_BYTES ? (f.data ?? '') : '-'}`;
  });
  return ok(`${lines.join('\n')}\n`);
};

/** `sh -c WRITE_FILE push-file PATH MODE UID GID EXPECTED`, the bytes on stdin. */
const pushFile: Run = (world, path, args, _owner, options) => {
  const [file = '', mode = '644', uid = '0', gid = '0', expected = 'any'] = args;
  const bytes = options.stdin === undefined ? Buffer.alloc(0) : Buffer.from(options.stdin);
  try {
    writeFile(world, path, {
      path: file,
      data: bytes.toString('base64'),
      mode: parseInt(mode, 8),
      uid: Number(uid),
      gid: Number(gid),
      expected: expected === 'absent' ? null : expected,
    });
    return ok();
  } catch (e) {
    return refusal(e, FILE_STALE_EXIT, FILE_REFUSED_EXIT);
  }
};

const lxcProbe: Run = (world, path, args) => {
  const every = args[0] === EVERY_OWNER;
  return ok(encodeLxcProbe(probeLxc(world, path, every ? args.slice(1) : args, every)));
};

const writeLxc: Run = (world, path, args, owner, options) => {
  const [file = '', expected = 'absent', forget] = args;
  try {
    writeLxcFile(world, path, file, owner.user ?? 'root', stdinText(options), expected === 'absent' ? null : expected, {
      forgetOriginal: forget === 'forget',
    });
    return ok();
  } catch (e) {
    return refusal(e, LXC_STALE_EXIT, null);
  }
};

/** Each script by its $0, with the text it must be (anything else named so is a setup command). */
const SCRIPTS: Record<string, { text: string; run: Run }> = {
  probe: { text: PROBE_SCRIPT, run: probe },
  'nestctl-read-file': { text: readSubidArgv('subuid')[2]!, run: readSubid },
  'nestctl-write-subid': { text: WRITE_SUBID_SCRIPT, run: writeSubidScript },
  restart: { text: RESTART, run: restart },
  files: { text: READ_FILES_SCRIPT, run: files },
  'push-file': { text: WRITE_FILE_SCRIPT, run: pushFile },
  'wait-boot': { text: WAIT_BOOT_ARGV[2]!, run: () => ok() },
  'lxc-probe': { text: LXC_PROBE_SCRIPT, run: lxcProbe },
  'nestctl-write-lxc-file': { text: WRITE_LXC_FILE_SCRIPT, run: writeLxc },
};

/** `sh -c SCRIPT NAME ARGS…` when SCRIPT is one of nestctl's; null for any other script. */
export async function answerScript(
  world: World,
  path: string,
  argv: readonly string[],
  owner: LxcOwner,
  options: ExecOptions,
): Promise<ExecResult | null> {
  const [, , text, name = '', ...args] = argv;
  const script = Object.hasOwn(SCRIPTS, name) ? SCRIPTS[name] : undefined;
  if (!script || script.text !== text) return null;
  return script.run(world, path, args, owner, options);
}
