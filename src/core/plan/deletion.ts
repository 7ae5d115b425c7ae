// Whether nestctl may delete an existing container: the one rule destroy and --prune share.
// A container is deleted only when it can be proved to be nestctl's and empty of anything else:
//   (a) it carries user.nestctl.path = its own path (nestctl created it at this place of the tree);
//   (b) its whole inside was seen: it runs, and the probe found no LXD/Incus installed in it, or an
//       LXD that is up and listed its instances;
//   (c) every container inside is, recursively, deletable by the same rule;
//   (d) its classic LXC containers were listed for every owner (root's /var/lib/lxc and each
//       account's ~/.local/share/lxc), and each carries nestctl's marker for its own path
//       (`# nestctl.path = PATH`, core/lxc/paths.ts); one that can hold LXC containers itself (it
//       includes nesting.conf, which nestctl gives only to those) runs and its inside was seen, by
//       the same rule.
// Anything unproven is kept, with the reason and what the user can do.
//
// LXC containers of nestctl's inside go with the container that holds them: its one
// `delete --force` removes their rootfs and config with it, where deleting them first would cost
// an lxc-stop and an lxc-destroy each and show nothing more. The delete step names them.
//
// A stopped container is always kept: its disk may hold containers (nested LXD state, or an image
// published from a container that held some), and nothing short of starting it shows them. Even
// "never started" (no volatile.last_state.power) proves nothing, since the image itself may carry them.
// The one exception is a create nestctl began and LXD never finished (half-made.ts): its disk is
// part of an image being unpacked, nothing ever ran in it, and the image remains.
// Containers of other LXD projects are never nestctl's.

import { clientOf, daemonName } from '../flavour/index.js';
import { parseLxcConfig } from '../lxc/config-file.js';
import { lxcLabel, markedPath, NESTING_CONF } from '../lxc/paths.js';
import type { Flavour } from '../manifest/model.js';
import { MANAGED_PROJECT, type ObservedInstance, type ObservedLevel, type ObservedLxcContainer, type ObservedTree } from '../observed.js';
import { joinPath } from '../paths.js';
import { MARKER_PATH } from './desired-config.js';
import { halfMade } from './half-made.js';

export type KeepReason =
  | { kind: 'not-ours' }
  | { kind: 'stopped'; status: string }
  | { kind: 'unseen'; detail: string }
  /** `daemon`: the flavour of the daemon inside that is down (null: not known). */
  | { kind: 'daemon-down'; daemon: Flavour | null }
  /** Containers inside that must be kept (the deepest culprits). */
  | { kind: 'holds'; kept: string[] };

export type Deletion =
  | {
      verdict: 'delete';
      /** Level the container lives in ("" = host). */
      level: string;
      name: string;
      path: string;
      profiles: string[];
      /** Every container inside it, each deletable too (deleted first). */
      inner: Array<Deletion & { verdict: 'delete' }>;
      /** Its own LXC containers (lxcLabel), nestctl's, which go with it. */
      lxc: string[];
    }
  | {
      verdict: 'keep';
      level: string;
      name: string;
      path: string;
      reason: KeepReason;
      /** The daemon of the level it lives in, whose client deletes it by hand (null or absent: not known). */
      flavour?: Flavour | null;
    };

/**
 * The part of the verdict that the instance alone decides (rules a and the stopped cases), or null
 * when it turns on what the container holds: then its inside must be probed. Pure.
 */
export function verdictFromOutside(levelPath: string, inst: ObservedInstance, flavour: Flavour | null = null): Deletion | null {
  const path = joinPath(levelPath, inst.name);
  if (inst.project !== MANAGED_PROJECT || inst.config[MARKER_PATH] !== path) {
    return { verdict: 'keep', level: levelPath, name: inst.name, path, reason: { kind: 'not-ours' }, flavour };
  }
  if (inst.status === 'Running') return null;
  if (halfMade(inst, path))
    return { verdict: 'delete', level: levelPath, name: inst.name, path, profiles: inst.profiles, inner: [], lxc: [] };
  return { verdict: 'keep', level: levelPath, name: inst.name, path, reason: { kind: 'stopped', status: inst.status }, flavour };
}

/** The verdict on instance `inst` of the level at `levelPath`. Pure. */
export function deletionVerdict(tree: ObservedTree, levelPath: string, inst: ObservedInstance): Deletion {
  const home = tree.levels[levelPath];
  const flavour = home?.kind === 'observed' ? home.level.flavour : null;
  const outside = verdictFromOutside(levelPath, inst, flavour);
  if (outside) return outside;
  const path = joinPath(levelPath, inst.name);
  const keep = (reason: KeepReason): Deletion => ({ verdict: 'keep', level: levelPath, name: inst.name, path, reason, flavour });
  const inside = tree.levels[path];
  if (!inside || inside.kind === 'absent') return keep({ kind: 'unseen', detail: 'its inside was not probed' });
  if (inside.kind === 'unseen') return keep({ kind: 'unseen', detail: inside.reason });
  const level = inside.level;
  if (level.daemon.kind === 'down') return keep({ kind: 'daemon-down', daemon: level.flavour });
  const inner = level.daemon.kind === 'up' ? level.instances.map((i) => deletionVerdict(tree, path, i)) : [];
  const lxc = lxcProof(tree, path, level);
  if (lxc.kind === 'unseen') return keep({ kind: 'unseen', detail: lxc.detail });
  const kept = [...inner.flatMap((d) => (d.verdict === 'delete' ? [] : d.reason.kind === 'holds' ? d.reason.kept : [d.path])), ...lxc.kept];
  if (kept.length > 0) return keep({ kind: 'holds', kept });
  return {
    verdict: 'delete',
    level: levelPath,
    name: inst.name,
    path,
    profiles: inst.profiles,
    inner: inner.filter((d) => d.verdict === 'delete'),
    lxc: lxc.going,
  };
}

