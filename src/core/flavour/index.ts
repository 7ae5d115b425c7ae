// The daemon flavours: their descriptors, and the one rule that decides a level's flavour.

import { BLOCK, type IdRange } from '../ids/range.js';
import { debian } from './debian.js';
import { incus } from './incus.js';
import type { Flavour, FlavourInfo } from './model.js';
import { snap } from './snap.js';

export { IDMAP_KEYS, type Flavour, type FlavourInfo } from './model.js';
export { START_ONLY_KEYS, startOnlyChanges, startOnlyFacts, type StartOnlyKey } from './start-keys.js';

const KERNEL_NESTED_START = 100000;

/**
 * The range a daemon takes from its own namespace when it does not read /etc/subuid
 * (kernelDefaultMap in lxd/idmap/idmapset_linux.go; Incus keeps it): on a real host the fixed
 * 1000000:1000000000, inside a container from 100000 up to the end of the level's own map.
 */
export function kernelDefaultRange(isHost: boolean, ownSize: number): IdRange {
  return isHost
    ? { start: 1_000_000, size: 1_000_000_000 }
    : { start: KERNEL_NESTED_START, size: Math.max(0, ownSize - KERNEL_NESTED_START) };
}

/**
 * Where a nested level's daemon range starts in its own id space: the snap takes the kernel
 * default; a packaged LXD or Incus the root entry nestctl writes at 65536. null (not said): a
 * packaged daemon.
 */
export function nestedRangeStart(flavour: Flavour | null): number {
  return flavour !== null && BY_NAME[flavour].readsSubid === 'never' ? KERNEL_NESTED_START : BLOCK;
}

/**
 * kernelDefaultMap (lxd/idmap/idmapset_linux.go) takes the range from 100000 only when
 * `Endid-Startid >= 65536`, i.e. at least 65537 ids; with fewer the daemon has no allocation and
 * runs privileged containers only.
 */
export const KERNEL_DEFAULT_MIN = 65537;

/** Whether a kernel-default range is one the daemon takes (kernelDefaultMap's "enough ids"). */
export function kernelDefaultUsable(range: IdRange): boolean {
  return range.size >= KERNEL_DEFAULT_MIN;
}

/**
 * Ids a nested level's own map must hold for its daemon to hand out `daemonNeed`: the root entry
 * at 65536 and the range; for the snap, 100000 and a range kernelDefaultMap takes.
 */
export function nestedOwnNeed(flavour: Flavour | null, daemonNeed: number): number {
  const start = nestedRangeStart(flavour);
  return start === KERNEL_NESTED_START ? start + Math.max(daemonNeed, KERNEL_DEFAULT_MIN) : start + daemonNeed;
}

/** The flavour assumed inside a container not seen yet: its parent's kind (LXD images carry Debian's package). */
export function assumedInside(parent: Flavour): Flavour {
  return parent === 'incus' ? 'incus' : 'debian';
}

export const FLAVOURS: readonly Flavour[] = ['debian', 'incus', 'snap'];

const BY_NAME: Record<Flavour, FlavourInfo> = { debian, incus, snap };

export function flavourInfo(flavour: Flavour): FlavourInfo {
  return BY_NAME[flavour];
}

/** The daemon's name for plan words; "LXD" when the flavour is not known. */
export function daemonName(flavour: Flavour | null): string {
  return flavour ? BY_NAME[flavour].daemonName : 'LXD';
}

/** The command-line client; LXD's when the flavour is not known. */
export function clientOf(flavour: Flavour | null): string {
  return flavour ? BY_NAME[flavour].client : debian.client;
}

/** Whether an argv word is one of the flavours' clients. */
export function isClient(word: string | undefined): boolean {
  return FLAVOURS.some((f) => BY_NAME[f].client === word);
}

/** The managed bridge `init` creates; LXD's when the flavour is not known. */
export function bridgeName(flavour: Flavour | null): string {
  return flavour ? BY_NAME[flavour].bridge : debian.bridge;
}

export type FlavourDecision = { ok: true; flavour: Flavour | null } | { ok: false; message: string; hint: string };

/**
 * A level's flavour, one precedence everywhere: the manifest's (`wanted`) when given, which must
 * be installed when anything is; else the single daemon installed (an LXD is the snap's or the
 * deb's, never both: see installedFlavours); else, LXD and Incus side by side, a refusal.
 * null: nothing installed.
 */
export function decideFlavour(wanted: Flavour | null, installed: readonly Flavour[], where: string, key: string): FlavourDecision {
  if (wanted !== null) {
    if (installed.length === 0 || installed.includes(wanted)) return { ok: true, flavour: wanted };
    return {
      ok: false,
      message: `${where}: the manifest says ${key}: ${wanted}, but ${where} runs ${installed.map((f) => `${BY_NAME[f].daemonName} (${f})`).join(' and ')}`,
      hint: `set ${key} to ${installed.join(' or ')}, or install ${BY_NAME[wanted].daemonName} there`,
    };
  }
  const lxd = installed.includes('snap') ? 'snap' : installed.includes('debian') ? 'debian' : null;
  const hasIncus = installed.includes('incus');
  if (lxd && hasIncus) {
    return {
      ok: false,
      message: `${where} has both LXD (${lxd}) and Incus installed, and the manifest does not say which one nestctl manages`,
      hint: `set ${key} to ${lxd} or incus`,
    };
  }
  return { ok: true, flavour: lxd ?? (hasIncus ? 'incus' : null) };
}
