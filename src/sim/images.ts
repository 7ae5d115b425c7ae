// Images moving between levels without a network: `lxc image export` into a temp dir, `lxc file
// push` into a child, `lxc image import META ROOTFS`. The fingerprint survives the trip. Files
// live in the levels' file maps, so a deleted container takes them with it.

import { lxcFailure, TEXT } from './errors.js';
import { findImage } from './instances.js';
import { activate } from './power.js';
import { reach } from './reach.js';
import { joinPath, type LxdState, type World } from './state.js';
import { cliArgv, nextSeq, record, tick } from './world.js';

const basename = (f: string): string => f.slice(f.lastIndexOf('/') + 1);

/** Default remotes of an LXD 5.0 client: they exist, but this world has no network. */
const DEFAULT_REMOTES: Record<string, string> = {
  images: 'images.linuxcontainers.org',
  ubuntu: 'cloud-images.ubuntu.com',
  'ubuntu-daily': 'cloud-images.ubuntu.com',
};

function addAliases(lxd: LxdState, path: string, argv: readonly string[], fingerprint: string, aliases: readonly string[]): void {
  for (const alias of aliases) {
    const holder = lxd.images.find((i) => i.aliases.includes(alias));
    if (holder && holder.fingerprint !== fingerprint) throw lxcFailure(path, argv, `Alias already exists: ${alias}`);
  }
  let image = lxd.images.find((i) => i.fingerprint === fingerprint);
  if (!image) {
    image = { fingerprint, aliases: [] };
    lxd.images.push(image);
  }
  for (const alias of aliases) if (!image.aliases.includes(alias)) image.aliases.push(alias);
}

/** `lxc image copy REMOTE:ALIAS local: --alias ALIAS`: only remotes the world describes answer. */
export function fetchImage(world: World, path: string, remoteRef: string, alias: string): void {
  const argv = cliArgv(world, path, ['image', 'copy', remoteRef, 'local:', '--alias', alias]);
  const lxd = activate(world, reach(world, path, argv), argv);
  const colon = remoteRef.indexOf(':');
  const remote = colon < 0 ? 'local' : remoteRef.slice(0, colon);
  const name = remoteRef.slice(colon + 1);
  const served = world.remotes[remote];
  if (!served) {
    const host = DEFAULT_REMOTES[remote];
    if (!host) throw lxcFailure(path, argv, `The remote "${remote}" doesn't exist`);
    throw lxcFailure(
      path,
      argv,
      `Failed getting remote image info: Get "https://${host}/streams/v1/index.json": dial tcp: lookup ${host}: Temporary failure in name resolution`,
    );
  }
  const image = served.find((i) => i.aliases.includes(name)) ?? served.find((i) => i.fingerprint.startsWith(name));
  if (!image) throw lxcFailure(path, argv, TEXT.imageNotFound);
  addAliases(lxd, path, argv, image.fingerprint, [alias]);
  tick(world);
  record(world, path, 'image-fetch', `${remoteRef} → ${image.fingerprint.slice(0, 12)}`);
}

/** `mktemp -d TEMPLATE`: a fresh name (the world keeps no directories, only files under them). */
export function makeTempDir(world: World, path: string, template: string): string {
  reach(world, path, ['mktemp', '-d', template]);
  return template.replace(/X+$/, (xs) => String(nextSeq(world)).padStart(xs.length, '0'));
}

/** `find DIR -type f`: the files under DIR, in name order. */
export function listFiles(world: World, path: string, dir: string): string[] {
  const level = reach(world, path, ['find', dir, '-type', 'f']);
  return Object.keys(level.files)
    .filter((f) => f.startsWith(`${dir}/`))
    .sort();
}

