// The argv of every command the real client runs at a level, built in one place: ExecLevel runs
// them, and the simulator shows them (--simulate --verbose) as a real run would execute them.

import { endMarked } from './bounded.js';
import { stringify } from 'yaml';
import type { ProfileBody } from '../../core/plan/model.js';
import { FLAVOURS, type FlavourInfo, flavourInfo } from '../../core/flavour/index.js';
import type { InstanceSpec, InstanceUpdate, ProbeWants, SubidFile } from '../../ports/lxd.js';
import { ADDRESSES_ARG } from './probe-script.js';
import { WRITE_SUBID_SCRIPT } from './write-subid-script.js';

/** The client that runs a command: a flavour's client (lxc, incus). */
export type Cli = string;

export const WAIT_READY_SECONDS = 120;

// `sh -c RESTART restart NEED ARGV…`: the flavour's restart argv, refused without systemd when it needs it.
export const RESTART = `
need=$1; shift
if [ "$need" = systemd ] && [ ! -d /run/systemd/system ]; then echo "cannot run $* here: no systemd" >&2; exit 3; fi
exec "$@"
`;

/**
 * The probe as --verbose shows it (`<probe>` for the constant script); run with the script itself.
 * `info`: the daemon to ask; null: the script asks the one installed (every flavour's client and
 * unit go along as arguments, from the descriptors). `wants.addresses` puts ADDRESSES_ARG first.
 */
export function probeArgv(info: FlavourInfo | null, wants: ProbeWants = {}, script = '<probe>'): string[] {
  const ask = info ? [info.client, info.unit] : ['', '', ...FLAVOURS.flatMap((f) => [f, flavourInfo(f).client, flavourInfo(f).unit])];
  return ['sh', '-c', script, 'probe', ...(wants.addresses ? [ADDRESSES_ARG] : []), ...ask];
}

// Right after start, systemctl cannot reach the bus yet ("Failed to connect to bus"): retry
// until systemd reports the boot finished. Containers without systemd are ready at once.
const WAIT_BOOT = `
if [ -x /lib/systemd/systemd ] || [ -x /usr/lib/systemd/systemd ]; then
  case "$(systemctl is-system-running --wait 2>/dev/null)" in running|degraded) exit 0;; *) exit 1;; esac
fi
exit 0`;
/** Run inside a container just started: exits 0 once its boot has finished. */
export const WAIT_BOOT_ARGV: readonly string[] = ['sh', '-c', WAIT_BOOT, 'wait-boot'];

export const queryArgv = (cli: Cli, url: string): string[] => [cli, 'query', url];

// `sh -c READ_FILE nestctl-read-file PATH`: "present" or "absent" on the first line, then the text.
const READ_FILE = endMarked(`
if [ -e "$1" ]; then echo present; exec cat -- "$1"; fi
echo absent
`);
export const readSubidArgv = (file: SubidFile): string[] => ['sh', '-c', READ_FILE, 'nestctl-read-file', `/etc/${file}`];

export const TEMP_DIR_ARGV = ['mktemp', '-d', '/var/tmp/nestctl-image.XXXXXX'];
export const exportImageArgv = (cli: Cli, fingerprint: string, dir: string): string[] => [
  cli,
  'image',
  'export',
  '-q',
  fingerprint,
  `${dir}/`,
];
export const pushFileArgv = (cli: Cli, file: string, childName: string, dir: string): string[] => [
  cli,
  'file',
  'push',
  '-q',
  file,
  `${childName}${dir}/`,
];
/** Removes the bundle's temp directories (only nestctl's own); null when there are none. */
export function discardArgv(files: readonly string[]): string[] | null {
  const dirs = [...new Set(files.map((f) => f.slice(0, f.lastIndexOf('/'))))].filter((d) => d.startsWith('/var/tmp/nestctl-'));
  return dirs.length > 0 ? ['rm', '-rf', '--', ...dirs] : null;
}

export const writeSubidArgv = (
  file: SubidFile,
  expectedSha256: string | null,
  forgetOriginal: boolean,
  entries: readonly string[],
): string[] => [
  'sh',
  '-c',
  WRITE_SUBID_SCRIPT,
  'nestctl-write-subid',
  `/etc/${file}`,
  expectedSha256 ?? 'absent',
  forgetOriginal ? 'forget' : 'keep',
  entries.join('\n'),
];

