// `copy_of:` on a container: what an entry must be, checked on the plain data like the other
// semantic checks. It names an LXD sibling listed above it (copies are made in the order of the
// list, so a chain base → web → mysite is planned in order), on the same host, and the copy says
// no image of its own (it is its source's). core/manifest/build.ts gives the copy what it takes
// from its source; core/plan/concerns/children/copy.ts plans the copy.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { isLxcNode } from './lxc-checks.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';
import { dataAt, isRecord } from './words.js';

/** `hostOf`: the host a root item lives on (undefined when nested: siblings share their parent's). */
export function copyFindings(data: unknown, src: Source, listPath: Path, hostOf?: (item: Record<string, unknown>) => string): Diagnostic[] {
  const list = dataAt(data, listPath);
  if (!Array.isArray(list)) return [];
  const found: Diagnostic[] = [];
  list.forEach((item: unknown, i) => {
    if (!isRecord(item) || isLxcNode(item)) return;
    const source = item['copy_of'];
    if (typeof source !== 'string' || source === '') return;
    const at: Path = [...listPath, i];
    const error = (path: Path, message: string, hint: string): void => {
      found.push({ severity: 'error', fault: 'user', where: sourceAt(src.file, valuePos(src, path)), message, hint });
    };
    const name = typeof item['name'] === 'string' ? item['name'] : `#${i + 1}`;
    const j = list.findIndex((s: unknown) => isRecord(s) && !isLxcNode(s) && s['name'] === source);
    if (j < 0 || j >= i) {
      const what =
        source === name
          ? `${name} is a copy of itself`
          : j > i
            ? `${name} is a copy of ${source}, which is listed after it`
            : `${name} is a copy of ${source}, which is not an LXD container beside it`;
      error(
        [...at, 'copy_of'],
        what,
        'copy_of names an LXD container of the same list, above the copy (copies are made in the order of the list)',
      );
      return;
    }
    const sourceItem = list[j] as Record<string, unknown>;
    if (hostOf && hostOf(item) !== hostOf(sourceItem))
      error(
        [...at, 'copy_of'],
        `${name} is a copy of ${source}, which lives on another host`,
        "a copy is made on its source's daemon: give both the same host",
      );
    if (item['image'] !== undefined)
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, keyPos(src, [...at, 'image'])),
        message: `${name} is a copy of ${source} and names an image too`,
        hint: `a copy's image is its source's: drop image, or drop copy_of to create ${name} from the image`,
      });
  });
  return found;
}
