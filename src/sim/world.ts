// The world's clock, its log, and finding a level by path (without any access rules: that is
// reach.ts). The clock is logical: integer seconds, one step per change, so file mtimes and daemon
// start times order exactly as they happened.

import { clientOf } from '../core/flavour/index.js';
import type { Flavour } from '../core/manifest/model.js';
import type { LevelState, LxcContainerState, OpRecord, World } from './state.js';

/** Advance the clock; every mutating call does this once (or more). */
export function tick(world: World): number {
  world.clock += 1;
  return world.clock;
}

export function nextSeq(world: World): number {
  world.seq += 1;
  return world.seq;
}

export function record(world: World, path: string, op: string, detail = ''): void {
  const entry: OpRecord = { t: world.clock, path, op, detail };
  world.log.push(entry);
}

/** The level at `path`, following instances whatever their state; null when there is none. */
export function findLevel(world: World, path: string): LevelState | null {
  if (path === '') return world.host;
  let level: LevelState = world.host;
  for (const name of path.split('/')) {
    const inside = level.lxd?.instances.find((i) => i.name === name)?.inside ?? lxcContainerAt(level, name)?.inside;
    if (!inside) return null;
    level = inside;
  }
  return level;
}

/** The classic LXC container `name` at a level that has a machine inside (a level's names are unique across LXD and LXC). */
export function lxcContainerAt(level: LevelState, name: string): LxcContainerState | null {
  return level.lxc?.containers.find((c) => c.name === name && c.inside) ?? null;
}

/** The command-line client of a level ("lxc", or "incus" for Incus). */
export function cliOf(level: LevelState): string {
  return clientOf(level.lxd?.flavour ?? null);
}

/**
 * The daemon a client talks to, on a level with LXD and Incus side by side: `lxd` is always the
 * one the last client chose, `beside` the other. Choosing one not installed changes nothing.
 */
export function selectDaemon(level: LevelState, flavour: Flavour): void {
  if (level.lxd?.flavour === flavour || level.beside?.flavour !== flavour) return;
  [level.lxd, level.beside] = [level.beside, level.lxd];
}

/** argv of a client command at `path` (for error messages), before the level is reached. */
export function cliArgv(world: World, path: string, rest: readonly string[]): string[] {
  const level = findLevel(world, path);
  return [level ? cliOf(level) : clientOf(null), ...rest];
}
