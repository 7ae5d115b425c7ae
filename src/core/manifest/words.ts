// Plain words for places in the manifest and for values, shared by the schema and semantic checks:
// `"idmap.size" in container c1/c2` reads better than `/containers/0/containers/1/idmap/size`.

import type { Path } from './source.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function dataAt(data: unknown, path: Path): unknown {
  let here = data;
  for (const seg of path) {
    if (Array.isArray(here)) here = here[Number(seg)];
    else if (isRecord(here)) here = here[String(seg)];
    else return undefined;
  }
  return here;
}

/** Length of the leading run of `containers, N` pairs: the innermost container on the path. */
function containerDepth(path: Path): number {
  let end = 0;
  while (path[end] === 'containers' && path.length > end + 1 && /^\d+$/.test(String(path[end + 1]))) end += 2;
  return end;
}

/** "c1/c2" for the container at path; unnamed containers show as "#N" (1-based). */
export function containerLabel(data: unknown, path: Path): string {
  const labels: string[] = [];
  for (let i = 0; i + 1 < path.length && path[i] === 'containers'; i += 2) {
    const item = dataAt(data, path.slice(0, i + 2));
    const name = isRecord(item) ? item['name'] : undefined;
    labels.push(typeof name === 'string' && name !== '' ? name : `#${Number(path[i + 1]) + 1}`);
  }
  return labels.join('/');
}

function dotted(path: Path): string {
  return path.map((seg, i) => (typeof seg === 'number' || /^\d+$/.test(seg) ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

/**
 * What the value at path is, for a message: `container c1`, `"idmap.size" in container c1`,
 * `config key "limits.cpu" in container c1`, `"host.base"`, `"apiVersion"`, `the manifest`.
 */
export function subject(data: unknown, path: Path): string {
  const depth = containerDepth(path);
  const rest = path.slice(depth);
  const section = depth === 0 && (rest[0] === 'host' || rest[0] === 'defaults') ? String(rest[0]) : null;
  const owner = depth > 0 ? `container ${containerLabel(data, path.slice(0, depth))}` : section;
  const local = section ? rest.slice(1) : rest;
  if (local.length === 2 && local[0] === 'config') return `config key "${String(local[1])}" in ${owner ?? 'the manifest'}`;
  if (depth > 0) return local.length === 0 ? (owner ?? '') : `"${dotted(local)}" in ${owner}`;
  return rest.length === 0 ? 'the manifest' : `"${dotted(rest)}"`;
}

/** Where a key sits, for "unknown key ... in X": `the manifest`, `host`, `container c1`, `idmap of container c1`. */
export function place(data: unknown, path: Path): string {
  const depth = containerDepth(path);
  const rest = path.slice(depth);
  const owner = depth > 0 ? `container ${containerLabel(data, path.slice(0, depth))}` : null;
  if (rest.length === 0) return owner ?? 'the manifest';
  return owner ? `${dotted(rest)} of ${owner}` : dotted(rest);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list (- item lines)',
  null: 'empty',
};

export function typeWords(types: string | string[]): string {
  const list = Array.isArray(types) ? types : [types];
  const words = list.map((t) => (t === 'boolean' && list.length > 1 ? 'true/false' : (TYPE_WORDS[t] ?? t)));
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

export function valueWords(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/**
 * Edit distance with adjacent transpositions counting as one edit ("imgae" → "image" is 1).
 * Three rolling rows, so a file full of unknown keys still checks in linear time.
 */
function distance(a: string, b: string): number {
  let before = new Uint32Array(b.length + 1);
  let prev = Uint32Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      row[j] = best;
    }
    [before, prev, row] = [prev, row, before];
  }
  return prev[b.length]!;
}

/** The candidate a typo most likely meant, if one is close enough. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { c: string; d: number } | null = null;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue; // the distance is at least that
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d <= limit && (best === null || d < best.d)) best = { c, d };
  }
  return best?.c ?? null;
}
