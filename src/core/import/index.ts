// `nestctl import`: the observed tree → a manifest that describes it, which `plan` then finds
// in place (nothing to change but nestctl's markers on what it adopts). What no manifest can
// say is written as a `# not expressible: …` comment where it belongs, with why.

import type { Diagnostic } from '../diagnostics.js';
import { EnvironmentError, NestctlError } from '../errors.js';
import type { Allocation } from '../ids/allocate.js';
import { BLOCK } from '../ids/range.js';
import { checkManifest } from '../manifest/check.js';
import type { ObservedTree } from '../observed.js';
import { firstUsable } from '../subid/file.js';
import type { ImportedHost, ImportedNode } from './model.js';
export type { ImportedHost } from './model.js';
import { renderImport } from './render.js';
import { importTree } from './tree.js';

export { NOTE_PREFIX } from './render.js';

export interface ImportResult {
  /** The manifest, ready to write. */
  text: string;
  /** How many `# not expressible:` notes it carries. */
  notes: number;
}

const HEADER = (source: string): string =>
  [
    ` Written by nestctl import from ${source}.`,
    ' Containers nestctl did not create say adopt: true; `nestctl plan` on this file changes nothing',
    ' but nestctl\'s markers on them. Comments starting "not expressible:" say what a manifest cannot hold.',
  ].join('\n');

/** One host's observation: this machine ("local"), or a remote of the client's configuration. */
export interface ObservedHost {
  name: string;
  remote: ImportedHost['remote'];
  tree: ObservedTree;
}

/** `source`: what was observed, for the header ("this machine", "a simulated world"). */
export function importManifest(tree: ObservedTree, source: string, file = '(imported manifest)'): ImportResult {
  return importHosts([{ name: 'local', remote: null, tree }], source, file);
}

/** Several hosts: a `hosts:` manifest (or `host:` for this machine alone); hosts with nothing to describe are left out. */
export function importHosts(observed: ObservedHost[], source: string, file = '(imported manifest)'): ImportResult {
  const all = observed.map((o) => ({ o, host: importTree(o.tree, o.name, o.remote) }));
  const found = all.filter((h) => h.host.containers.length > 0);
  if (found.length === 0) {
    const why = all.flatMap((h) => h.host.containerNotes);
    throw new NestctlError(
      'user',
      `nothing to import: no container on ${source} can be described by a manifest${why.length > 0 ? ` (${why.join('; ')})` : ''}`,
      'a manifest needs at least one container; launch one, or write the manifest by hand (nestctl init)',
    );
  }
  const first = checked(
    found.map((h) => h.host),
    file,
  );
  const hosts = found.map(({ o, host }) => {
    const based = o.remote === null ? chooseBase(o.tree, host, first.allocation.hostNeeds[host.name] ?? 0) : host;
    return { ...based, containers: nestedRangeNotes(o.tree, based.containers, first.allocation, found.length === 1) };
  });
  const text = renderImport(hosts, HEADER(source));
  const check = checkManifest(text, file);
  if (!check.ok) throw notValid(check.diagnostics);
  return { text, notes: (text.match(/# not expressible: /g) ?? []).length };
}

function checked(hosts: ImportedHost[], file: string): { allocation: Allocation } {
  const check = checkManifest(renderImport(hosts, ''), file);
  if (!check.ok) throw notValid(check.diagnostics);
  return { allocation: check.allocation };
}

const notValid = (diagnostics: Diagnostic[]): EnvironmentError =>
  new EnvironmentError(
    `the tree found cannot be written as a manifest nestctl accepts: ${diagnostics.map((d) => d.message).join('; ')}`,
    'change what the message names by hand, then import again',
  );

/**
 * host.base is written when it keeps the live root entry exactly (the tree needs all of it);
 * otherwise it is left out, and the plan keeps a large-enough entry as it is.
 */
function chooseBase(tree: ObservedTree, host: ImportedHost, need: number): ImportedHost {
  const seen = tree.levels[''];
  if (seen?.kind !== 'observed') return host;
  const uid = firstUsable(seen.level.subuid.text, 'root');
  const gid = firstUsable(seen.level.subgid.text, 'root');
  if (seen.level.flavour === 'snap') return host;
  if (!uid || !gid) return { ...host, notes: [...host.notes, 'root has no entry in /etc/subuid and /etc/subgid; the plan writes one'] };
  if (uid.start !== gid.start || uid.size !== gid.size)
    return {
      ...host,
      notes: [
        ...host.notes,
        `root's entries differ (subuid ${uid.start}:${uid.size}, subgid ${gid.start}:${gid.size}); the plan writes one range for both`,
      ],
    };
  if (uid.size === need) return { ...host, base: uid.start };
  const note =
    uid.size > need
      ? `host.base is left out: the live root:${uid.start}:${uid.size} is larger than the tree needs (${need} ids); with base: ${uid.start} the plan would shrink it, without base it keeps it`
      : `the live root:${uid.start}:${uid.size} is smaller than the tree needs (${need} ids); the plan writes a larger entry`;
  return { ...host, notes: [...host.notes, note] };
}

/**
 * A nested level's range is derived from the tree (root:65536:NEED), not written in a manifest:
 * where the live entry differs, the plan rewrites it, and the container says so.
 */
function nestedRangeNotes(tree: ObservedTree, nodes: ImportedNode[], allocation: Allocation, oneHost: boolean): ImportedNode[] {
  return nodes.map((n) => {
    if (n.kind !== 'lxd' || n.containers.length === 0) return n;
    const containers = nestedRangeNotes(tree, n.containers, allocation, oneHost);
    const seen = tree.levels[n.path];
    // byPath is by path alone, unique only within one host.
    const node = oneHost ? allocation.byPath[n.path] : undefined;
    if (seen?.kind !== 'observed' || !node || seen.level.flavour === 'snap') return { ...n, containers };
    const uid = firstUsable(seen.level.subuid.text, 'root');
    const want = `root:${BLOCK}:${node.daemonNeed}`;
    const live = uid ? `root:${uid.start}:${uid.size}` : 'no root entry';
    if (live === want || node.daemonNeed === 0) return { ...n, containers };
    return {
      ...n,
      containers,
      notes: [
        ...n.notes,
        `its LXD's range (${live}) is derived from the tree, not written in a manifest: the plan writes ${want} and restarts its daemon`,
      ],
    };
  });
}