/** The LXC containers at a seen level `path` (rule d): those of nestctl's, which go with it, and those that keep it. */
function lxcProof(
  tree: ObservedTree,
  path: string,
  level: ObservedLevel,
): { kind: 'unseen'; detail: string } | { kind: 'seen'; going: string[]; kept: string[] } {
  if (!level.lxc?.everyOwner)
    return { kind: 'unseen', detail: `its LXC containers ${level.lxcUnseen ? `cannot be listed: ${level.lxcUnseen}` : 'were not listed'}` };
  const going: string[] = [];
  const kept: string[] = [];
  for (const owner of Object.keys(level.lxc.owners).sort()) {
    for (const c of level.lxc.owners[owner]!.containers) {
      const v = lxcVerdict(tree, joinPath(path, c.name), owner, c);
      going.push(...v.going);
      kept.push(...v.kept);
    }
  }
  return { kind: 'seen', going, kept };
}

/**
 * What deleting LXC container `c` (of `owner`, at node path `at`) takes along, by rule d: `going`
 * (it and what it holds, all nestctl's) or `kept` (the deepest culprits; itself when it is not
 * nestctl's, or may hold LXC containers and its inside was not seen). Pure.
 */
export function lxcVerdict(tree: ObservedTree, at: string, owner: string, c: ObservedLxcContainer): { going: string[]; kept: string[] } {
  const label = lxcLabel(at, owner);
  if (markedPath(c.config.text) !== at) return { going: [], kept: [label] };
  if (!holdsLxc(c.config.text)) return { going: [label], kept: [] };
  const inside = tree.levels[at];
  const below = c.state === 'RUNNING' && inside?.kind === 'observed' ? lxcProof(tree, at, inside.level) : null;
  if (below?.kind !== 'seen') return { going: [], kept: [label] };
  if (below.kept.length > 0) return { going: [], kept: below.kept };
  return { going: [label, ...below.going], kept: [] };
}

/** Whether an LXC container may run LXC containers itself: nestctl gives it nesting.conf then. */
export const holdsLxc = (config: string): boolean =>
  parseLxcConfig(config).some((l) => l.key === 'lxc.include' && l.value === NESTING_CONF);

/** "c1 is kept: …" and what to do about it, for the plan's warnings. */
export function keptMessage(d: Deletion & { verdict: 'keep' }): string {
  const r = d.reason;
  const command = `${d.flavour ? `${clientOf(d.flavour)} ` : ''}delete --force ${d.name}`;
  const client = d.flavour ? '' : ` with the client of the daemon${d.level ? ` in ${d.level}` : ' on the host'}`;
  const byHand = `delete it by hand (${command}${d.flavour && d.level ? ` inside ${d.level}` : ''}${client}) if you are sure it holds nothing of value`;
  switch (r.kind) {
    case 'not-ours':
      return `${d.path} is kept: it was not created by nestctl here (no ${MARKER_PATH}=${d.path})`;
    case 'stopped':
      return `${d.path} is kept: it is ${r.status.toLowerCase()}, and what it holds cannot be seen without starting it; start it and run nestctl again, or ${byHand}`;
    case 'unseen':
      return `${d.path} is kept: what it holds cannot be looked at (${r.detail}); ${byHand}`;
    case 'daemon-down':
      return `${d.path} is kept: the ${insideDaemon(r.daemon)} inside it is not running, so its containers cannot be listed; start that ${insideDaemon(r.daemon)} and run nestctl again, or ${byHand}`;
    case 'holds':
      return `${d.path} is kept: it holds containers nestctl did not create or cannot prove empty (${r.kept.join(', ')})`;
  }
}

/**
 * Why apply refuses a planned delete at the moment it would run: the live container no longer
 * passes the rule (something appeared inside it, it stopped, ...). The plan's keptMessage, told
 * as what changed.
 */
export function refusedDeleteMessage(d: Deletion & { verdict: 'keep' }): string {
  const r = d.reason;
  const what = ((): string => {
    switch (r.kind) {
      case 'not-ours':
        return `${d.path} is not marked as created by nestctl (no ${MARKER_PATH}=${d.path})`;
      case 'stopped':
        return `${d.path} is now ${r.status.toLowerCase()}, and what it holds cannot be seen without starting it`;
      case 'unseen':
        return `what ${d.path} holds can no longer be looked at (${r.detail})`;
      case 'daemon-down':
        return `the ${insideDaemon(r.daemon)} inside ${d.path} is no longer running, so its containers cannot be listed`;
      case 'holds':
        return `${d.path} now holds ${r.kept.join(', ')}, which nestctl did not plan to delete`;
    }
  })();
  return `${what}; nothing was deleted`;
}

/** The daemon inside a container, by name when its flavour is known. */
const insideDaemon = (flavour: Flavour | null): string => (flavour ? daemonName(flavour) : 'daemon');
