// The observed tree → what a manifest of it holds (model.ts), with a note on everything it
// cannot say and why. Pure: the engine's discovery (engine/discover.ts) did the looking.

import { BugError } from '../errors.js';
import { assumedInside, bridgeName } from '../flavour/index.js';
import { lxcValue } from '../lxc/config-file.js';
import { LXC_NET_BRIDGE, markedPath } from '../lxc/paths.js';
import type { Flavour } from '../manifest/model.js';
import {
  MANAGED_PROJECT,
  managedInstance,
  type ObservedImage,
  type ObservedInstance,
  type ObservedLevel,
  type ObservedTree,
  instanceLabel,
} from '../observed.js';
import { joinPath, levelLabel } from '../paths.js';
import { MARKER_MANAGED, MARKER_PATH, MARKER_SETUP } from '../plan/desired-config.js';
import { importConfig } from './config.js';
import { DOCKREMAP } from '../manifest/docker.js';
import { firstUsable } from '../subid/file.js';
import type { ImportedHost, ImportedLxc, ImportedLxd, ImportedNode, ImportedProfile } from './model.js';

const DEFAULT_PROFILE = 'default';

export function importTree(tree: ObservedTree, name = 'local', remote: ImportedHost['remote'] = null): ImportedHost {
  const root = tree.levels[''];
  if (root?.kind !== 'observed') throw new BugError('import: the host was not observed');
  const host = root.level;
  const notes: string[] = [];
  if (host.flavour === null && (host.installed?.length ?? 0) > 1)
    notes.push(`both ${host.installed!.join(' and ')} are installed here and none was chosen; write host.flavour`);
  const { profiles, notes: profileNotes } = levelProfiles(host);
  const { nodes, notes: childNotes } = levelChildren(tree, host, host.images);
  return {
    name,
    remote,
    flavour: host.flavour,
    notes: [...notes, ...profileNotes],
    profiles,
    containers: nodes,
    containerNotes: childNotes,
  };
}

/** The profiles nestctl keeps at a level: those it created (user.nestctl.managed=true). */
function levelProfiles(level: ObservedLevel): { profiles: ImportedProfile[]; notes: string[] } {
  const profiles: ImportedProfile[] = [];
  const notes: string[] = [];
  for (const p of level.profiles) {
    if (p.name === DEFAULT_PROFILE) continue;
    if (p.config[MARKER_MANAGED] !== 'true') {
      notes.push(
        `profile ${p.name} of ${levelLabel(level.path)} was not created by nestctl, which keeps only the profiles it made; it is left alone (containers may still attach it)`,
      );
      continue;
    }
    const config = Object.fromEntries(Object.entries(p.config).filter(([k]) => k !== MARKER_MANAGED));
    profiles.push({ name: p.name, description: p.description, config, devices: p.devices });
  }
  return { profiles, notes };
}

/** The level's containers (LXD's, then classic LXC's), and notes on those left out. */
function levelChildren(tree: ObservedTree, level: ObservedLevel, hostImages: ObservedImage[]): { nodes: ImportedNode[]; notes: string[] } {
  const notes: string[] = [];
  const nodes: ImportedLxd[] = [];
  for (const inst of level.instances) {
    if (inst.project !== MANAGED_PROJECT) {
      notes.push(`${instanceLabel(inst)} in ${levelLabel(level.path)}: nestctl manages only the default project's containers; left out`);
      continue;
    }
    const node = lxdNode(tree, level, inst, hostImages);
    if (node.kind === 'left-out') notes.push(node.why);
    else nodes.push(node);
  }
  const lxc = lxcChildren(tree, level);
  return { nodes: [...slicesInOrder(nodes, level), ...lxc.nodes], notes: [...notes, ...lxc.notes] };
}

/**
 * The allocator places isolated slices in manifest order: isolated siblings are written in the
 * order of their slices (volatile.idmap.base), each in the place of one, so it places them where they are.
 */
function slicesInOrder(nodes: ImportedLxd[], level: ObservedLevel): ImportedLxd[] {
  const base = (n: ImportedLxd): number => Number(managedInstance(level, n.name)?.config['volatile.idmap.base'] ?? Number.NaN);
  const isolated = nodes.filter((n) => n.idmap !== null);
  const sorted = [...isolated].sort((a, b) => (Number.isNaN(base(a)) || Number.isNaN(base(b)) ? 0 : base(a) - base(b)));
  let next = 0;
  return nodes.map((n) => (n.idmap === null ? n : sorted[next++]!));
}

type NodeOrWhy = ImportedLxd | { kind: 'left-out'; why: string };

