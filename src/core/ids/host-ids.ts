// Where each container's ids lie on the host: its map is given in its parent level's id space,
// which is itself mapped, one extent from 0, by the parent's own map, and so on up to the host.
// Composing them gives the host ids every container's root and users run as.

import { type IdRange, rangeEnd } from './range.js';

/** One level's children and their maps in the level's own id space (the plan's level summaries). */
export interface LevelMaps {
  path: string;
  children: ReadonlyArray<{ path: string; map: IdRange; isolated: boolean; dockremap?: IdRange }>;
}

export interface ContainerHostIds {
  path: string;
  isolated: boolean;
  /** Its ids as host ids: host uid `host.start` is its root. */
  host: IdRange;
  /** false: its map runs past the ids its parent level has, so the part beyond maps to nothing. */
  fits: boolean;
  /** docker.userns_remap: the host ids Docker's dockremap user runs its containers as. */
  dockremap: IdRange | null;
}

/** Every container reachable from the host's level, depth first in manifest order. */
export function containerHostIds(levels: readonly LevelMaps[]): ContainerHostIds[] {
  const byPath = new Map(levels.map((l) => [l.path, l]));
  const out: ContainerHostIds[] = [];
  // The level's own ids as host ids; the host's are the identity.
  const visit = (path: string, own: IdRange | null): void => {
    for (const ch of byPath.get(path)?.children ?? []) {
      const host = { start: (own?.start ?? 0) + ch.map.start, size: ch.map.size };
      const dockremap = ch.dockremap ? { start: host.start + ch.dockremap.start, size: ch.dockremap.size } : null;
      out.push({ path: ch.path, isolated: ch.isolated, host, fits: own === null || rangeEnd(ch.map) <= own.size, dockremap });
      visit(ch.path, host);
    }
  };
  visit('', null);
  return out;
}

/** The host id of a level's own id 0 ("" for the host: 0), or null when the level is not in the list. */
export function levelHostBase(all: readonly ContainerHostIds[], path: string): number | null {
  if (path === '') return 0;
  return all.find((c) => c.path === path)?.host.start ?? null;
}
