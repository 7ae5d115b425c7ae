// Level paths ("", "c1", "c1/c2") → LxdLevel, built by composing child() from the host.

import { parentPath } from '../core/paths.js';
import type { Flavour } from '../core/flavour/index.js';
import type { LxdLevel } from '../ports/lxd.js';

export type LevelResolver = (path: string) => LxdLevel;

/** `flavourOf`: each level's flavour as the plan decided it (null: the level's first probe finds out). */
export function levelResolver(host: LxdLevel, flavourOf: (path: string) => Flavour | null = () => null): LevelResolver {
  const cache = new Map<string, LxdLevel>([['', host]]);
  const resolve = (path: string): LxdLevel => {
    const hit = cache.get(path);
    if (hit) return hit;
    const level = resolve(parentPath(path)).child(path.slice(path.lastIndexOf('/') + 1), flavourOf(path));
    cache.set(path, level);
    return level;
  };
  return resolve;
}
