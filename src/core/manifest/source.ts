// The parsed YAML document kept next to the data, so any problem found in the plain data (by
// JSON path) can be pointed at the line and column the user wrote it on.

import {
  type Document,
  type ErrorCode,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  visit,
  type YAMLMap,
} from 'yaml';
import { type Diagnostic, sourceAt } from '../diagnostics.js';
import type { SourcePos } from './model.js';

export type Path = readonly (string | number)[];

export interface Source {
  doc: Document.Parsed;
  lines: LineCounter;
  /** The file's name, for the diagnostics that point into it. */
  file: string;
}

export function parseSource(text: string, file: string): Source {
  const lines = new LineCounter();
  // Duplicate keys are found by duplicateKeys() below, which can say where the first one is.
  // merge: `<<: *template` lets containers share a block, as in compose files.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, merge: true });
  return { doc, lines, file };
}

export function posAt(src: Source, offset: number): SourcePos {
  const { line, col } = src.lines.linePos(offset);
  return { line, col };
}

interface Located {
  key: Node | null;
  value: Node | null;
}

const keyText = (key: unknown): string | null => (isScalar(key) ? String(key.value) : null);

/** Each mapping's last pair per key, built once, so placing N findings in one mapping is O(N). */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
function pairAt(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items as Pair[]) {
      const k = keyText(pair.key);
      if (k !== null) index.set(k, pair); // the last of duplicate keys, because that is the value the data holds
    }
    pairIndex.set(map, index);
  }
  return index.get(key);
}

/**
 * The key and value nodes at path, or of the deepest ancestor that exists. Nodes reached through
 * an alias are the anchor's, written elsewhere: then the alias is what to point at.
 */
function locate(src: Source, path: Path): Located {
  let here: Located = { key: null, value: src.doc.contents };
  let alias: Located | null = null;
  for (const seg of path) {
    let coll = here.value;
    if (isAlias(coll)) {
      alias ??= here;
      coll = (coll.resolve(src.doc) as Node | undefined) ?? null;
    }
    if (isMap(coll)) {
      const pair = pairAt(coll, String(seg));
      if (!pair) break;
      here = { key: pair.key as Node, value: pair.value as Node | null };
    } else if (isSeq(coll)) {
      const item = coll.items[Number(seg)] as Node | undefined;
      if (!item) break;
      here = { key: null, value: item };
    } else {
      break;
    }
  }
  return alias ?? here;
}

function startOf(node: Node | null): number | null {
  return node?.range ? node.range[0] : null;
}

/** An empty value (`image:` with nothing after it) has no text of its own to point at. */
const isEmptyScalar = (node: Node | null): boolean => isScalar(node) && node.value === null && !node.source;

const DOCUMENT_START: SourcePos = { line: 1, col: 1 };

/** Where the value at path is written; its key when the value is empty. */
export function valuePos(src: Source, path: Path): SourcePos {
  const { key, value } = locate(src, path);
  const offset = isEmptyScalar(value) ? (startOf(key) ?? startOf(value)) : (startOf(value) ?? startOf(key));
  return offset === null ? DOCUMENT_START : posAt(src, offset);
}

/** Where the key of the value at path is written (the item itself inside a list). */
export function keyPos(src: Source, path: Path): SourcePos {
  const { key, value } = locate(src, path);
  const offset = startOf(key) ?? startOf(value);
  return offset === null ? DOCUMENT_START : posAt(src, offset);
}

/** The text of a plain scalar as the user wrote it, e.g. "1.10" for a value read as 1.1. */
export function scalarSource(src: Source, path: Path): string | null {
  const { value } = locate(src, path);
  return isScalar(value) && value.type === 'PLAIN' && typeof value.source === 'string' ? value.source : null;
}

/** Words for yaml's errors where its own would not help: [message or null to keep yaml's, hint]. */
const SYNTAX_WORDS: Partial<Record<ErrorCode, [string | null, string]>> = {
  TAB_AS_INDENT: [null, 'indent with spaces; YAML does not allow tabs for indentation'],
  BAD_INDENT: [null, 'check the indentation: the keys of one mapping and the items of one list must line up'],
  MULTIPLE_DOCS: ['the file holds more than one YAML document', 'a manifest is a single document; remove the extra "---"'],
  MULTILINE_IMPLICIT_KEY: [null, 'a key must fit on one line; is a ":" missing on the line before?'],
  BLOCK_AS_IMPLICIT_KEY: [null, 'a key must fit on one line; is a ":" missing on the line before?'],
  MISSING_CHAR: [null, 'a bracket or quote opened earlier is not closed'],
  BAD_DQ_ESCAPE: [null, 'inside double quotes write a backslash as "\\\\", or use single quotes'],
};

/** YAML's own errors (fatal: the data cannot be trusted) and warnings. */
export function yamlFindings(src: Source): Diagnostic[] {
  const all = [
    ...src.doc.errors.map((e) => ({ e, severity: 'error' as const })),
    // Unknown tags are refused, with words, by structureFindings (hostile.ts).
    ...src.doc.warnings.filter((e) => e.code !== 'TAG_RESOLVE_FAILED').map((e) => ({ e, severity: 'warning' as const })),
  ];
  return all.map(({ e, severity }) => {
    const [message, hint] = SYNTAX_WORDS[e.code] ?? [null, undefined];
    return {
      severity,
      fault: 'user',
      where: sourceAt(src.file, posAt(src, e.pos[0])),
      message: `YAML: ${message ?? e.message}`,
      ...(hint ? { hint } : {}),
    };
  });
}

/** Every repeated key of every mapping, reported at the repetition. */
export function duplicateKeys(src: Source): Diagnostic[] {
  const found: Diagnostic[] = [];
  visit(src.doc, {
    Map(_, map) {
      const first = new Map<string, number>();
      for (const pair of map.items) {
        const key = keyText(pair.key);
        const offset = startOf(pair.key as Node | null);
        if (key === null || offset === null) continue;
        const seen = first.get(key);
        if (seen === undefined) {
          first.set(key, offset);
          continue;
        }
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, posAt(src, offset)),
          message: `duplicate key "${key}" (first at line ${posAt(src, seen).line})`,
          hint: 'YAML keeps only the last value of a repeated key; remove one of them',
        });
      }
    },
  });
  return found;
}
