// `moved:` entries (Terraform's moved blocks): a container renamed in the manifest is renamed in
// LXD, not deleted with everything inside it and created again. What an entry must be, checked on
// the plain data like the other semantic checks: both paths beside each other (a move to another
// parent is not supported yet), `to` an LXD container of the manifest (or renamed on by a later
// entry: a chain a → b, b → c is planned in order), `from` no longer one, no entry twice, no
// circle. core/plan/moves.ts plans them.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { parentPath } from '../paths.js';
import { isLxcNode } from './lxc-checks.js';
import { type Path, type Source, valuePos } from './source.js';
import { dataAt, isRecord } from './words.js';

interface Entry {
  i: number;
  from: string;
  to: string;
}

/** The manifest's container paths, LXD's and classic LXC's apart, read from the plain data. */
function manifestPaths(data: unknown): { lxd: Set<string>; lxc: Set<string> } {
  const lxd = new Set<string>();
  const lxc = new Set<string>();
  const walk = (list: unknown, parent: string): void => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      if (!isRecord(item) || typeof item['name'] !== 'string') continue;
      const path = parent ? `${parent}/${item['name']}` : item['name'];
      (isLxcNode(item) ? lxc : lxd).add(path);
      walk(item['containers'], path);
    }
  };
  walk(dataAt(data, ['containers']), '');
  return { lxd, lxc };
}

const under = (path: string, ancestor: string): boolean => path === ancestor || path.startsWith(`${ancestor}/`);
const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const parentWords = (path: string): string => (parentPath(path) === '' ? 'the host' : parentPath(path));

export function movedFindings(data: unknown, src: Source): Diagnostic[] {
  const list = dataAt(data, ['moved']);
  if (!Array.isArray(list)) return [];
  // The schema reports entries that are not two paths; only the well-formed ones are checked here.
  const entries: Entry[] = list.flatMap((m: unknown, i) =>
    isRecord(m) && typeof m['from'] === 'string' && typeof m['to'] === 'string' ? [{ i, from: m['from'], to: m['to'] }] : [],
  );
  const paths = manifestPaths(data);
  const found: Diagnostic[] = [];
  const at = (e: Entry, key: 'from' | 'to'): Path => ['moved', e.i, key];
  const error = (path: Path, message: string, hint: string): void => {
    found.push({ severity: 'error', fault: 'user', where: sourceAt(src.file, valuePos(src, path)), message, hint });
  };
  const line = (e: Entry): number => valuePos(src, ['moved', e.i]).line;
  const fromOf = new Map<string, Entry>();
  const toOf = new Map<string, Entry>();
  for (const e of entries) {
    const name = `moved[${e.i}]`;
    if (e.from === e.to) {
      error(at(e, 'to'), `${name} renames ${e.from} to itself`, 'drop the entry, or write the new path as to');
      continue;
    }
    if (parentPath(e.from) !== parentPath(e.to)) {
      error(
        at(e, 'to'),
        `${name} moves ${e.from} from ${parentWords(e.from)} into ${parentWords(e.to)}: moves across parents are not supported yet (only a rename beside where it is)`,
        `rename it where it is (to: ${joinBeside(e.from, baseName(e.to))}); to have it in ${parentWords(e.to)}, drop this entry: nestctl then creates ${e.to} anew, and apply --prune deletes ${e.from} with everything inside it (copy out what you need first)`,
      );
      continue;
    }
    const twiceFrom = fromOf.get(e.from);
    if (twiceFrom) {
      error(
        at(e, 'from'),
        `${e.from} is renamed twice: to ${twiceFrom.to} (line ${line(twiceFrom)}) and to ${e.to}`,
        'a container has one new name: keep one of the entries',
      );
      continue;
    }
    const twiceTo = toOf.get(e.to);
    if (twiceTo) {
      error(
        at(e, 'to'),
        `${e.to} is the new name of both ${twiceTo.from} (line ${line(twiceTo)}) and ${e.from}`,
        `only one container can become ${e.to}: keep one of the entries`,
      );
      continue;
    }
    fromOf.set(e.from, e);
    toOf.set(e.to, e);
  }
  for (const e of [...fromOf.values()].sort((a, b) => a.i - b.i)) {
    const name = `moved[${e.i}]`;
    const circle = circleFrom(e, fromOf);
    if (circle) {
      // Reported once, at the entry of the circle that comes first.
      if (Math.min(...circle.map((c) => c.i)) === e.i)
        error(
          at(e, 'from'),
          `moved entries rename in a circle: ${[...circle.map((c) => c.from), e.from].join(' → ')}`,
          'drop the entries that undo each other (a rename and its reverse leave the container where it is)',
        );
      continue;
    }
    // Paths are as they are after the entries before it: the inside of a renamed container is named under its new name.
    const renamedAbove = [...fromOf.values()].find((o) => o !== e && under(parentPath(e.from), o.from));
    if (renamedAbove) {
      const later = `${renamedAbove.to}${e.from.slice(renamedAbove.from.length)}`;
      error(
        at(e, 'from'),
        `${name}: ${e.from} is inside ${renamedAbove.from}, which moved[${renamedAbove.i}] renames to ${renamedAbove.to}`,
        `name it as it is once ${renamedAbove.from} is renamed: from: ${later}, to: ${joinBeside(later, baseName(e.to))}`,
      );
      continue;
    }
    if (paths.lxd.has(e.from) || paths.lxc.has(e.from)) {
      error(
        at(e, 'from'),
        `${name}: ${e.from} is still a container of the manifest; a renamed container is only at its new path (${e.to})`,
        `remove ${e.from} from the manifest, or drop this entry to keep both`,
      );
      continue;
    }
    // A chain (a → b, then b → c): only where it ends must be in the manifest.
    if (fromOf.has(e.to)) continue;
    if (paths.lxc.has(e.to)) {
      error(
        at(e, 'to'),
        `${name}: ${e.to} is a classic LXC container; nestctl renames only LXD containers`,
        `drop the entry: nestctl then creates ${e.to} anew`,
      );
    } else if (!paths.lxd.has(e.to)) {
      error(
        at(e, 'to'),
        `${name}: ${e.to} is not a container of the manifest`,
        `to is the container's new path, as the manifest has it (e.g. ${[...paths.lxd].find((p) => parentPath(p) === parentPath(e.to)) ?? [...paths.lxd][0] ?? 'c1'}): correct it, or add ${e.to} to the manifest`,
      );
    }
  }
  return found;
}

const joinBeside = (path: string, name: string): string => (parentPath(path) === '' ? name : `${parentPath(path)}/${name}`);

/** The entries from `e` on that come back to it (a → b, b → a), or null. */
function circleFrom(e: Entry, fromOf: ReadonlyMap<string, Entry>): Entry[] | null {
  const seen: Entry[] = [e];
  for (let next = fromOf.get(e.to); next; next = fromOf.get(next.to)) {
    if (next === e) return seen;
    if (seen.includes(next)) return null; // a circle further on, reported at its own entries
    seen.push(next);
  }
  return null;
}
