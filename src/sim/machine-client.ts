// `lxc …` and `incus …` on a simulated machine: the client's subcommands that nestctl runs
// (adapters/lxd/commands.ts builds them), each read back from its argv and done by the LXD rules
// of instances.ts, images.ts and profiles.ts. Output is what the client prints with -q.

import { parse } from 'yaml';
import { FLAVOURS, flavourInfo, type Flavour } from '../core/flavour/index.js';
import { joinPath } from '../core/paths.js';
import type { ProfileBody } from '../core/plan/model.js';
import type { ExecOptions, ExecResult } from '../ports/exec.js';
import type { InstanceSpec } from '../ports/lxd.js';
import { ADDRESSES_QUERY, IMAGES_QUERY, INSTANCES_QUERY, POOLS_QUERY, PROFILES_QUERY } from '../adapters/lxd/probe-script.js';
import { apiAddresses, apiImages, apiInstances, apiNetworks, apiPools, apiProfiles, apiServer } from './encode-probe.js';
import { commandNotFound, lxcFailure, socketRefused } from './errors.js';
import { exportImageTo, fetchImage, importImageFiles, pushFile } from './images.js';
import { createInstance, deleteInstance, renameInstance, startInstance, stopInstance, updateInstance } from './instances.js';
import { probeLevel } from './probe.js';
import { copyInstance, deleteSnapshot, restoreInstance, snapshotInstance } from './snapshots.js';
import { createProfile, deleteProfile, writeProfile } from './profiles.js';
import { reach } from './reach.js';
import type { World } from './state.js';
import { selectDaemon } from './world.js';
import { ok, json, type Enter } from './answers.js';

const CLIENTS = new Set(FLAVOURS.map((f) => flavourInfo(f).client));

/** A client command, not the daemon's own admin commands (`incus admin …`: machine-tools.ts). */
export const isClientCommand = (argv: readonly string[]): boolean => CLIENTS.has(argv[0] as never) && argv[1] !== 'admin';

/** The value after `flag` in argv, each occurrence. */
const values = (words: readonly string[], flag: string): string[] => words.flatMap((w, i) => (words[i - 1] === flag ? [w] : []));

/** Talk to the daemon of this client at the level (on a level with LXD and Incus, that one); throws as the shell would without it. */
function useDaemon(world: World, path: string, argv: readonly string[]): Flavour {
  const level = reach(world, path, argv);
  const flavour = [level.lxd, level.beside].find((d) => d && flavourInfo(d.flavour).client === argv[0])?.flavour;
  if (!flavour) throw commandNotFound(path, argv);
  selectDaemon(level, flavour);
  return flavour;
}

export async function answerClient(
  world: World,
  path: string,
  argv: readonly string[],
  options: ExecOptions,
  enter: Enter,
): Promise<ExecResult> {
  const flavour = useDaemon(world, path, argv);
  const words = argv.filter((w) => w !== '-q');
  const [, verb, ...rest] = words;
  switch (verb) {
    case 'query':
      return query(world, path, argv, flavour, rest[0] ?? '');
    case 'init':
      createInstance(world, path, initSpec(rest));
      return ok();
    case 'start':
      startInstance(world, path, rest[0]!);
      return ok();
    case 'stop':
      stopInstance(world, path, rest[0]!);
      return ok();
    case 'rename':
      renameInstance(world, path, rest[0]!, rest[1]!);
      return ok();
    case 'delete': {
      const target = rest.filter((w) => w !== '--force')[0]!;
      const slash = target.indexOf('/');
      if (slash >= 0) deleteSnapshot(world, path, target.slice(0, slash), target.slice(slash + 1));
      else deleteInstance(world, path, target, rest.includes('--force'));
      return ok();
    }
    case 'snapshot':
      snapshotInstance(world, path, rest[0]!, rest[1]!);
      return ok();
    case 'restore':
      restoreInstance(world, path, rest[0]!, rest[1]!);
      return ok();
    case 'copy':
      return copy(world, path, argv, rest);
    case 'config':
      return config(world, path, argv, rest);
    case 'profile':
      return profile(world, path, argv, rest, options);
    case 'image':
      return image(world, path, argv, rest);
    case 'file':
      if (rest[0] !== 'push') break;
      pushFile(world, path, rest[1]!, rest[2]!);
      return ok();
    case 'exec':
      return exec(world, path, argv, rest, options, enter);
  }
  throw lxcFailure(path, argv, `the simulated client does not model ${argv.join(' ')}`);
}

