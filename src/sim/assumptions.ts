// What a simulation cannot know from the manifest and takes on trust: which images the host's
// store holds and which carry LXD. A fresh simulated host assumes the manifest is right and says
// so; a described world (--world, --state) can say otherwise, and then the plan is refused here,
// before a simulated apply would fail half-way inside a container that has no LXD.

import { type Flavour, assumedInside, clientOf, daemonName } from '../core/flavour/index.js';
import { type ContainerSpec, type LxcSpec, type Manifest, hostsContainers } from '../core/manifest/model.js';
import { manifestLxcUsers } from './default-world.js';
import { type Diagnostic, nodeAt } from '../core/diagnostics.js';
import { findImage } from './instances.js';
import type { World } from './state.js';
import { selectDaemon } from './world.js';
import { targetsOf } from '../core/manifest/hosts.js';

function specs(manifest: Manifest): ContainerSpec[] {
  const out: ContainerSpec[] = [];
  const walk = (list: ContainerSpec[]): void =>
    list.forEach((s) => {
      out.push(s);
      walk(s.containers);
    });
  walk(manifest.containers);
  return out;
}

/** The daemon each container runs inside: its own flavour, else its parent level's kind (as the planner assumes). */
function insideDaemons(manifest: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (list: ContainerSpec[], parent: Flavour): void =>
    list.forEach((s) => {
      const f = s.flavour ?? assumedInside(parent);
      out.set(s.path, daemonName(f));
      walk(s.containers, f);
    });
  walk(manifest.containers, manifest.host.flavour ?? 'debian');
  return out;
}

/** Some LXC container of the manifest holds LXC containers (LXC inside LXC). */
function holdsLxc(manifest: Manifest): boolean {
  const inside = (l: LxcSpec): boolean => l.containers.length > 0;
  return manifest.lxc.some(inside) || specs(manifest).some((s) => s.lxc.some(inside));
}

/** The lines a plan against a fresh simulated host starts with. */
/** The last line of assumedByDefault's answer. */
export const WORLD_FILE_NOTE = 'A world file (--world) can say otherwise.';

/** On a remote host (`manifest.host`), the images that are not `remote:alias` are this machine's, relayed to it. */
export function assumedByDefault(manifest: Manifest): string[] {
  const all = specs(manifest);
  const images = [...new Set(all.map((s) => s.image))];
  const hosting = all.filter(hostsContainers);
  const users = manifestLxcUsers(manifest);
  const lxc = [
    ...(users === null
      ? []
      : [
          `Assumed: LXC is installed on the host${users.length > 0 ? `, with the account${users.length === 1 ? '' : 's'} ${users.join(', ')} (useradd -m gives each a subuid/subgid range)` : ''}.`,
        ]),
    ...(holdsLxc(manifest)
      ? ['Assumed: LXC containers made with the local or download template have LXC and uidmap inside (busybox ones have not).']
      : []),
  ];
  if (images.length === 0) return lxc.length > 0 ? [...lxc, 'A world file (--world) can say otherwise.'] : [];
  const relayed = manifest.host.place.kind === 'remote' ? images.filter((i) => !i.includes(':')) : [];
  const held = images.filter((i) => !relayed.includes(i));
  const lines = [
    ...(held.length > 0
      ? [
          `Assumed: the host's image store has ${held.join(', ')}${held.some((i) => i.includes(':')) ? ' (remote images: their remote is reachable)' : ''}.`,
        ]
      : []),
    ...(relayed.length > 0 ? [`Assumed: this machine's image store has ${relayed.join(', ')} (copied to the remote by relay).`] : []),
    ...clusterAssumed(manifest),
    ...lxc,
  ];
  const daemonOf = insideDaemons(manifest);
  for (const image of new Set(hosting.map((s) => s.image))) {
    const users = hosting.filter((s) => s.image === image);
    const daemons = [...new Set(users.map((s) => daemonOf.get(s.path)!))].join(' or ');
    const paths = users.map((s) => s.path);
    const lxc = users.some((s) => s.lxc.length > 0) ? ' and LXC' : '';
    lines.push(`Assumed: ${image} carries ${daemons}${lxc} (${paths.join(', ')} ${paths.length === 1 ? 'holds' : 'hold'} containers).`);
  }
  lines.push(WORLD_FILE_NOTE);
  return lines;
}

/** A remote whose root containers name `target:` is taken as a cluster holding those members (and groups) (hosts.ts, assumedMembers). */
function clusterAssumed(manifest: Manifest): string[] {
  const targets = targetsOf(manifest.containers);
  return targets.length > 0
    ? [
        `Assumed: the remote is a cluster with ${targets.map((t) => (t.startsWith('@') ? `a member in group ${t.slice(1)}` : `member ${t}`)).join(', ')}, each handing out the server's map.`,
      ]
    : [];
}

/** The image's fingerprint where the manifest's reference would find it: the host's store, or a remote. */
function resolve(world: World, ref: string): string | null {
  const colon = ref.indexOf(':');
  if (colon > 0) {
    const alias = ref.slice(colon + 1);
    return (
      world.remotes[ref.slice(0, colon)]?.find((e) => e.aliases.includes(alias) || e.fingerprint.startsWith(alias))?.fingerprint ?? null
    );
  }
  return world.host.lxd ? findImage(world.host.lxd, ref) : null;
}

/**
 * Containers with children whose image, as the world describes it, carries no LXD, or no LXC
 * for LXC children. (An image missing from the store is the planner's own refusal, the same on
 * a real host.)
 */
export function imageProblems(world: World, manifest: Manifest): Diagnostic[] {
  if (manifest.host.flavour) selectDaemon(world.host, manifest.host.flavour);
  const problems: Diagnostic[] = [];
  for (const spec of specs(manifest)) {
    if (!hostsContainers(spec)) continue;
    const fingerprint = resolve(world, spec.image);
    if (fingerprint === null) continue;
    const def = world.catalog[fingerprint];
    if (def?.lxd && spec.lxc.length > 0 && !def.lxc) {
      problems.push({
        severity: 'error',
        fault: 'user',
        where: nodeAt(manifest.file, spec.path, spec.pos),
        message: `image "${spec.image}" (used by ${spec.path}) has no LXC in the simulated world, but ${spec.path} holds LXC containers`,
        hint: `name an image with Debian's lxc package for ${spec.path}, or, if this one has it, say so in the world: lxc: true`,
      });
    }
    if (def?.lxd) continue;
    problems.push({
      severity: 'error',
      fault: 'user',
      where: nodeAt(manifest.file, spec.path, spec.pos),
      message: `image "${spec.image}" (used by ${spec.path}) carries no LXD or Incus in the simulated world, but ${spec.path} holds containers`,
      hint: `name an image with LXD inside for ${spec.path} (${clientOf(world.host.lxd?.flavour ?? null)} image list), or, if this one has it, say so in the world: lxd: true`,
    });
  }
  return problems;
}
