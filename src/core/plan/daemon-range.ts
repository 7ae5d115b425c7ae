// The range a level's LXD hands out and, where nestctl sets it, the root entry that gives it,
// with the isolated children's slices placed in it. Part of the level's context: the subid
// edits, the children's maps and the level summary all read this one choice.

import { daemonName, flavourInfo, kernelDefaultRange, nestedOwnNeed } from '../flavour/index.js';
import { snapRefusal, snapVerdict } from './snap-verdict.js';
import type { NodeAllocation } from '../ids/allocate.js';
import type { IdRange } from '../ids/range.js';
import type { ContainerSpec, Flavour, Manifest, SourcePos } from '../manifest/model.js';
import type { ObservedLevel } from '../observed.js';
import { chooseHostEntry, nestedEntry } from './level-entry.js';
import { type Diagnostic, nodeAt } from '../diagnostics.js';
import { childSlices, occupiedSlices, requiredRange } from './slices.js';

export interface RangeRequest {
  manifest: Manifest;
  path: string;
  flavour: Flavour;
  obs: ObservedLevel | null;
  /** Ids the manifest's children need from the level's LXD. */
  daemonNeed: number;
  /** Ids the level's own namespace holds. */
  ownSize: number;
  children: Array<{ spec: ContainerSpec; alloc: NodeAllocation }>;
}

export type RangeChoice =
  | {
      ok: true;
      /** The root entry nestctl sets; null where the flavour ignores /etc/subuid. */
      entry: IdRange | null;
      /** The host's existing entry was large enough and is kept. */
      kept: boolean;
      daemonRange: IdRange;
      slices: Map<string, IdRange>;
      warnings: string[];
    }
  | { ok: false; problem: Diagnostic };

export function chooseDaemonRange(r: RangeRequest): RangeChoice {
  const isHost = r.path === '';
  const owner = r.manifest.host.owner;
  let entry: IdRange | null = null;
  let daemonRange: IdRange = { start: 0, size: 0 };
  let kept = false;
  const warnings: string[] = [];
  // Isolated slices: observed ones stay; new ones go first-fit. They may ask for more than the
  // manifest alone needs (isolated instances the manifest does not name), so choose twice.
  let levelNeed = r.daemonNeed;
  let slices = new Map<string, IdRange>();
  const occupied = occupiedSlices(r.obs?.instances ?? []);
  for (let pass = 0; pass < 2; pass += 1) {
    if (flavourInfo(r.flavour).readsSubid === 'never') {
      daemonRange = kernelDefaultRange(isHost, r.ownSize);
    } else if (isHost) {
      const choice = chooseHostEntry(r.obs!, owner, r.manifest.host.base, levelNeed);
      if (!choice.ok)
        return {
          ok: false,
          problem: {
            severity: 'error',
            fault: 'user',
            where: nodeAt(r.manifest.file, '', r.manifest.hostPos),
            message: choice.message,
            hint: choice.hint,
          },
        };
      entry = choice.entry;
      kept = choice.kept;
      if (pass === 0) warnings.push(...choice.warnings);
      daemonRange = entry;
    } else {
      entry = nestedEntry(levelNeed);
      daemonRange = entry;
    }
    slices = childSlices(r.children, daemonRange.start, occupied);
    const need = Math.max(r.daemonNeed, requiredRange(daemonRange.start, [...slices.values(), ...occupied]));
    if (need <= daemonRange.size || need === levelNeed) break;
    levelNeed = need;
  }
  const required = isHost ? 0 : nestedOwnNeed(r.flavour, levelNeed);
  const kernelDefault = flavourInfo(r.flavour).readsSubid === 'never';
  if (kernelDefault && !isHost && r.ownSize < required) return { ok: false, problem: snapRefusal(r, required) };
  if (daemonRange.size < levelNeed || (!isHost && r.ownSize < required)) {
    return {
      ok: false,
      problem: {
        severity: 'error',
        fault: 'user',
        where: nodeAt(r.manifest.file, r.path, isHost ? r.manifest.hostPos : specPos(r.manifest.containers, r.path)),
        message: isHost
          ? `the host's ${daemonName(r.flavour)} hands out ${daemonRange.size} ids but the tree needs ${levelNeed}`
          : `${r.path} holds ${r.ownSize} ids but it and its children need ${required}`,
        hint: isHost
          ? 'snap LXD derives its range itself; use the Debian package or a smaller tree'
          : `${daemonName(r.flavour)} gives a running container a bigger map only when it is created again: nestctl plan --replace ${r.path} (its filesystem and every container inside it are lost)`,
      },
    };
  }
  if (kernelDefault) warnings.push(snapVerdict(r, daemonRange, slices));
  return { ok: true, entry, kept, daemonRange, slices, warnings };
}

/** The position of the node at `path` in the manifest, when it is there. */
function specPos(specs: Manifest['containers'], path: string): SourcePos | undefined {
  for (const s of specs) {
    if (s.path === path) return s.pos;
    if (path.startsWith(`${s.path}/`)) return specPos(s.containers, path);
  }
  return undefined;
}