export const restartArgv = (info: FlavourInfo): string[] => [
  'sh',
  '-c',
  RESTART,
  'restart',
  info.restartNeedsSystemd ? 'systemd' : 'any',
  ...info.restartArgv,
];
export const waitReadyArgv = (info: FlavourInfo): string[] => [...info.waitReadyArgv, String(WAIT_READY_SECONDS)];
export const fetchImageArgv = (cli: Cli, remoteRef: string, alias: string): string[] => [
  cli,
  'image',
  'copy',
  remoteRef,
  'local:',
  '--alias',
  alias,
];
export const importImageArgv = (cli: Cli, files: readonly string[], aliases: readonly string[]): string[] => [
  cli,
  'image',
  'import',
  '-q',
  ...files,
  ...aliases.flatMap((a) => ['--alias', a]),
];

export function createInstanceArgv(cli: Cli, spec: InstanceSpec): string[] {
  const profiles = spec.profiles.length > 0 ? spec.profiles.flatMap((p) => ['-p', p]) : ['--no-profiles'];
  const config = Object.entries(spec.config).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const target = spec.target !== undefined ? ['--target', spec.target] : [];
  return [cli, 'init', '-q', spec.fingerprint, spec.name, ...profiles, ...config, ...target];
}

export const instanceArgv = (cli: Cli, verb: 'start' | 'stop', name: string): string[] => [cli, verb, '-q', name];
/** Running or not, with everything inside it: the caller has proved all of it deletable. */
/** `lxc rename` (LXD's lxc/rename.go; Incus's cmd/incus/rename.go): the instance must be stopped. */
export const renameArgv = (cli: Cli, name: string, newName: string): string[] => [cli, 'rename', '-q', name, newName];
export const deleteArgv = (cli: Cli, name: string): string[] => [cli, 'delete', '--force', '-q', name];
/** `lxc snapshot` (LXD's lxc/snapshot.go): stateless, of a running container too. */
export const snapshotArgv = (cli: Cli, name: string, snapshot: string): string[] => [cli, 'snapshot', '-q', name, snapshot];
/** `lxc copy SOURCE/SNAPSHOT NAME` (LXD's lxc/copy.go): the copy is created stopped, from the snapshot. */
export const copyArgv = (cli: Cli, source: string, snapshot: string, name: string, target?: string): string[] => [
  cli,
  'copy',
  '-q',
  `${source}/${snapshot}`,
  name,
  ...(target !== undefined ? ['--target', target] : []),
];
/** `lxc restore NAME SNAPSHOT` (LXD's lxc/restore.go). */
export const restoreArgv = (cli: Cli, name: string, snapshot: string): string[] => [cli, 'restore', '-q', name, snapshot];
export const deleteSnapshotArgv = (cli: Cli, name: string, snapshot: string): string[] => [cli, 'delete', '-q', `${name}/${snapshot}`];

/** `config set` (when there is something to set), then `profile assign` (when asked). */
export function updateInstanceArgvs(cli: Cli, name: string, update: InstanceUpdate): string[][] {
  const pairs = Object.entries(update.set).map(([k, v]) => `${k}=${v}`);
  return [
    ...(pairs.length > 0 ? [[cli, 'config', 'set', name, ...pairs]] : []),
    ...(update.unset ?? []).map((key) => [cli, 'config', 'unset', name, key]),
    ...(update.profiles ? [[cli, 'profile', 'assign', name, update.profiles.join(',')]] : []),
  ];
}

export const profileCreateArgv = (cli: Cli, name: string): string[] => [cli, 'profile', 'create', name];
/**
 * Reads the whole profile as YAML on stdin: lxc (LXD lxc/profile.go, Incus cmd/incus/profile.go,
 * cmdProfileEdit) reads stdin when it is not a terminal and PUTs it, so keys and devices not in
 * the text are removed. The manifest's values travel only in that text, never on the command line.
 */
export const profileEditArgv = (cli: Cli, name: string): string[] => [cli, 'profile', 'edit', name];
export const profileDeleteArgv = (cli: Cli, name: string): string[] => [cli, 'profile', 'delete', name];
/** The stdin of `profile edit` (api.ProfilePut: description, config, devices). */
export const profileYaml = (body: ProfileBody): string =>
  stringify({ description: body.description, config: body.config, devices: body.devices });

/** What --verbose shows for an argv, nested or not: each constant `sh -c` script by its name (its $0), not its text. */
export function shownArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (argv[i - 1] === '-c' && argv[i - 2] === 'sh' && word.includes('\n')) {
      out.push(`<${argv[i + 1] ?? 'script'}>`);
      i += 1;
    } else out.push(word);
  }
  return out;
}