function lxdNode(tree: ObservedTree, level: ObservedLevel, inst: ObservedInstance, hostImages: ObservedImage[]): NodeOrWhy {
  const path = joinPath(level.path, inst.name);
  const notes: string[] = [];
  const image = imageOf(level, inst, hostImages, notes);
  if (image === null)
    return { kind: 'left-out', why: `${path}: its image is not known (no volatile.base_image); left out, nestctl leaves it alone` };
  const seen = tree.levels[path];
  const inside = seen?.kind === 'observed' ? seen.level : null;
  if (seen && seen.kind !== 'observed') notes.push(`what runs inside it was not looked at: ${seen.reason}`);
  else if (inside && inside.daemon.kind !== 'up' && inside.flavour !== null)
    notes.push(`its ${inside.flavour} daemon is ${inside.daemon.kind}, so what it holds could not be listed`);
  const below = inside && inside.daemon.kind === 'up' ? levelChildren(tree, inside, hostImages) : { nodes: [], notes: [] };
  const lxcBelow = inside && inside.daemon.kind !== 'up' ? lxcChildren(tree, inside) : { nodes: [], notes: [] };
  const containers = [...below.nodes, ...lxcBelow.nodes];
  const config = importConfig(inst.config, containers.length > 0);
  if (config.refused) return { kind: 'left-out', why: `${path}: ${config.refused}; left out, nestctl leaves it alone` };
  notes.push(...config.notes);
  if (inst.config[MARKER_SETUP] !== undefined)
    notes.push(
      'setup commands ran here (user.nestctl.setup holds only their hash, not the commands); write the same setup: list to keep it so',
    );
  if (inst.status !== 'Running') notes.push(`it is ${inst.status.toLowerCase()}; nestctl keeps its containers running, so apply starts it`);
  const insideProfiles = inside && containers.length > 0 ? levelProfiles(inside) : { profiles: [], notes: [] };
  const flavour = flavourToName(level.flavour, inside?.flavour ?? null, containers.length > 0);
  return {
    kind: 'lxd',
    name: inst.name,
    path,
    image,
    profiles: inst.profiles.length === 1 && inst.profiles[0] === DEFAULT_PROFILE ? null : inst.profiles,
    config: config.config,
    idmap: config.idmap,
    docker: config.docker,
    dockerRemap: config.docker && inside ? dockremapSize(inside) : null,
    flavour,
    target: level.path === '' && level.cluster && inst.location ? inst.location : null,
    adopt: inst.config[MARKER_MANAGED] !== 'true' || inst.config[MARKER_PATH] !== path,
    insideProfiles: insideProfiles.profiles,
    containers,
    notes: [...notes, ...insideProfiles.notes],
    containerNotes: [...below.notes, ...lxcBelow.notes],
  };
}

/**
 * The image's name as the plan resolves it: an alias in the host's store (every image comes
 * down from there), else its fingerprint there; an image only the container's own level holds
 * is named by that level's alias, with a note (the plan then asks for it at the host).
 */
function imageOf(level: ObservedLevel, inst: ObservedInstance, hostImages: ObservedImage[], notes: string[]): string | null {
  const fp = inst.config['volatile.base_image'];
  if (fp === undefined || fp === '') return null;
  const atHost = hostImages.find((i) => i.fingerprint === fp);
  if (atHost) {
    if (atHost.aliases[0] !== undefined) return atHost.aliases[0];
    notes.push(`its image has no alias in the host's store; its fingerprint is written`);
    return fp;
  }
  const here = level.images.find((i) => i.fingerprint === fp);
  const alias = here?.aliases[0];
  notes.push(
    `its image ${alias ?? fp.slice(0, 12)} is not in the host's store, where nestctl takes every image from; the plan asks for it there (lxc image copy it to the host)`,
  );
  return alias ?? fp;
}

/** `flavour:` only where the daemon inside is not the one the planner assumes there. */
function flavourToName(parent: Flavour | null, inside: Flavour | null, holds: boolean): Flavour | null {
  if (!holds || inside === null) return null;
  return parent !== null && assumedInside(parent) === inside ? null : inside;
}

/** Classic LXC containers at a level: only those nestctl made (there is no adopting one). */
function lxcChildren(tree: ObservedTree, level: ObservedLevel): { nodes: ImportedLxc[]; notes: string[] } {
  const nodes: ImportedLxc[] = [];
  const notes: string[] = [];
  if (level.lxcUnseen) notes.push(`classic LXC in ${levelLabel(level.path)} could not be read: ${level.lxcUnseen}`);
  const owners = Object.entries(level.lxc?.owners ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [owner, facts] of owners) {
    for (const c of facts.containers) {
      const path = joinPath(level.path, c.name);
      const marked = markedPath(c.config.text);
      if (marked !== path) {
        notes.push(
          marked === null
            ? `LXC container ${path} of ${owner} was not created by nestctl, which manages only the LXC containers it creates (there is no adopt for them); left out`
            : `LXC container ${path} of ${owner} carries nestctl's marker for ${marked}, not ${path}; left out`,
        );
        continue;
      }
      const link = lxcValue(c.config.text, 'lxc.net.0.link');
      const own: string[] = ["its config's keys are not imported (nestctl cannot tell its template's from yours)"];
      const seen = tree.levels[path];
      const inside = seen?.kind === 'observed' ? lxcChildren(tree, seen.level) : { nodes: [], notes: [] };
      if (seen && seen.kind !== 'observed') own.push(`what runs inside it was not looked at: ${seen.reason}`);
      if (c.state !== 'RUNNING') own.push(`it is ${c.state.toLowerCase()}; apply starts it`);
      nodes.push({
        kind: 'lxc',
        name: c.name,
        user: owner === 'root' ? null : owner,
        bridge: link !== null && link !== (level.flavour === null ? LXC_NET_BRIDGE : bridgeName(level.flavour)) ? link : null,
        containers: inside.nodes,
        // The validator wants a template with LXC in it for a container that holds some; which one
        // made it is not recorded, and nestctl uses it only to create the container again.
        template: inside.nodes.length > 0 ? 'download' : null,
        notes: [
          ...own,
          ...(inside.nodes.length > 0
            ? ['the template it was made from is not recorded; download is written, used only if nestctl creates it again']
            : []),
          ...inside.notes,
        ],
      });
    }
  }
  return { nodes, notes };
}

/** The size of Docker's dockremap range inside a container, when its subid files give it one (the same in both). */
function dockremapSize(inside: ObservedLevel): number | null {
  const uid = firstUsable(inside.subuid.text, DOCKREMAP);
  const gid = firstUsable(inside.subgid.text, DOCKREMAP);
  return uid && gid && uid.start === gid.start && uid.size === gid.size ? uid.size : null;
}
