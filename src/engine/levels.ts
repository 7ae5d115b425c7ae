// Level paths ("", "c1", "c1/c2") → LxdLevel, built by composing child() from the host.

import { parentPath } from '../core/paths.js';
import type { Flavour } from '../core/flavour/index.js';
import type { LxdLevel } from '../ports/lxd.js';

export type LevelResolver = (path: string) => LxdLevel;

/**
 * `flavourOf`: each level's flavour as the plan decided it (null: the level's first probe finds
 * out). `lxcOwnerOf`: for a level inside a classic LXC container, the container's owner (null:
 * root's); undefined for the inside of an LXD container.
 */
export function levelResolver(
  host: LxdLevel,
  flavourOf: (path: string) => Flavour | null = () => null,
  lxcOwnerOf: (path: string) => string | null | undefined = () => undefined,
): LevelResolver {
  const cache = new Map<string, LxdLevel>([['', host]]);
  const resolve = (path: string): LxdLevel => {
    const hit = cache.get(path);
    if (hit) return hit;
    const parent = resolve(parentPath(path));
    const name = path.slice(path.lastIndexOf('/') + 1);
    const owner = lxcOwnerOf(path);
    const level = owner === undefined ? parent.child(name, flavourOf(path)) : parent.lxcChild(name, owner);
    cache.set(path, level);
    return level;
  };
  return resolve;
}
