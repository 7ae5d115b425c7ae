// The world `--simulate` assumes for a manifest when no world file is given: one fresh machine
// with Debian's LXD (or the manifest's flavour), the images its containers are made from, and the
// accounts its classic LXC containers run as.

import { bridgeName } from '../core/flavour/index.js';
import { type Flavour, type Manifest, hostsContainers } from '../core/manifest/model.js';
import { hostManifest, targetsOf } from '../core/manifest/hosts.js';
import type { HostSpec } from '../core/manifest/model.js';
import {
  DEBIAN_SUBID,
  type ImageDescription,
  type MemberDescription,
  type ServerDescription,
  VERSIONS,
  type WorldDescription,
} from './world-file.js';

/** An image of a fresh world: its alias, whether it must carry a daemon, and LXC (its containers hold LXC containers). */
export interface ManifestImage {
  alias: string;
  hostsLxd: boolean;
  hostsLxc?: boolean;
}

/** Image aliases the manifest creates containers from, and what they must carry: a fresh world's images. */
export function manifestImages(manifest: Manifest): ManifestImage[] {
  const seen = new Map<string, ManifestImage>();
  const walk = (specs: Manifest['containers']): void => {
    for (const s of specs) {
      const was = seen.get(s.image);
      const hostsLxc = (was?.hostsLxc ?? false) || s.lxc.length > 0;
      seen.set(s.image, { alias: s.image, hostsLxd: (was?.hostsLxd ?? false) || hostsContainers(s), ...(hostsLxc ? { hostsLxc } : {}) });
      walk(s.containers);
    }
  };
  walk(manifest.containers);
  return [...seen.values()];
}

/** The accounts that run the host's own LXC containers, or null when the manifest has none there. */
export function manifestLxcUsers(manifest: Manifest): string[] | null {
  return manifest.lxc.length === 0 ? null : [...new Set(manifest.lxc.flatMap((l) => (l.user === null ? [] : [l.user])))];
}

/** Where `useradd -m` on Debian 12 puts a new account's range: after Debian's root:100000:10000001, in turn. */
const USERADD_FIRST = 10100001;

/**
 * A fresh Debian host with the daemon of `flavour` up and initialised (Debian's LXD 5.0.2 when
 * null), and one image per alias, carrying that daemon when it hosts containers. `lxcUsers`:
 * LXC installed too, with these accounts, each with the range useradd gives.
 */
export function defaultWorld(images: ManifestImage[], flavour: Flavour | null = null, lxcUsers: string[] | null = null): WorldDescription {
  const f = flavour ?? 'debian';
  const carried = (hostsLxd: boolean): ImageDescription['lxd'] => (hostsLxd ? (f === 'debian' ? true : { flavour: f }) : false);
  const image = (alias: string, i: Omit<ManifestImage, 'alias'>): ImageDescription => ({
    alias,
    lxd: carried(i.hostsLxd),
    systemd: i.hostsLxd,
    ...(i.hostsLxc ? { lxc: true } : {}),
  });
  const seen = new Map<string, Omit<ManifestImage, 'alias'>>();
  const remotes: Record<string, ImageDescription[]> = {};
  for (const i of images) {
    // "remote:alias" is served by that remote (a laptop reviewing a manifest is assumed online).
    const colon = i.alias.indexOf(':');
    if (colon > 0) (remotes[i.alias.slice(0, colon)] ??= []).push(image(i.alias.slice(colon + 1), i));
    else {
      const was = seen.get(i.alias);
      const hostsLxc = (was?.hostsLxc ?? false) || (i.hostsLxc ?? false);
      seen.set(i.alias, { hostsLxd: (was?.hostsLxd ?? false) || i.hostsLxd, ...(hostsLxc ? { hostsLxc } : {}) });
    }
  }
  return {
    remotes,
    host: {
      lxd: {
        flavour: f,
        version: VERSIONS[f],
        daemon: 'up',
        initialised: { pool: 'default', bridge: bridgeName(f), ipv4: '10.66.0.1/24' },
      },
      systemd: true,
      uidmapTools: true,
      ...(f === 'debian' || lxcUsers
        ? {
            subuid: subidWith(f === 'debian' ? DEBIAN_SUBID : '', lxcUsers),
            subgid: subidWith(f === 'debian' ? DEBIAN_SUBID : '', lxcUsers),
          }
        : {}),
      images: [...seen].map(([alias, i]) => image(alias, i)),
      ...(lxcUsers ? { lxc: { users: Object.fromEntries(lxcUsers.map((u) => [u, `/home/${u}`])) } } : {}),
    },
  };
}

const subidWith = (base: string, users: string[] | null): string =>
  base + (users ?? []).map((u, i) => `${u}:${USERADD_FIRST + i * 65536}:65536\n`).join('');

/**
 * A world of fresh machines for the manifest: this machine holds the images the remotes' trees
 * are created from (they reach a remote by relay), a remote only those its client fetches
 * (`remote:alias`, from image servers shared by all).
 */
export function freshHostsWorld(manifest: Manifest): WorldDescription {
  const own = (h: HostSpec) => hostManifest(manifest, h);
  const relayed = manifest.hosts
    .filter((h) => h.place.kind === 'remote')
    .flatMap((h) => manifestImages(own(h)).filter((i) => !i.alias.includes(':')));
  const here = manifest.hosts.find((h) => h.place.kind === 'local');
  const local = here
    ? defaultWorld([...manifestImages(own(here)), ...relayed], here.flavour, manifestLxcUsers(own(here)))
    : defaultWorld(relayed);
  const servers: Record<string, ServerDescription> = {};
  const remotes = { ...local.remotes };
  for (const h of manifest.hosts) {
    if (h.place.kind !== 'remote') continue;
    const d = defaultWorld(
      manifestImages(own(h)).filter((i) => i.alias.includes(':')),
      h.flavour,
      manifestLxcUsers(own(h)),
    );
    for (const [name, images] of Object.entries(d.remotes ?? {}))
      remotes[name] = [...(remotes[name] ?? []), ...images.filter((i) => !(remotes[name] ?? []).some((x) => x.alias === i.alias))];
    servers[h.place.remote] = { ...assumedMembers(own(h)), host: d.host };
  }
  return { host: local.host, ...(Object.keys(remotes).length > 0 ? { remotes } : {}), servers };
}

/**
 * A remote whose root containers name `target:` is assumed a cluster with those members (each
 * handing out the machine's map), and for each `@group` a member GROUP1 in it.
 */
function assumedMembers(m: Manifest): { members?: Record<string, MemberDescription> } {
  const targets = targetsOf(m.containers);
  if (targets.length === 0) return {};
  return { members: Object.fromEntries(targets.map((t) => (t.startsWith('@') ? [`${t.slice(1)}1`, { groups: [t.slice(1)] }] : [t, {}]))) };
}
