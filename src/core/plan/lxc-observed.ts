// What the planner reads of observed LXC containers.

import type { IdRange } from '../ids/range.js';
import { parseLxcConfig } from '../lxc/config-file.js';
import type { ObservedLxcContainer } from '../observed.js';

/** The host-id range of a container's uid map as its config says (`lxc.idmap = u 0 START SIZE`), or null. */
export function hostRangesOfLxc(c: ObservedLxcContainer): IdRange | null {
  return configuredMap(c.config.text);
}

export function configuredMap(config: string): IdRange | null {
  const line = parseLxcConfig(config).find((l) => l.key === 'lxc.idmap' && /^u\s+0\s+\d+\s+\d+$/.test(l.value));
  if (!line) return null;
  const [, , start, size] = line.value.split(/\s+/);
  return { start: Number(start), size: Number(size) };
}