/** `lxc image export FP DIR/`: a split image, its metadata tarball and its rootfs. */
export function exportImageTo(world: World, path: string, fingerprint: string, dir: string): void {
  const argv = cliArgv(world, path, ['image', 'export', fingerprint, `${dir}/`]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  const full = findImage(lxd, fingerprint);
  if (!full) throw lxcFailure(path, argv, TEXT.imageNotFound);
  const t = tick(world);
  level.files[`${dir}/meta-${full}.tar.xz`] = { text: '', mtime: t, image: { fingerprint: full, part: 'meta' } };
  level.files[`${dir}/${full}.tar.xz`] = { text: '', mtime: t, image: { fingerprint: full, part: 'rootfs' } };
  record(world, path, 'image-export', `${full.slice(0, 12)} → ${dir}`);
}

/** `lxc file push FILE CHILD/DIR/`: a file of this level into a directory of container CHILD. */
export function pushFile(world: World, path: string, file: string, dest: string): void {
  const slash = dest.indexOf('/');
  const [childName, dir] = [dest.slice(0, slash), dest.slice(slash).replace(/\/$/, '')];
  const argv = cliArgv(world, path, ['file', 'push', file, dest]);
  const level = reach(world, path, argv);
  activate(world, level, argv);
  const child = reach(world, joinPath(path, childName), argv);
  const from = level.files[file];
  if (!from) throw lxcFailure(path, argv, `open ${file}: no such file or directory`);
  child.files[`${dir}/${basename(file)}`] = { ...from, mtime: tick(world) };
  record(world, path, 'file-push', `${file} → ${dest}`);
}

/** `lxc image import META ROOTFS --alias A…`: the fingerprint is the content's, kept as it was. */
export function importImageFiles(world: World, path: string, files: readonly string[], aliases: readonly string[]): void {
  const argv = cliArgv(world, path, ['image', 'import', ...files, ...aliases.flatMap((a) => ['--alias', a])]);
  const level = reach(world, path, argv);
  const lxd = activate(world, level, argv);
  const missing = files.find((f) => !level.files[f]);
  if (missing !== undefined) throw lxcFailure(path, argv, `open ${missing}: no such file or directory`);
  const parts = files.map((f) => level.files[f]!.image);
  const fingerprint = parts[0]?.fingerprint;
  const complete = parts.length === 2 && parts[0]?.part === 'meta' && parts[1]?.part === 'rootfs' && parts[1]?.fingerprint === fingerprint;
  if (!fingerprint || !complete) throw lxcFailure(path, argv, 'Invalid image file');
  if (lxd.images.some((i) => i.fingerprint === fingerprint)) throw lxcFailure(path, argv, TEXT.imageExists);
  addAliases(lxd, path, argv, fingerprint, aliases);
  tick(world);
  record(world, path, 'image-import', `${fingerprint.slice(0, 12)} ${aliases.join(',')}`);
}

/** `rm -rf -- DIR…` (everything under each), `rm -f -- FILE…`. */
export function removeFiles(world: World, path: string, targets: readonly string[], recursive: boolean): void {
  const level = reach(world, path, ['rm', '--', ...targets]);
  for (const f of Object.keys(level.files)) {
    if (targets.includes(f) || (recursive && targets.some((t) => f.startsWith(`${t}/`)))) delete level.files[f];
  }
  tick(world);
  record(world, path, 'rm', targets.join(' '));
}

/**
 * `lxc image copy FP REMOTE: --mode relay` as the remote's host receives it: the image as this
 * machine's host holds it (its hidden properties too), under its fingerprint and `aliases`.
 */
export function receiveRelayed(from: World, to: World, fingerprint: string, aliases: readonly string[]): void {
  const argv = cliArgv(to, '', ['image', 'copy', fingerprint, 'REMOTE:', '--mode', 'relay', ...aliases.flatMap((a) => ['--alias', a])]);
  const def = from.catalog[fingerprint];
  const lxd = to.host.lxd;
  if (!def || !from.host.lxd?.images.some((i) => i.fingerprint === fingerprint)) throw lxcFailure('', argv, TEXT.imageNotFound);
  if (!lxd) throw lxcFailure('', argv, 'the remote has no daemon');
  to.catalog[fingerprint] ??= def;
  addAliases(lxd, '', argv, fingerprint, aliases);
  tick(to);
  record(to, '', 'image-relay', `${fingerprint.slice(0, 12)} ${aliases.join(',')}`);
}
