// Simulated worlds for destroy/prune tests: containers nestctl made (marked with their path),
// strangers, nested LXDs that are up or down.

import type { InstanceDescription, LevelDescription, WorldDescription } from '../../../src/sim/index.js';
import { loadManifest } from '../../../src/core/manifest/load.js';

export function load(text: string) {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

/** A container nestctl made at `path` (its marker), with what it holds. */
export const ours = (path: string, image: string, extra: Partial<InstanceDescription> = {}): InstanceDescription => ({
  name: path.split('/').at(-1)!,
  image,
  config: { 'user.nestctl.managed': 'true', 'user.nestctl.path': path, ...(image === 'nest' ? { 'security.nesting': 'true' } : {}) },
  ...extra,
});
export const stranger = (name: string, image = 'busybox'): InstanceDescription => ({ name, image });
/** The LXD inside a `nest` container: initialised, `ids` for its children, busybox, nest and noshell in its store. */
export const nestInside = (instances: InstanceDescription[], daemon: 'up' | 'down' = 'up', ids = 131072): LevelDescription => ({
  lxd: { flavour: 'debian', initialised: true, daemon },
  subuid: `root:65536:${ids}\n`,
  subgid: `root:65536:${ids}\n`,
  images: [{ alias: 'busybox' }, { alias: 'nest', lxd: true }, { alias: 'noshell', shell: false }],
  instances,
});
export const hostWith = (instances: InstanceDescription[], extra: Partial<WorldDescription['host']> = {}): WorldDescription => ({
  host: {
    lxd: { flavour: 'debian', initialised: true },
    subuid: 'root:500000:1000000\n',
    subgid: 'root:500000:1000000\n',
    images: [{ alias: 'busybox' }, { alias: 'nest', lxd: true }, { alias: 'noshell', shell: false }],
    instances,
    ...extra,
  },
});
