// The canonical form of a manifest (nestctl fmt): every mapping's keys in the order the manifest
// schema declares them, 2-space indentation, comments and blank lines kept. It works on the YAML
// document (not on the data), so what the author wrote beyond the key order survives: comments,
// quoting, flow or block style, anchors; a trailing comment keeps its column when the text
// before it still ends left of it.

import { type Document, isAlias, isMap, isScalar, isSeq, type Node, type Pair, parseDocument, visit } from 'yaml';
import schema from '../../../schemas/manifest.schema.json' with { type: 'json' };
import { NestctlError } from '../errors.js';

type Schema = {
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema | boolean;
  if?: Schema;
  then?: Schema;
  else?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
};

const ROOT = schema as unknown as Schema & { definitions: Record<string, Schema> };

function resolve(s: Schema): Schema {
  if (s.$ref === undefined) return s;
  const name = /^#\/definitions\/(.+)$/.exec(s.$ref)?.[1];
  const target = name === undefined ? undefined : ROOT.definitions[name];
  if (!target) throw new Error(`manifest schema: unresolvable $ref ${s.$ref}`);
  return resolve(target);
}

/** The schema and every branch that applies to the same value (if/then/else, allOf, anyOf, oneOf), refs resolved. */
function branches(s: Schema): Schema[] {
  const r = resolve(s);
  const more = [r.if, r.then, r.else, ...(r.allOf ?? []), ...(r.anyOf ?? []), ...(r.oneOf ?? [])].filter(
    (b): b is Schema => b !== undefined,
  );
  return [r, ...more.flatMap(branches)];
}