function query(world: World, path: string, argv: readonly string[], flavour: Flavour, url: string): ExecResult {
  const level = probeLevel(world, path, flavour, { addresses: url === ADDRESSES_QUERY });
  if (level.daemon.kind !== 'up') throw lxcFailure(path, argv, socketRefused(flavour).replace(/^Error: /, ''));
  const answers: Record<string, () => unknown> = {
    '/1.0': () => apiServer(level, level.daemon.kind === 'up' ? level.daemon.version : ''),
    [INSTANCES_QUERY]: () => apiInstances(level),
    [ADDRESSES_QUERY]: () => apiAddresses(level),
    [IMAGES_QUERY]: () => apiImages(level),
    [PROFILES_QUERY]: () => apiProfiles(level.profiles),
    [POOLS_QUERY]: () => apiPools(level),
    '/1.0/networks?recursion=1': () => apiNetworks(level),
  };
  const read = answers[url];
  if (!read) throw lxcFailure(path, argv, `the simulated daemon does not answer ${url}`);
  return json(read());
}

/** `init FINGERPRINT NAME (-p P)… | --no-profiles (-c K=V)… [--target T]`. */
function initSpec(rest: readonly string[]): InstanceSpec {
  const [fingerprint = '', name = ''] = rest;
  const config = Object.fromEntries(values(rest, '-c').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const target = values(rest, '--target')[0];
  return { fingerprint, name, profiles: values(rest, '-p'), config, ...(target !== undefined ? { target } : {}) };
}

/** `copy SOURCE/SNAPSHOT NAME [--target T]`: only from a snapshot (nestctl never copies a live disk). */
function copy(world: World, path: string, argv: readonly string[], rest: readonly string[]): ExecResult {
  const target = values(rest, '--target')[0];
  const [from = '', name = ''] = rest.filter((w, i) => w !== '--target' && rest[i - 1] !== '--target');
  const slash = from.indexOf('/');
  if (slash < 0) throw lxcFailure(path, argv, 'the simulated client copies only from a snapshot (SOURCE/SNAPSHOT)');
  copyInstance(world, path, from.slice(0, slash), from.slice(slash + 1), name, target);
  return ok();
}

/** `config set NAME K=V…`, `config unset NAME K`. */
function config(world: World, path: string, argv: readonly string[], rest: readonly string[]): ExecResult {
  const [sub, name = '', ...args] = rest;
  if (sub === 'set') {
    const set = Object.fromEntries(args.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    updateInstance(world, path, name, { set });
    return ok();
  }
  if (sub === 'unset') {
    updateInstance(world, path, name, { set: {}, unset: args });
    return ok();
  }
  throw lxcFailure(path, argv, `the simulated client does not model ${argv.join(' ')}`);
}

/** `profile create|edit|delete NAME` (edit: the whole profile as YAML on stdin), `profile assign NAME P1,P2`. */
function profile(world: World, path: string, argv: readonly string[], rest: readonly string[], options: ExecOptions): ExecResult {
  const [sub, name = '', list] = rest;
  if (sub === 'create') createProfile(world, path, name);
  else if (sub === 'delete') deleteProfile(world, path, name);
  else if (sub === 'edit') writeProfile(world, path, name, profileBody(options.stdin?.toString() ?? ''));
  else if (sub === 'assign') updateInstance(world, path, name, { set: {}, profiles: list ? list.split(',') : [] });
  else throw lxcFailure(path, argv, `the simulated client does not model ${argv.join(' ')}`);
  return ok();
}

/** api.ProfilePut as `profile edit` reads it from stdin. */
function profileBody(yaml: string): ProfileBody {
  const doc = (parse(yaml) ?? {}) as Partial<ProfileBody>;
  return { description: doc.description ?? '', config: doc.config ?? {}, devices: doc.devices ?? {} };
}

/** `image copy REMOTE:ALIAS local: --alias A`, `image export FP DIR/`, `image import FILES… --alias A…`. */
function image(world: World, path: string, argv: readonly string[], rest: readonly string[]): ExecResult {
  const [sub, ...args] = rest;
  const aliases = values(args, '--alias');
  const plain = args.filter((w, i) => w !== '--alias' && args[i - 1] !== '--alias');
  if (sub === 'copy') fetchImage(world, path, plain[0] ?? '', aliases[0] ?? '');
  else if (sub === 'export') exportImageTo(world, path, plain[0] ?? '', (plain[1] ?? '').replace(/\/$/, ''));
  else if (sub === 'import') importImageFiles(world, path, plain, aliases);
  else throw lxcFailure(path, argv, `the simulated client does not model ${argv.join(' ')}`);
  return ok();
}

/** `exec NAME -T -- ARGV…`: ARGV in the machine inside NAME, reached as the client reaches it. */
async function exec(
  world: World,
  path: string,
  argv: readonly string[],
  rest: readonly string[],
  options: ExecOptions,
  enter: Enter,
): Promise<ExecResult> {
  const dashes = rest.indexOf('--');
  const name = rest[0] ?? '';
  const inner = rest.slice(dashes + 1);
  if (dashes < 0 || inner.length === 0) throw lxcFailure(path, argv, 'the simulated client runs exec only as NAME -T -- ARGV');
  reach(world, joinPath(path, name), inner);
  return enter(world, path, name, inner, options);
}