/** The property names the schemas declare, in declaration order (the first schema's first). */
export function declaredKeys(schemas: readonly Schema[]): string[] {
  const keys: string[] = [];
  for (const s of schemas.flatMap(branches)) for (const k of Object.keys(s.properties ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

function childOfKey(schemas: readonly Schema[], key: string): Schema[] {
  const all = schemas.flatMap(branches);
  const declared = all.flatMap((s) => (s.properties?.[key] ? [s.properties[key]] : []));
  if (declared.length > 0) return declared;
  return all.flatMap((s) => (typeof s.additionalProperties === 'object' ? [s.additionalProperties] : []));
}

const childOfItem = (schemas: readonly Schema[]): Schema[] =>
  schemas.flatMap(branches).flatMap((s) => (typeof s.items === 'object' ? [s.items] : []));

/** A key's name; a merge key (`<<`, a symbol once parsed with merge on) is `<<`. */
const keyName = (pair: Pair): string | null =>
  isScalar(pair.key) ? (typeof pair.key.value === 'symbol' ? '<<' : String(pair.key.value)) : null;

/** Reorders every mapping under node by the schemas, in place; a merge key (`<<`) stays first, keys the schema does not name keep their order after the declared ones. */
function reorder(node: unknown, schemas: readonly Schema[], top = false): void {
  if (schemas.length === 0 || isAlias(node)) return;
  if (isSeq(node)) {
    const items = childOfItem(schemas);
    for (const item of node.items) reorder(item, items);
    return;
  }
  if (!isMap(node)) return;
  const order = declaredKeys(schemas);
  const rank = (pair: Pair): number => {
    const k = keyName(pair);
    if (k === '<<') return -1;
    const i = k === null ? -1 : order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  const pairs = node.items as Pair[];
  const first = pairs[0];
  // A comment above the first key that heads the whole mapping (the file's header) stays on top.
  const head = first && isScalar(first.key) ? first.key.commentBefore : undefined;
  const sorted = pairs.map((p, i) => ({ p, i, r: rank(p) })).sort((a, b) => a.r - b.r || a.i - b.i);
  if (first && head !== undefined && sorted[0]!.p !== first && top) {
    (first.key as Node).commentBefore = undefined;
    const top = sorted[0]!.p.key as Node;
    top.commentBefore = top.commentBefore ? `${head}\n${top.commentBefore}` : head;
    // The blank line after the header, if any, goes with it; the moved key keeps no blank before it.
    top.spaceBefore = (first.key as Node).spaceBefore;
    (first.key as Node).spaceBefore = false;
  }
  const lead = sorted[0]?.p.key;
  if (!top && lead !== first?.key && isScalar(lead) && lead.commentBefore) {
    // Written above a key that is now first, a comment would be printed after a sequence's `-`
    // and read back above it: it goes above the mapping at once, where the second pass puts it.
    node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${lead.commentBefore}` : lead.commentBefore;
    lead.commentBefore = undefined;
  }
  node.items = sorted.map((s) => s.p);
  for (const pair of node.items as Pair[]) {
    const k = keyName(pair);
    if (k !== null && k !== '<<') reorder(pair.value, childOfKey(schemas, k));
  }
}

// Private marks around a trailing comment's source column, placed by the comment and read back
// from the text: no YAML text can hold a C0 control, so they cannot collide with content.
const MARK = '\u0001';
const MARKED = /^(.*?)#\u0001(\d+)\u0001(.*)$/;

const columnOf = (text: string, offset: number): number => offset - (text.lastIndexOf('\n', offset - 1) + 1);
const lineRest = (text: string, from: number): string => {
  const end = text.indexOf('\n', from);
  return text.slice(from, end < 0 ? text.length : end);
};
const marked = (col: number, comment: string): string => `${MARK}${col}${MARK}${comment}`;

/**
 * Notes each trailing comment's source column on it, to be restored after stringifying. The
 * parser files a comment after `key:` whose value is a block collection as the value's comment
 * before: it is moved back onto the key, so it stays on the key's line.
 */
function markTrailingComments(doc: Document.Parsed, text: string): void {
  visit(doc, {
    Pair(_key, pair) {
      const key = pair.key;
      const value = pair.value;
      if (!isScalar(key) || !key.range || !(isMap(value) || isSeq(value)) || value.flow || !value.commentBefore) return;
      const rest = lineRest(text, key.range[1]);
      const m = /^\s*:\s*#(.*)$/.exec(rest);
      if (!m) return;
      const [first, ...others] = value.commentBefore.split('\n');
      if (first === undefined || first !== m[1]) return;
      key.comment = marked(columnOf(text, key.range[1] + rest.indexOf('#')), first);
      value.commentBefore = others.length > 0 ? others.join('\n') : undefined;
    },
    Node(_key, node) {
      if (!node.comment || !node.range || node.comment.startsWith(MARK)) return;
      const rest = lineRest(text, node.range[1]);
      const hash = rest.indexOf('#');
      if (hash >= 0) node.comment = marked(columnOf(text, node.range[1] + hash), node.comment);
    },
  });
}

function placeTrailingComments(out: string): string {
  return out
    .split('\n')
    .map((line) => {
      const m = MARKED.exec(line);
      if (!m) return line;
      const before = m[1]!.replace(/\s+$/, '');
      const col = Number(m[2]);
      return `${before}${' '.repeat(before.length < col ? col - before.length : 1)}#${m[3]}`;
    })
    .join('\n');
}

const STRINGIFY = { indent: 2, indentSeq: true, lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false } as const;
const PARSE = { uniqueKeys: false, merge: true, prettyErrors: false } as const;

/**
 * The canonical text of a manifest that has passed validation. Throws a user NestctlError when the
 * result would not read back as the same data (nothing is written then).
 */
export function formatManifest(text: string): string {
  const doc = parseDocument(text, PARSE);
  if (doc.errors.length > 0) throw new NestctlError('user', `not valid YAML: ${doc.errors[0]!.message}`);
  markTrailingComments(doc, text);
  reorder(doc.contents, [ROOT], true);
  const refused = new NestctlError(
    'user',
    'cannot put this manifest in canonical form without changing what it means',
    'an alias (*name) would come before its anchor (&name) once keys are in schema order: move the anchor into an earlier key',
  );
  let out: string;
  try {
    out = placeTrailingComments(doc.toString(STRINGIFY));
  } catch {
    throw refused;
  }
  const back = parseDocument(out, PARSE);
  const same =
    back.errors.length === 0 && sameData(back.toJS({ maxAliasCount: -1 }), parseDocument(text, PARSE).toJS({ maxAliasCount: -1 }));
  if (!same) throw refused;
  return out;
}

function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameData(x, (b as unknown[])[i]));
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b as object).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameData((a as never)[k], (b as never)[k]));
}
